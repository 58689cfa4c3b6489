package user

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"roomcast/internal/auth"
	"roomcast/internal/store"
	"roomcast/internal/store/sqlite"
)

// minCost is bcrypt.MinCost: tests hash fast.
const minCost = 4

// clock is a settable test clock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// fakeWeChat answers Code2Session from a table of codes.
type fakeWeChat map[string]*auth.WeChatSession

func (f fakeWeChat) Code2Session(_ context.Context, code string) (*auth.WeChatSession, error) {
	if s, ok := f[code]; ok {
		return s, nil
	}
	return nil, &auth.WeChatError{Code: auth.WeChatCodeInvalidCode, Message: "invalid code"}
}

func newService(t *testing.T, wc WeChatClient) (*Service, *sqlite.DB, *clock) {
	t.Helper()
	db, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), sqlite.FileName), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	c := &clock{now: time.Now().UTC()}
	s, err := New(db, Config{SessionTTL: time.Hour, Hasher: auth.PasswordHasher{Cost: minCost}, WeChat: wc, Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	return s, db, c
}

func TestRegisterLoginAuthenticate(t *testing.T) {
	s, _, c := newService(t, nil)
	ctx := t.Context()
	reg, err := s.Register(ctx, "Alice_1", "correct horse")
	if err != nil {
		t.Fatal(err)
	}
	if reg.User.Name != "alice_1" || reg.User.Role != store.RoleUser || !reg.Created || len(reg.Token) < 22 {
		t.Fatalf("Register = %+v, user %+v", reg, reg.User)
	}
	if _, err := s.Register(ctx, "ALICE_1", "another password"); !errors.Is(err, ErrNameTaken) {
		t.Fatalf("second Register: %v, want ErrNameTaken", err)
	}
	for _, tc := range []struct{ name, pw string }{
		{"alice_1", "wrong password"},
		{"nobody", "correct horse"},
		{"x", "correct horse"}, // invalid name: same answer
		{"alice_1", strings.Repeat("a", 100)},
	} {
		if _, err := s.Login(ctx, tc.name, tc.pw); !errors.Is(err, ErrInvalidCredentials) {
			t.Errorf("Login(%q, %q): %v, want ErrInvalidCredentials", tc.name, tc.pw, err)
		}
	}
	l, err := s.Login(ctx, "ALICE_1", "correct horse")
	if err != nil {
		t.Fatal(err)
	}
	if l.Token == reg.Token || l.Created {
		t.Fatalf("Login = %+v", l)
	}
	u, err := s.Authenticate(ctx, l.Token)
	if err != nil || u.ID != reg.User.ID {
		t.Fatalf("Authenticate = %v, %v", u, err)
	}
	for _, tok := range []string{"", "nonsense", strings.Repeat("x", 1000)} {
		if _, err := s.Authenticate(ctx, tok); !errors.Is(err, ErrUnauthenticated) {
			t.Errorf("Authenticate(%.10q): %v, want ErrUnauthenticated", tok, err)
		}
	}
	if err := s.Logout(ctx, l.Token); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Authenticate(ctx, l.Token); !errors.Is(err, ErrUnauthenticated) {
		t.Fatalf("after Logout: %v", err)
	}
	if err := s.Logout(ctx, l.Token); err != nil {
		t.Fatalf("second Logout: %v", err)
	}
	// The registration's session expires after the TTL.
	if _, err := s.Authenticate(ctx, reg.Token); err != nil {
		t.Fatal(err)
	}
	c.Add(time.Hour)
	if _, err := s.Authenticate(ctx, reg.Token); !errors.Is(err, ErrUnauthenticated) {
		t.Fatalf("after expiry: %v", err)
	}
}

func TestCreateValidation(t *testing.T) {
	s, _, _ := newService(t, nil)
	for _, tc := range []struct{ name, pw, role, field string }{
		{"ab", "password1", store.RoleUser, "name"},
		{strings.Repeat("a", 33), "password1", store.RoleUser, "name"},
		{"bad-name", "password1", store.RoleUser, "name"},
		{"bäd", "password1", store.RoleUser, "name"},
		{"good", "short", store.RoleUser, "password"},
		{"good", strings.Repeat("p", 73), store.RoleUser, "password"},
		{"good", "password1", "root", "role"},
	} {
		_, err := s.Create(t.Context(), tc.name, tc.pw, tc.role)
		var ve *ValidationError
		if !errors.As(err, &ve) || ve.Field != tc.field {
			t.Errorf("Create(%q, %q, %q) = %v, want a validation error of %s", tc.name, tc.pw, tc.role, err, tc.field)
		}
	}
	u, err := s.Create(t.Context(), "Root", strings.Repeat("p", 72), store.RoleAdmin)
	if err != nil || u.Role != store.RoleAdmin || u.Name != "root" {
		t.Fatalf("Create admin = %+v, %v", u, err)
	}
}

func TestBan(t *testing.T) {
	s, _, _ := newService(t, nil)
	ctx := t.Context()
	admin, err := s.Create(ctx, "admin", "password1", store.RoleAdmin)
	if err != nil {
		t.Fatal(err)
	}
	l, err := s.Register(ctx, "bob", "password1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.SetBanned(ctx, admin.ID, true); !errors.Is(err, ErrLastAdmin) {
		t.Fatalf("banning the last admin: %v", err)
	}
	u, err := s.SetBanned(ctx, l.User.ID, true)
	if err != nil || !u.Banned {
		t.Fatalf("SetBanned = %+v, %v", u, err)
	}
	if _, err := s.Authenticate(ctx, l.Token); !errors.Is(err, ErrUnauthenticated) {
		t.Fatalf("session after ban: %v, want ErrUnauthenticated (deleted)", err)
	}
	if _, err := s.Login(ctx, "bob", "wrong password"); !errors.Is(err, ErrInvalidCredentials) {
		t.Fatalf("banned login with a wrong password: %v", err)
	}
	if _, err := s.Login(ctx, "bob", "password1"); !errors.Is(err, ErrBanned) {
		t.Fatalf("banned login: %v, want ErrBanned", err)
	}
	if _, err := s.SetBanned(ctx, l.User.ID, false); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Login(ctx, "bob", "password1"); err != nil {
		t.Fatalf("login after unban: %v", err)
	}
	if _, err := s.SetBanned(ctx, "user_missing", true); !errors.Is(err, ErrNotFound) {
		t.Fatalf("ban of a missing user: %v", err)
	}
	// With a second admin, the first may be banned.
	if _, err := s.Create(ctx, "admin2", "password1", store.RoleAdmin); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SetBanned(ctx, admin.ID, true); err != nil {
		t.Fatalf("banning one of two admins: %v", err)
	}
}

func TestBannedSessionRefused(t *testing.T) {
	s, db, _ := newService(t, nil)
	ctx := t.Context()
	l, err := s.Register(ctx, "carol", "password1")
	if err != nil {
		t.Fatal(err)
	}
	// Banned directly in the store, sessions kept: Authenticate still refuses.
	if err := db.SetUserBanned(ctx, l.User.ID, true); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Authenticate(ctx, l.Token); !errors.Is(err, ErrBanned) {
		t.Fatalf("Authenticate of a banned user: %v, want ErrBanned", err)
	}
}

func TestLoginWeChat(t *testing.T) {
	wc := fakeWeChat{
		"code-a":  {OpenID: "open-a", UnionID: "union-a", SessionKey: "secret"},
		"code-a2": {OpenID: "open-a", SessionKey: "secret"},
	}
	s, _, _ := newService(t, wc)
	ctx := t.Context()
	first, err := s.LoginWeChat(ctx, "code-a")
	if err != nil {
		t.Fatal(err)
	}
	if !first.Created || first.User.WeChatOpenID != "open-a" || first.User.Name != "" || first.User.PasswordHash != "" {
		t.Fatalf("first login = %+v, user %+v", first, first.User)
	}
	again, err := s.LoginWeChat(ctx, "code-a2")
	if err != nil || again.Created || again.User.ID != first.User.ID {
		t.Fatalf("second login = %+v, %v", again, err)
	}
	if _, err := s.LoginWeChat(ctx, "bad"); !errors.Is(err, auth.ErrWeChatInvalidCode) {
		t.Fatalf("bad code: %v", err)
	}
	if _, err := s.SetBanned(ctx, first.User.ID, true); err != nil {
		t.Fatal(err)
	}
	if _, err := s.LoginWeChat(ctx, "code-a"); !errors.Is(err, ErrBanned) {
		t.Fatalf("banned: %v", err)
	}
	none, _, _ := newService(t, nil)
	if _, err := none.LoginWeChat(ctx, "code-a"); !errors.Is(err, auth.ErrWeChatNotConfigured) {
		t.Fatalf("not configured: %v", err)
	}
}

func TestLoginWeChatConcurrentFirstLogin(t *testing.T) {
	wc := fakeWeChat{}
	for i := range 4 {
		wc[fmt.Sprint("c", i)] = &auth.WeChatSession{OpenID: "same"}
	}
	s, _, _ := newService(t, wc)
	var wg sync.WaitGroup
	ids := make([]string, 4)
	errs := make([]error, 4)
	for i := range 4 {
		wg.Go(func() {
			l, err := s.LoginWeChat(t.Context(), fmt.Sprint("c", i))
			errs[i] = err
			if err == nil {
				ids[i] = l.User.ID
			}
		})
	}
	wg.Wait()
	for i := range 4 {
		if errs[i] != nil || ids[i] != ids[0] {
			t.Fatalf("login %d: %v, id %q vs %q", i, errs[i], ids[i], ids[0])
		}
	}
}

func TestNewConfig(t *testing.T) {
	if _, err := New(nil, Config{}); err == nil {
		t.Error("nil store accepted")
	}
	s, _, _ := newService(t, nil)
	if _, err := New(s.st, Config{Hasher: auth.PasswordHasher{Cost: 99}}); err == nil {
		t.Error("cost 99 accepted")
	}
	if _, err := New(s.st, Config{SessionTTL: -time.Second}); err == nil {
		t.Error("negative TTL accepted")
	}
	d, err := New(s.st, Config{})
	if err != nil || d.SessionTTL() != DefaultSessionTTL {
		t.Fatalf("defaults: %v, %v", d, err)
	}
}
