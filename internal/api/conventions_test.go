package api

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"roomcast/internal/user"
)

func TestRateLimitLogin(t *testing.T) {
	e := newEnv(t, func(o *Options, _ *user.Config) {
		o.LoginLimit = RateLimit{Burst: 2, Every: time.Hour}
		o.RegisterLimit = RateLimit{Burst: 1, Every: time.Hour}
	})
	e.register("alice")
	expect(t, "second register", e.request("POST", "/api/v1/auth/register", "", map[string]string{"name": "bob", "password": testPass}),
		http.StatusTooManyRequests, "rate_limited")

	creds := map[string]string{"name": "alice", "password": "wrong password"}
	for i := range 2 {
		expect(t, "login "+strconv.Itoa(i), e.request("POST", "/api/v1/auth/login", "", creds), http.StatusUnauthorized, "invalid_credentials")
	}
	r := e.request("POST", "/api/v1/auth/login", "", map[string]string{"name": "alice", "password": testPass})
	expect(t, "third login", r, http.StatusTooManyRequests, "rate_limited")
	if s, err := strconv.Atoi(r.Header.Get("Retry-After")); err != nil || s < 3500 || s > 3600 {
		t.Errorf("Retry-After = %q", r.Header.Get("Retry-After"))
	}
	// WeChat logins share the login limit.
	expect(t, "wechat", e.request("POST", "/api/v1/auth/wechat", "", map[string]string{"code": "ok-x"}), http.StatusTooManyRequests, "rate_limited")
	// Other endpoints are not limited.
	expect(t, "rooms", e.request("GET", "/api/v1/rooms", "", nil), http.StatusOK, "")
}

func TestLimiter(t *testing.T) {
	now := time.Unix(1000, 0)
	l, err := newLimiter(RateLimit{Burst: 2, Every: 10 * time.Second}, DefaultLoginLimit, func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		if _, ok := l.Allow("a"); !ok {
			t.Fatalf("request %d refused", i)
		}
	}
	if wait, ok := l.Allow("a"); ok || wait != 10*time.Second {
		t.Fatalf("third request: %v %v", wait, ok)
	}
	if _, ok := l.Allow("b"); !ok {
		t.Fatal("another key shares the bucket")
	}
	now = now.Add(4 * time.Second)
	if wait, ok := l.Allow("a"); ok || wait != 6*time.Second {
		t.Fatalf("after 4s: %v %v", wait, ok)
	}
	now = now.Add(6 * time.Second)
	if _, ok := l.Allow("a"); !ok {
		t.Fatal("no token after 10s")
	}
	// The map stays bounded.
	for i := range maxBuckets + 10 {
		l.Allow(strconv.Itoa(i))
		if i%1000 == 0 {
			now = now.Add(time.Millisecond)
		}
	}
	if n := l.Keys(); n > maxBuckets {
		t.Fatalf("%d buckets", n)
	}
	if l, err := newLimiter(RateLimit{Burst: -1}, DefaultLoginLimit, time.Now); l != nil || err != nil {
		t.Fatalf("disabled limiter = %v, %v", l, err)
	}
	if _, err := newLimiter(RateLimit{Burst: 1}, DefaultLoginLimit, time.Now); err == nil {
		t.Fatal("zero interval accepted")
	}
}

func TestClientIP(t *testing.T) {
	a := &API{}
	r, _ := http.NewRequest("GET", "/", nil)
	r.RemoteAddr = "192.0.2.1:1234"
	r.Header.Set("X-Forwarded-For", "203.0.113.9, 198.51.100.7")
	if ip := a.clientIP(r); ip != "192.0.2.1" {
		t.Errorf("without TrustProxy: %s", ip)
	}
	a.proxy = true
	if ip := a.clientIP(r); ip != "198.51.100.7" {
		t.Errorf("with TrustProxy: %s", ip)
	}
}

// unsized hides a reader's length so the request is sent chunked.
type unsized struct{ io.Reader }

func TestRequestBodies(t *testing.T) {
	e := newEnv(t)
	alice, _ := e.register("alice")
	big := `{"title":"` + strings.Repeat("x", 70<<10) + `"}`
	expect(t, "body too large", e.request("POST", "/api/v1/rooms", alice, big), http.StatusRequestEntityTooLarge, "body_too_large")

	req, err := http.NewRequestWithContext(t.Context(), "POST", e.srv.URL+"/api/v1/rooms", unsized{strings.NewReader(big)})
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+alice)
	expect(t, "chunked body too large", e.send(req), http.StatusRequestEntityTooLarge, "body_too_large")

	for _, tc := range []struct {
		name, body string
		hdr        []string
		status     int
		code       string
	}{
		{"unknown field", `{"title":"ok","colour":"red"}`, nil, http.StatusBadRequest, "invalid_request"},
		{"malformed", `{"title":`, nil, http.StatusBadRequest, "invalid_request"},
		{"not an object", `["title"]`, nil, http.StatusBadRequest, "invalid_request"},
		{"two objects", `{"title":"a"}{"title":"b"}`, nil, http.StatusBadRequest, "invalid_request"},
		{"empty", ``, nil, http.StatusBadRequest, "invalid_request"},
		{"wrong type", `{"title":"a","private":"yes"}`, nil, http.StatusBadRequest, "invalid_request"},
		{"form", `title=a`, []string{"Content-Type", "application/x-www-form-urlencoded"}, http.StatusUnsupportedMediaType, "unsupported_media_type"},
		{"json with charset", `{"title":"a"}`, []string{"Content-Type", "application/json; charset=utf-8"}, http.StatusCreated, ""},
	} {
		r := e.request("POST", "/api/v1/rooms", alice, tc.body, tc.hdr...)
		expect(t, tc.name, r, tc.status, tc.code)
		if tc.name == "unknown field" && !strings.Contains(string(r.body), "colour") {
			t.Errorf("unknown field message does not name it: %s", r.body)
		}
	}
}

