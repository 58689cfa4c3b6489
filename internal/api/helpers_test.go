package api

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"roomcast/internal/auth"
	"roomcast/internal/hub"
	"roomcast/internal/room"
	"roomcast/internal/store"
	"roomcast/internal/store/sqlite"
	"roomcast/internal/user"
)

// Keys and settings of the test server.
const (
	testPushKey = "test-push-key"
	testPlayKey = "test-play-key"
	minCost     = 4 // bcrypt.MinCost: tests hash fast
	testPass    = "password123"
)

// env is a running API over a real SQLite store and a real hub.
type env struct {
	t      *testing.T
	srv    *httptest.Server
	db     *sqlite.DB
	hub    *hub.Hub
	users  *user.Service
	rooms  *room.Service
	wechat *fakeWeChat
}

// newEnv starts a server. Rate limits are off unless tune sets them.
func newEnv(t *testing.T, tune ...func(*Options, *user.Config)) *env {
	t.Helper()
	log := slog.New(slog.DiscardHandler)
	db, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), sqlite.FileName), log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	h := hub.New(hub.Config{ReconnectGrace: -1}, log)
	t.Cleanup(h.Close)

	e := &env{t: t, db: db, hub: h, wechat: newFakeWeChat(t)}
	ucfg := user.Config{
		Hasher: auth.PasswordHasher{Cost: minCost},
		WeChat: &auth.WeChat{BaseURL: e.wechat.srv.URL, AppID: "wxtestappid", Secret: "test-app-secret"},
	}
	opts := Options{
		Hub:           h,
		Log:           log,
		Replays:       db,
		LoginLimit:    RateLimit{Burst: -1},
		RegisterLimit: RateLimit{Burst: -1},
	}
	for _, f := range tune {
		f(&opts, &ucfg)
	}
	if e.users, err = user.New(db, ucfg); err != nil {
		t.Fatal(err)
	}
	e.rooms, err = room.New(db, room.Config{
		PushKey: testPushKey, PlayKey: testPlayKey,
		PublicURL: "http://live.test:8080", PublicRTMP: "rtmp://live.test:1935",
		Viewers: HubViewers(h),
	})
	if err != nil {
		t.Fatal(err)
	}
	opts.Users, opts.Rooms = e.users, e.rooms
	a, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	a.Register(mux)
	e.srv = httptest.NewServer(mux)
	t.Cleanup(e.srv.Close)
	return e
}

// resp is a response with its body read.
type resp struct {
	*http.Response
	body []byte
}

// errCode returns the code of a JSON error body, or "".
func (r resp) errCode() string {
	var b struct {
		Error struct{ Code, Message string }
	}
	_ = json.Unmarshal(r.body, &b)
	return b.Error.Code
}

// decode unmarshals the body into v.
func (r resp) decode(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("%s: decoding %s: %v", r.Status, r.body, err)
	}
}

// request sends a request. body is nil, a string (sent as it is) or a
// value marshalled to JSON. hdr holds extra headers as name, value pairs.
func (e *env) request(method, path, token string, body any, hdr ...string) resp {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(e.t.Context(), method, e.srv.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	return e.send(req)
}

func (e *env) send(req *http.Request) resp {
	e.t.Helper()
	res, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp{res, b}
}

// expect checks a response's status and, if code is set, its error code.
func expect(t *testing.T, what string, r resp, status int, code string) {
	t.Helper()
	if r.StatusCode != status || (code != "" && r.errCode() != code) {
		t.Fatalf("%s: %s %s, want %d %s", what, r.Status, r.body, status, code)
	}
	if code != "" && !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("%s: error with Content-Type %q", what, r.Header.Get("Content-Type"))
	}
}

// loginAnswer is the body of register and login.
type loginAnswer struct {
	Token     string    `json:"token"`
	ExpiresAt time.Time `json:"expires_at"`
	User      userView  `json:"user"`
	Created   bool      `json:"created"`
}

// register creates a user through the API and returns its token and id.
func (e *env) register(name string) (token, id string) {
	e.t.Helper()
	r := e.request("POST", "/api/v1/auth/register", "", map[string]string{"name": name, "password": testPass})
	expect(e.t, "register "+name, r, http.StatusCreated, "")
	var l loginAnswer
	r.decode(e.t, &l)
	return l.Token, l.User.ID
}

// admin creates an admin through the service (as the CLI does) and logs
// it in through the API.
func (e *env) admin(name string) (token, id string) {
	e.t.Helper()
	if _, err := e.users.Create(e.t.Context(), name, testPass, store.RoleAdmin); err != nil {
		e.t.Fatal(err)
	}
	r := e.request("POST", "/api/v1/auth/login", "", map[string]string{"name": name, "password": testPass})
	expect(e.t, "admin login", r, http.StatusOK, "")
	var l loginAnswer
	r.decode(e.t, &l)
	return l.Token, l.User.ID
}

// roomAnswer is the JSON of a room as the tests read it.
type roomAnswer struct {
	ID          string       `json:"id"`
	Title       string       `json:"title"`
	Description string       `json:"description"`
	Private     bool         `json:"private"`
	Record      bool         `json:"record"`
	Stream      string       `json:"stream"`
	Status      string       `json:"status"`
	LiveSince   *time.Time   `json:"live_since"`
	Viewers     int          `json:"viewers"`
	Likes       int64        `json:"likes"`
	Owner       ownerView    `json:"owner"`
	Play        *playView    `json:"play"`
	Members     []memberView `json:"members"`
}

// createRoom creates a room through the API.
func (e *env) createRoom(token, title string, private bool) roomAnswer {
	e.t.Helper()
	r := e.request("POST", "/api/v1/rooms", token, map[string]any{"title": title, "private": private})
	expect(e.t, "create room", r, http.StatusCreated, "")
	var ra roomAnswer
	r.decode(e.t, &ra)
	return ra
}

// fakeWeChat is a code2session server: code "ok-OPENID" logs OPENID in,
// "err-N" answers errcode N, "http-500" answers HTTP 500.
type fakeWeChat struct {
	srv *httptest.Server
}

// fakeSessionKey is the session_key the fake returns; it must never reach
// a client.
const fakeSessionKey = "SECRET-SESSION-KEY-xyz"

func newFakeWeChat(t *testing.T) *fakeWeChat {
	f := &fakeWeChat{}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if r.URL.Path != "/sns/jscode2session" || q.Get("appid") != "wxtestappid" || q.Get("secret") != "test-app-secret" ||
			q.Get("grant_type") != "authorization_code" {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		code := q.Get("js_code")
		switch {
		case strings.HasPrefix(code, "ok-"):
			_ = json.NewEncoder(w).Encode(map[string]string{"openid": strings.TrimPrefix(code, "ok-"), "session_key": fakeSessionKey})
		case strings.HasPrefix(code, "err-"):
			_, _ = io.WriteString(w, `{"errcode":`+strings.TrimPrefix(code, "err-")+`,"errmsg":"test error"}`)
		default:
			http.Error(w, "boom", http.StatusInternalServerError)
		}
	}))
	t.Cleanup(f.srv.Close)
	return f
}
