package auth

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

const (
	testAppID  = "wx0123456789abcdef"
	testSecret = "s3cr3t-app-secret"
	testKey    = "SESSION+KEY/abc=="
)

// fakeWeChat is an httptest code2session server. It fails the test when a
// request is not what Code2Session must send, then runs respond.
func fakeWeChat(t *testing.T, respond func(w http.ResponseWriter, r *http.Request)) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		q := r.URL.Query()
		want := map[string]string{
			"appid":      testAppID,
			"secret":     testSecret,
			"js_code":    q.Get("js_code"), // checked per case below
			"grant_type": "authorization_code",
		}
		if r.Method != http.MethodGet || r.URL.Path != "/sns/jscode2session" {
			t.Errorf("request %s %s, want GET /sns/jscode2session", r.Method, r.URL.Path)
		}
		if len(q) != len(want) {
			t.Errorf("query %v has %d parameters, want %d", q, len(q), len(want))
		}
		for k, v := range want {
			if got := q[k]; len(got) != 1 || got[0] != v {
				t.Errorf("query %s = %q, want %q", k, got, v)
			}
		}
		respond(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv, &calls
}

func writeJSON(body string) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain") // as WeChat really answers
		fmt.Fprint(w, body)
	}
}

func TestCode2Session(t *testing.T) {
	const code = "0a1B2c3D4e+/=&?x" // characters that need escaping
	tests := []struct {
		name     string
		respond  func(http.ResponseWriter, *http.Request)
		want     *WeChatSession
		wantErrs []error // all must match
		wantCode int     // WeChatError.Code, if any
	}{
		{
			name:    "success with unionid",
			respond: writeJSON(`{"openid":"oABC","session_key":"` + testKey + `","unionid":"uXYZ"}`),
			want:    &WeChatSession{OpenID: "oABC", UnionID: "uXYZ", SessionKey: testKey},
		},
		{
			name:    "success without unionid, errcode 0",
			respond: writeJSON(`{"openid":"oABC","session_key":"` + testKey + `","errcode":0,"errmsg":"ok"}`),
			want:    &WeChatSession{OpenID: "oABC", SessionKey: testKey},
		},
		{"invalid code", writeJSON(`{"errcode":40029,"errmsg":"invalid code, rid: 1"}`), nil, []error{ErrWeChatInvalidCode, ErrWeChat}, 40029},
		{"code used", writeJSON(`{"errcode":40163,"errmsg":"code been used, rid: 2"}`), nil, []error{ErrWeChatCodeUsed, ErrWeChat}, 40163},
		{"rate limited", writeJSON(`{"errcode":45011,"errmsg":"api minute-quota reach limit"}`), nil, []error{ErrWeChatRateLimited, ErrWeChat}, 45011},
		{"high risk", writeJSON(`{"errcode":40226,"errmsg":"code blocked"}`), nil, []error{ErrWeChatHighRisk, ErrWeChat}, 40226},
		{"busy", writeJSON(`{"errcode":-1,"errmsg":"system error"}`), nil, []error{ErrWeChatBusy, ErrWeChat}, -1},
		{"other errcode", writeJSON(`{"errcode":40013,"errmsg":"invalid appid"}`), nil, []error{ErrWeChat}, 40013},
		{"bad JSON", writeJSON(`{"openid":`), nil, []error{ErrWeChatUnavailable}, 0},
		{"HTML error page", writeJSON(`<html>502</html>`), nil, []error{ErrWeChatUnavailable}, 0},
		{"empty openid", writeJSON(`{"session_key":"k"}`), nil, []error{ErrWeChatUnavailable}, 0},
		{
			name: "HTTP 500",
			respond: func(w http.ResponseWriter, r *http.Request) {
				http.Error(w, `{"openid":"oABC"}`, http.StatusInternalServerError)
			},
			wantErrs: []error{ErrWeChatUnavailable},
		},
	}
	sentinels := []error{ErrWeChatNotConfigured, ErrWeChatInvalidCode, ErrWeChatCodeUsed,
		ErrWeChatRateLimited, ErrWeChatHighRisk, ErrWeChatBusy, ErrWeChat, ErrWeChatUnavailable}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, calls := fakeWeChat(t, func(w http.ResponseWriter, r *http.Request) {
				if got := r.URL.Query().Get("js_code"); got != code {
					t.Errorf("js_code = %q, want %q", got, code)
				}
				tt.respond(w, r)
			})
			wc := &WeChat{BaseURL: srv.URL, AppID: testAppID, Secret: testSecret, HTTP: srv.Client()}
			sess, err := wc.Code2Session(context.Background(), code)
			if calls.Load() != 1 {
				t.Fatalf("server got %d calls, want 1", calls.Load())
			}
			if tt.want != nil {
				if err != nil {
					t.Fatalf("Code2Session: %v", err)
				}
				if *sess != *tt.want {
					t.Fatalf("session = %#v (key %q), want %#v", sess, sess.SessionKey, tt.want)
				}
				return
			}
			if sess != nil {
				t.Fatalf("session %v returned with error %v", sess, err)
			}
			for _, s := range sentinels {
				want := false
				for _, w := range tt.wantErrs {
					want = want || w == s
				}
				if errors.Is(err, s) != want {
					t.Errorf("errors.Is(%v, %v) = %v, want %v", err, s, !want, want)
				}
			}
			var we *WeChatError
			if errors.As(err, &we) != (tt.wantCode != 0) || tt.wantCode != 0 && we.Code != tt.wantCode {
				t.Errorf("error %v: WeChatError code %v, want %d", err, we, tt.wantCode)
			}
			if strings.Contains(err.Error(), testSecret) {
				t.Errorf("error %q leaks the app secret", err)
			}
		})
	}
}

