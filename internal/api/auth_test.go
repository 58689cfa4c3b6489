package api

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"roomcast/internal/user"
)

func TestRegisterLoginLogoutMe(t *testing.T) {
	e := newEnv(t)
	start := time.Now()
	r := e.request("POST", "/api/v1/auth/register", "", map[string]string{"name": "Alice_1", "password": testPass})
	expect(t, "register", r, http.StatusCreated, "")
	var reg loginAnswer
	r.decode(t, &reg)
	if reg.User.Name != "alice_1" || reg.User.Role != "user" || !reg.Created || len(reg.Token) < 43 {
		t.Fatalf("register = %s", r.body)
	}
	if d := reg.ExpiresAt.Sub(start); d < user.DefaultSessionTTL-time.Minute || d > user.DefaultSessionTTL+time.Minute {
		t.Fatalf("session expires in %s", d)
	}
	if strings.Contains(string(r.body), "password") || strings.Contains(string(r.body), "$2a$") {
		t.Fatalf("register answer leaks the password or its hash: %s", r.body)
	}

	expect(t, "register taken name", e.request("POST", "/api/v1/auth/register", "", map[string]string{"name": "ALICE_1", "password": testPass}),
		http.StatusConflict, "name_taken")

	r = e.request("GET", "/api/v1/me", reg.Token, nil)
	expect(t, "me", r, http.StatusOK, "")
	var me userView
	r.decode(t, &me)
	if me.ID != reg.User.ID || me.Name != "alice_1" {
		t.Fatalf("me = %s", r.body)
	}

	for _, tc := range []struct {
		name string
		body any
		code string
	}{
		{"wrong password", map[string]string{"name": "alice_1", "password": "wrong password"}, "invalid_credentials"},
		{"unknown user", map[string]string{"name": "nobody", "password": testPass}, "invalid_credentials"},
	} {
		expect(t, tc.name, e.request("POST", "/api/v1/auth/login", "", tc.body), http.StatusUnauthorized, tc.code)
	}
	expect(t, "login without password", e.request("POST", "/api/v1/auth/login", "", map[string]string{"name": "alice_1"}),
		http.StatusBadRequest, "validation_failed")

	r = e.request("POST", "/api/v1/auth/login", "stale-token-is-ignored", map[string]string{"name": "Alice_1", "password": testPass})
	expect(t, "login", r, http.StatusOK, "")
	var login loginAnswer
	r.decode(t, &login)
	if login.Token == reg.Token || login.User.ID != reg.User.ID || login.Created {
		t.Fatalf("login = %s", r.body)
	}

	expect(t, "logout", e.request("POST", "/api/v1/auth/logout", login.Token, nil), http.StatusNoContent, "")
	r = e.request("GET", "/api/v1/me", login.Token, nil)
	expect(t, "me after logout", r, http.StatusUnauthorized, "unauthorized")
	if !strings.HasPrefix(r.Header.Get("WWW-Authenticate"), "Bearer") {
		t.Errorf("401 without WWW-Authenticate: %v", r.Header)
	}
	expect(t, "logout again", e.request("POST", "/api/v1/auth/logout", login.Token, nil), http.StatusUnauthorized, "unauthorized")
	// The other session still works.
	expect(t, "me with the first session", e.request("GET", "/api/v1/me", reg.Token, nil), http.StatusOK, "")
	expect(t, "me anonymous", e.request("GET", "/api/v1/me", "", nil), http.StatusUnauthorized, "unauthorized")
	expect(t, "me with Basic auth", e.request("GET", "/api/v1/me", "", nil, "Authorization", "Basic YTpi"), http.StatusUnauthorized, "unauthorized")

	// ?token= counts only for WebSocket upgrades.
	expect(t, "me with ?token=", e.request("GET", "/api/v1/me?token="+reg.Token, "", nil), http.StatusUnauthorized, "unauthorized")
	req, _ := http.NewRequest("GET", "/x?token=abc", nil)
	req.Header.Set("Connection", "keep-alive, Upgrade")
	req.Header.Set("Upgrade", "websocket")
	if got := TokenFromRequest(req); got != "abc" {
		t.Errorf("TokenFromRequest(WebSocket upgrade) = %q", got)
	}
}