func TestRoutingErrors(t *testing.T) {
	e := newEnv(t)
	expect(t, "unknown path", e.request("GET", "/api/v1/nope", "", nil), http.StatusNotFound, "not_found")
	expect(t, "unknown version", e.request("GET", "/api/v2/rooms", "", nil), http.StatusNotFound, "not_found")
	r := e.request("PUT", "/api/v1/rooms", "", nil)
	expect(t, "wrong method", r, http.StatusMethodNotAllowed, "method_not_allowed")
	if got := r.Header.Get("Allow"); got != "GET, OPTIONS, POST" {
		t.Errorf("Allow = %q", got)
	}
	r = e.request("OPTIONS", "/api/v1/rooms/x", "", nil)
	if r.StatusCode != http.StatusNoContent || r.Header.Get("Allow") != "DELETE, GET, OPTIONS, PATCH" {
		t.Errorf("OPTIONS: %s, Allow %q", r.Status, r.Header.Get("Allow"))
	}
}

func TestCORS(t *testing.T) {
	e := newEnv(t, func(o *Options, _ *user.Config) { o.CORSOrigins = []string{"https://App.example.com"} })

	r := e.request("GET", "/api/v1/rooms", "", nil, "Origin", "https://app.example.com")
	if r.Header.Get("Access-Control-Allow-Origin") != "https://app.example.com" || !strings.Contains(strings.Join(r.Header.Values("Vary"), ","), "Origin") {
		t.Errorf("allowed origin: %v", r.Header)
	}
	r = e.request("GET", "/api/v1/rooms", "", nil, "Origin", "https://evil.example.com")
	if r.StatusCode != http.StatusOK || r.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("other origin: %s %v", r.Status, r.Header)
	}

	r = e.request("OPTIONS", "/api/v1/rooms", "", nil,
		"Origin", "https://app.example.com", "Access-Control-Request-Method", "POST", "Access-Control-Request-Headers", "authorization, content-type")
	if r.StatusCode != http.StatusNoContent || r.Header.Get("Access-Control-Allow-Origin") != "https://app.example.com" ||
		!strings.Contains(r.Header.Get("Access-Control-Allow-Methods"), "PATCH") ||
		!strings.Contains(r.Header.Get("Access-Control-Allow-Headers"), "Authorization") {
		t.Errorf("preflight: %s %v", r.Status, r.Header)
	}
	r = e.request("OPTIONS", "/api/v1/rooms", "", nil, "Origin", "https://evil.example.com", "Access-Control-Request-Method", "POST")
	expect(t, "preflight from another origin", r, http.StatusForbidden, "forbidden")
	if r.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("refused preflight allows the origin: %v", r.Header)
	}

	wild := newEnv(t, func(o *Options, _ *user.Config) { o.CORSOrigins = []string{"*"} })
	r = wild.request("GET", "/api/v1/rooms", "", nil, "Origin", "http://localhost:5173")
	if r.Header.Get("Access-Control-Allow-Origin") != "http://localhost:5173" {
		t.Errorf("wildcard: %v", r.Header)
	}
}

func TestNewOptions(t *testing.T) {
	e := newEnv(t)
	base := Options{Hub: e.hub, Users: e.users, Rooms: e.rooms}
	for name, tune := range map[string]func(*Options){
		"no hub":          func(o *Options) { o.Hub = nil },
		"no users":        func(o *Options) { o.Users = nil },
		"no rooms":        func(o *Options) { o.Rooms = nil },
		"bad origin":      func(o *Options) { o.CORSOrigins = []string{"example.com"} },
		"origin w/ path":  func(o *Options) { o.CORSOrigins = []string{"https://example.com/app"} },
		"negative body":   func(o *Options) { o.MaxBodyBytes = -1 },
		"limit w/o every": func(o *Options) { o.LoginLimit = RateLimit{Burst: 3} },
	} {
		o := base
		tune(&o)
		if _, err := New(o); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := New(base); err != nil {
		t.Fatal(err)
	}
}

func TestWriteAccessError(t *testing.T) {
	e := newEnv(t)
	alice, _ := e.register("alice")
	priv := e.createRoom(alice, "private", true)
	for _, tc := range []struct {
		stream string
		status int
		code   string
	}{
		{"s_none", http.StatusNotFound, "stream_not_found"},
		{"bad name", http.StatusNotFound, "stream_not_found"},
		{priv.Stream, http.StatusForbidden, "invalid_signature"},
	} {
		err := e.rooms.AuthorizePlay(t.Context(), tc.stream, nil)
		w := httptest.NewRecorder()
		WriteAccessError(w, err)
		if w.Code != tc.status || !strings.Contains(w.Body.String(), `"code":"`+tc.code+`"`) {
			t.Errorf("%s: %d %s", tc.stream, w.Code, w.Body)
		}
	}
	w := httptest.NewRecorder()
	WriteAccessError(w, io.ErrUnexpectedEOF)
	if w.Code != http.StatusInternalServerError {
		t.Errorf("store failure: %d", w.Code)
	}
}