func TestCode2SessionRefusesLocally(t *testing.T) {
	srv, calls := fakeWeChat(t, writeJSON(`{"openid":"o"}`))
	tests := []struct {
		name string
		wc   WeChat
		code string
		want error
	}{
		{"empty code", WeChat{BaseURL: srv.URL, AppID: testAppID, Secret: testSecret}, "", ErrWeChatInvalidCode},
		{"code too long", WeChat{BaseURL: srv.URL, AppID: testAppID, Secret: testSecret}, strings.Repeat("c", MaxWeChatCodeLen+1), ErrWeChatInvalidCode},
		{"no appid", WeChat{BaseURL: srv.URL, Secret: testSecret}, "code", ErrWeChatNotConfigured},
		{"no secret", WeChat{BaseURL: srv.URL, AppID: testAppID}, "code", ErrWeChatNotConfigured},
		{"relative BaseURL", WeChat{BaseURL: "api.weixin.qq.com", AppID: testAppID, Secret: testSecret}, "code", ErrWeChatNotConfigured},
		{"bad BaseURL scheme", WeChat{BaseURL: "ftp://x", AppID: testAppID, Secret: testSecret}, "code", ErrWeChatNotConfigured},
		{"unparsable BaseURL", WeChat{BaseURL: "http://[::1", AppID: testAppID, Secret: testSecret}, "code", ErrWeChatNotConfigured},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sess, err := tt.wc.Code2Session(context.Background(), tt.code)
			if sess != nil || !errors.Is(err, tt.want) {
				t.Fatalf("Code2Session = %v, %v; want %v", sess, err, tt.want)
			}
			if errors.Is(err, ErrWeChat) {
				t.Errorf("local error %v matches ErrWeChat", err)
			}
		})
	}
	if n := calls.Load(); n != 0 {
		t.Fatalf("server got %d calls, want 0", n)
	}
	// The longest allowed code does reach the server.
	wc := WeChat{BaseURL: srv.URL + "/", AppID: testAppID, Secret: testSecret}
	if _, err := wc.Code2Session(context.Background(), strings.Repeat("c", MaxWeChatCodeLen)); err != nil {
		t.Fatalf("code of %d bytes: %v", MaxWeChatCodeLen, err)
	}
}

func TestCode2SessionTimeout(t *testing.T) {
	release := make(chan struct{})
	srv, _ := fakeWeChat(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	})
	defer close(release) // before srv.Close (registered with t.Cleanup) waits for the handler
	wc := &WeChat{BaseURL: srv.URL, AppID: testAppID, Secret: testSecret, HTTP: srv.Client()}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := wc.Code2Session(ctx, "code")
	if !errors.Is(err, ErrWeChatUnavailable) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Code2Session = %v, want ErrWeChatUnavailable and context.DeadlineExceeded", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("returned after %v", d)
	}
	if strings.Contains(err.Error(), testSecret) || strings.Contains(err.Error(), "secret=") {
		t.Fatalf("error %q leaks the request URL", err)
	}
}

func TestCode2SessionUnreachable(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	base := srv.URL
	srv.Close()                                                        // nothing listens there any more
	wc := &WeChat{BaseURL: base, AppID: testAppID, Secret: testSecret} // nil HTTP: default client
	_, err := wc.Code2Session(context.Background(), "code")
	if !errors.Is(err, ErrWeChatUnavailable) {
		t.Fatalf("Code2Session = %v, want ErrWeChatUnavailable", err)
	}
	if strings.Contains(err.Error(), testSecret) {
		t.Fatalf("error %q leaks the app secret", err)
	}
}

func TestWeChatRedaction(t *testing.T) {
	sess := WeChatSession{OpenID: "oABC", UnionID: "uXYZ", SessionKey: testKey}
	wc := WeChat{BaseURL: DefaultWeChatBaseURL, AppID: testAppID, Secret: testSecret}

	var logs bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logs, nil))
	log.Info("login", "session", sess, "wechat", wc)
	js, err := json.Marshal(sess)
	if err != nil {
		t.Fatal(err)
	}
	outputs := map[string]string{
		"%v":   fmt.Sprintf("%v %v", sess, wc),
		"%+v":  fmt.Sprintf("%+v %+v", &sess, &wc),
		"%#v":  fmt.Sprintf("%#v %#v", sess, wc),
		"%s":   fmt.Sprintf("%s %s", sess, wc),
		"slog": logs.String(),
		"json": string(js),
	}
	for name, out := range outputs {
		if strings.Contains(out, testKey) || strings.Contains(out, testSecret) {
			t.Errorf("%s output leaks a secret: %s", name, out)
		}
		if !strings.Contains(out, "oABC") {
			t.Errorf("%s output lacks the openid: %s", name, out)
		}
	}
}

func TestWeChatErrorMessage(t *testing.T) {
	long := strings.Repeat("错", 200) // 600 bytes
	e := &WeChatError{Code: 40029, Message: truncate(long, maxWeChatErrMsg)}
	if !strings.HasPrefix(e.Error(), "auth: wechat code2session: errcode 40029: ") {
		t.Errorf("Error() = %q", e.Error())
	}
	if !strings.HasSuffix(e.Message, "错…") || len(e.Message) > maxWeChatErrMsg+len("…") {
		t.Errorf("truncated message %q is not cut at a rune boundary", e.Message)
	}
}