func TestRegisterValidation(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct {
		name, password, want string
	}{
		{"ab", testPass, "name"},
		{strings.Repeat("a", 33), testPass, "name"},
		{"white space", testPass, "name"},
		{"dash-name", testPass, "name"},
		{"", testPass, "name"},
		{"valid_name", "short", "password"},
		{"valid_name", strings.Repeat("x", 73), "password"},
	} {
		r := e.request("POST", "/api/v1/auth/register", "", map[string]string{"name": tc.name, "password": tc.password})
		expect(t, "register "+tc.name, r, http.StatusBadRequest, "validation_failed")
		if !strings.Contains(string(r.body), tc.want) {
			t.Errorf("register %q/%q: message does not name %s: %s", tc.name, tc.password, tc.want, r.body)
		}
	}
	expect(t, "72-byte password", e.request("POST", "/api/v1/auth/register", "", map[string]string{"name": "longpw", "password": strings.Repeat("x", 72)}),
		http.StatusCreated, "")
}

func TestWeChatLogin(t *testing.T) {
	e := newEnv(t)
	r := e.request("POST", "/api/v1/auth/wechat", "", map[string]string{"code": "ok-openid-1"})
	expect(t, "first wechat login", r, http.StatusOK, "")
	if strings.Contains(string(r.body), fakeSessionKey) || strings.Contains(string(r.body), "session_key") ||
		strings.Contains(string(r.body), "openid-1") {
		t.Fatalf("wechat login leaks WeChat data: %s", r.body)
	}
	var first loginAnswer
	r.decode(t, &first)
	if !first.Created || !first.User.WeChat || first.User.Role != "user" || first.Token == "" {
		t.Fatalf("first wechat login = %s", r.body)
	}
	expect(t, "me", e.request("GET", "/api/v1/me", first.Token, nil), http.StatusOK, "")

	r = e.request("POST", "/api/v1/auth/wechat", "", map[string]string{"code": "ok-openid-1"})
	expect(t, "second wechat login", r, http.StatusOK, "")
	var second loginAnswer
	r.decode(t, &second)
	if second.Created || second.User.ID != first.User.ID || second.Token == first.Token {
		t.Fatalf("second wechat login = %s", r.body)
	}

	for _, tc := range []struct {
		code   string
		status int
		want   string
	}{
		{"err-40029", http.StatusBadRequest, "wechat_invalid_code"},
		{"err-40163", http.StatusBadRequest, "wechat_code_used"},
		{"err-45011", http.StatusTooManyRequests, "wechat_rate_limited"},
		{"err-40226", http.StatusForbidden, "wechat_high_risk"},
		{"err--1", http.StatusServiceUnavailable, "wechat_busy"},
		{"err-40013", http.StatusBadGateway, "wechat_unavailable"},
		{"http-500", http.StatusBadGateway, "wechat_unavailable"},
		{strings.Repeat("c", 200), http.StatusBadRequest, "wechat_invalid_code"},
	} {
		r := e.request("POST", "/api/v1/auth/wechat", "", map[string]string{"code": tc.code})
		expect(t, "wechat "+tc.code[:min(len(tc.code), 12)], r, tc.status, tc.want)
		if strings.Contains(string(r.body), "test-app-secret") {
			t.Fatalf("error leaks the app secret: %s", r.body)
		}
		if (tc.status == http.StatusTooManyRequests || tc.status == http.StatusServiceUnavailable) && r.Header.Get("Retry-After") == "" {
			t.Errorf("%s without Retry-After", tc.want)
		}
	}
	expect(t, "wechat without code", e.request("POST", "/api/v1/auth/wechat", "", map[string]string{}), http.StatusBadRequest, "validation_failed")

	// A banned WeChat user cannot log in.
	admin, _ := e.admin("root")
	expect(t, "ban", e.request("POST", "/api/v1/users/"+first.User.ID+"/ban", admin, nil), http.StatusOK, "")
	expect(t, "banned wechat login", e.request("POST", "/api/v1/auth/wechat", "", map[string]string{"code": "ok-openid-1"}), http.StatusForbidden, "banned")

	// Without WeChat configured.
	none := newEnv(t, func(_ *Options, c *user.Config) { c.WeChat = nil })
	expect(t, "wechat not configured", none.request("POST", "/api/v1/auth/wechat", "", map[string]string{"code": "ok-x"}),
		http.StatusNotImplemented, "wechat_not_configured")
}
