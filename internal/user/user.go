// Package user holds the account rules of roomcast: password and WeChat
// login, sessions, roles and bans. It declares the small store interface it
// needs (Store) and knows nothing about HTTP.
//
// Sessions are opaque random tokens (auth.NewToken, 256 bits) handed to the
// client once; only their SHA-256 (auth.HashToken) is stored, with an expiry.
// Authenticate checks the token and the user's ban on every call, so a ban
// takes effect at once even before the user's sessions are deleted.
package user

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"roomcast/internal/auth"
	"roomcast/internal/store"
)

// DefaultSessionTTL is how long a session lasts when Config.SessionTTL is zero.
const DefaultSessionTTL = 30 * 24 * time.Hour

// idPrefix starts every user ID.
const idPrefix = "user_"

// Errors returned (wrapped) by the Service. Callers test them with errors.Is.
var (
	// ErrInvalidCredentials: the user name or password is wrong, or the
	// account has no password (a WeChat-only account). The two cases are
	// not told apart, so that names cannot be probed.
	ErrInvalidCredentials = errors.New("user: wrong user name or password")
	// ErrUnauthenticated: the session token is missing, unknown or expired.
	ErrUnauthenticated = errors.New("user: not logged in or session expired")
	// ErrBanned: the account is banned; it cannot log in or use its sessions.
	ErrBanned = errors.New("user: account is banned")
	// ErrNameTaken: another account has this user name.
	ErrNameTaken = errors.New("user: user name is taken")
	// ErrLastAdmin: the change would leave no admin who is not banned.
	ErrLastAdmin = errors.New("user: cannot ban the last admin")
	// ErrNotFound is store.ErrNotFound: no such user.
	ErrNotFound = store.ErrNotFound
)

// Store is the part of the store the user service needs; *sqlite.DB
// implements it.
type Store interface {
	CreateUser(ctx context.Context, u *store.User) error
	UserByID(ctx context.Context, id string) (*store.User, error)
	UserByName(ctx context.Context, name string) (*store.User, error)
	UserByOpenID(ctx context.Context, openID string) (*store.User, error)
	ListUsers(ctx context.Context, cursor string, limit int) ([]store.User, string, error)
	SetUserBanned(ctx context.Context, id string, banned bool) error
	CountAdmins(ctx context.Context) (int, error)
	CreateSession(ctx context.Context, s *store.Session) error
	SessionByTokenHash(ctx context.Context, tokenHash string, now time.Time) (*store.Session, error)
	DeleteSession(ctx context.Context, tokenHash string) error
	DeleteUserSessions(ctx context.Context, userID string) error
}

// WeChatClient exchanges a mini program login code for the user's identity;
// *auth.WeChat implements it.
type WeChatClient interface {
	Code2Session(ctx context.Context, code string) (*auth.WeChatSession, error)
}

// Config configures the Service. The zero value of each field means its
// default.
type Config struct {
	// SessionTTL is the lifetime of a session; zero means DefaultSessionTTL.
	SessionTTL time.Duration
	// Hasher hashes passwords; its zero value uses bcrypt at
	// auth.DefaultPasswordCost. Tests use Cost 4 (bcrypt.MinCost).
	Hasher auth.PasswordHasher
	// WeChat performs code2session for LoginWeChat; nil makes LoginWeChat
	// fail with auth.ErrWeChatNotConfigured.
	WeChat WeChatClient
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
}

// Service implements the account rules. Its methods are safe for concurrent
// use.
type Service struct {
	st  Store
	cfg Config

	dummyOnce sync.Once
	dummyHash string // hash compared against when the user does not exist
}

// New returns a Service over st.
func New(st Store, cfg Config) (*Service, error) {
	if st == nil {
		return nil, errors.New("user: nil store")
	}
	if cfg.SessionTTL < 0 {
		return nil, fmt.Errorf("user: negative session TTL %s", cfg.SessionTTL)
	}
	if cfg.SessionTTL == 0 {
		cfg.SessionTTL = DefaultSessionTTL
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	// Check the cost now rather than on the first registration (bcrypt
	// accepts 4 to 31).
	if c := cfg.Hasher.Cost; c != 0 && (c < 4 || c > 31) {
		return nil, fmt.Errorf("user: bcrypt cost %d outside 4..31", c)
	}
	return &Service{st: st, cfg: cfg}, nil
}

// SessionTTL returns the lifetime of new sessions.
func (s *Service) SessionTTL() time.Duration { return s.cfg.SessionTTL }

// Login is the result of a successful login or registration: the session
// token to give to the client (it is not stored) and the user.
type Login struct {
	Token     string
	ExpiresAt time.Time
	User      *store.User
	// Created is set when the login created the account (Register, or a
	// first WeChat login).
	Created bool
}

// Register creates a password account with role user and logs it in. name
// is lower-cased and validated (see NormalizeName), the password checked
// with auth.ValidatePassword; failures are *ValidationError. A taken name
// fails with ErrNameTaken.
func (s *Service) Register(ctx context.Context, name, password string) (*Login, error) {
	u, err := s.Create(ctx, name, password, store.RoleUser)
	if err != nil {
		return nil, err
	}
	l, err := s.newSession(ctx, u)
	if err != nil {
		return nil, err
	}
	l.Created = true
	return l, nil
}

// Create creates a password account with the given role (store.RoleAdmin or
// store.RoleUser) without logging it in; the roomcast CLI uses it to create
// admins. Errors are as for Register.
func (s *Service) Create(ctx context.Context, name, password, role string) (*store.User, error) {
	name, err := NormalizeName(name)
	if err != nil {
		return nil, err
	}
	if err := auth.ValidatePassword(password); err != nil {
		return nil, &ValidationError{Field: "password", Message: fmt.Sprintf("must be %d-%d bytes long", auth.MinPasswordLen, auth.MaxPasswordLen)}
	}
	if !store.ValidRole(role) {
		return nil, &ValidationError{Field: "role", Message: fmt.Sprintf("must be %q or %q", store.RoleAdmin, store.RoleUser)}
	}
	hash, err := s.cfg.Hasher.Hash(password)
	if err != nil {
		return nil, fmt.Errorf("user: create %q: %w", name, err)
	}
	id, err := auth.NewID(idPrefix)
	if err != nil {
		return nil, fmt.Errorf("user: create %q: %w", name, err)
	}
	u := &store.User{ID: id, Name: name, PasswordHash: hash, Role: role, CreatedAt: s.cfg.Now()}
	if err := s.st.CreateUser(ctx, u); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return nil, fmt.Errorf("user: create %q: %w", name, ErrNameTaken)
		}
		return nil, fmt.Errorf("user: create %q: %w", name, err)
	}
	return u, nil
}

// Login checks a name and password and starts a session. A wrong name or
// password fails with ErrInvalidCredentials (after the same bcrypt work
// either way); a banned account with the right password fails with
// ErrBanned.
func (s *Service) Login(ctx context.Context, name, password string) (*Login, error) {
	norm, nameErr := NormalizeName(name)
	var u *store.User
	if nameErr == nil {
		var err error
		u, err = s.st.UserByName(ctx, norm)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return nil, fmt.Errorf("user: login: %w", err)
		}
	}
	if u == nil || u.PasswordHash == "" {
		// Spend the same time as a real check so that timing does not tell
		// which names exist.
		_ = auth.CheckPassword(s.dummy(), password)
		return nil, ErrInvalidCredentials
	}
	if err := auth.CheckPassword(u.PasswordHash, password); err != nil {
		if errors.Is(err, auth.ErrWrongPassword) {
			return nil, ErrInvalidCredentials
		}
		return nil, fmt.Errorf("user: login %q: %w", u.ID, err)
	}
	if u.Banned {
		return nil, fmt.Errorf("user: login %q: %w", u.ID, ErrBanned)
	}
	return s.newSession(ctx, u)
}

// dummy returns a bcrypt hash at the configured cost of a random password.
func (s *Service) dummy() string {
	s.dummyOnce.Do(func() {
		pw, err := auth.RandomKey(16)
		if err == nil {
			s.dummyHash, err = s.cfg.Hasher.Hash(pw)
		}
		if err != nil {
			s.dummyHash = "$2a$04$invalidinvalidinvalidinvalidinvalidinvalidinvalidinval"
		}
	})
	return s.dummyHash
}

// LoginWeChat exchanges a mini program login code (from wx.login) for the
// user's openid, finds or creates the user with that openid, and starts a
// session. WeChat's errors are returned wrapped as the auth package's
// sentinels (auth.ErrWeChatInvalidCode, auth.ErrWeChatCodeUsed,
// auth.ErrWeChatRateLimited, auth.ErrWeChatHighRisk, auth.ErrWeChatBusy,
// auth.ErrWeChat, auth.ErrWeChatUnavailable, auth.ErrWeChatNotConfigured).
// The WeChat session key is neither stored nor returned.
func (s *Service) LoginWeChat(ctx context.Context, code string) (*Login, error) {
	if s.cfg.WeChat == nil {
		return nil, fmt.Errorf("user: wechat login: %w", auth.ErrWeChatNotConfigured)
	}
	ws, err := s.cfg.WeChat.Code2Session(ctx, code)
	if err != nil {
		return nil, fmt.Errorf("user: wechat login: %w", err)
	}
	created := false
	u, err := s.st.UserByOpenID(ctx, ws.OpenID)
	if errors.Is(err, store.ErrNotFound) {
		u, err = s.createWeChatUser(ctx, ws)
		created = err == nil
		if errors.Is(err, store.ErrConflict) {
			// A concurrent first login with the same openid won the race.
			u, err = s.st.UserByOpenID(ctx, ws.OpenID)
			created = false
		}
	}
	if err != nil {
		return nil, fmt.Errorf("user: wechat login: %w", err)
	}
	if u.Banned {
		return nil, fmt.Errorf("user: wechat login %q: %w", u.ID, ErrBanned)
	}
	l, err := s.newSession(ctx, u)
	if err != nil {
		return nil, err
	}
	l.Created = created
	return l, nil
}

func (s *Service) createWeChatUser(ctx context.Context, ws *auth.WeChatSession) (*store.User, error) {
	id, err := auth.NewID(idPrefix)
	if err != nil {
		return nil, err
	}
	u := &store.User{ID: id, WeChatOpenID: ws.OpenID, WeChatUnionID: ws.UnionID, Role: store.RoleUser, CreatedAt: s.cfg.Now()}
	if err := s.st.CreateUser(ctx, u); err != nil {
		return nil, err
	}
	return u, nil
}

// Get returns the user with the given ID, or an error wrapping ErrNotFound.
func (s *Service) Get(ctx context.Context, id string) (*store.User, error) {
	u, err := s.st.UserByID(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("user: get: %w", err)
	}
	return u, nil
}

// List returns a page of users, oldest first, and the cursor of the next
// page ("" after the last). A cursor List did not produce fails with an
// error wrapping store.ErrInvalidCursor.
func (s *Service) List(ctx context.Context, cursor string, limit int) ([]store.User, string, error) {
	users, next, err := s.st.ListUsers(ctx, cursor, limit)
	if err != nil {
		return nil, "", fmt.Errorf("user: list: %w", err)
	}
	return users, next, nil
}

// SetBanned bans or unbans the user and returns the user as stored. Banning
// deletes all the user's sessions; it fails with ErrLastAdmin when the user
// is the last admin who is not banned. Unbanning does not restore sessions.
// The check and the ban are not one transaction: two admins banning each
// other at once could both succeed (the CLI can always create a new admin).
func (s *Service) SetBanned(ctx context.Context, id string, banned bool) (*store.User, error) {
	u, err := s.st.UserByID(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("user: set banned: %w", err)
	}
	if banned && u.Role == store.RoleAdmin && !u.Banned {
		n, err := s.st.CountAdmins(ctx)
		if err != nil {
			return nil, fmt.Errorf("user: set banned: %w", err)
		}
		if n <= 1 {
			return nil, fmt.Errorf("user: ban %q: %w", id, ErrLastAdmin)
		}
	}
	// Ban first: Authenticate checks the flag, so the sessions are useless
	// from here on even if deleting them fails.
	if err := s.st.SetUserBanned(ctx, id, banned); err != nil {
		return nil, fmt.Errorf("user: set banned: %w", err)
	}
	u.Banned = banned
	if banned {
		if err := s.st.DeleteUserSessions(ctx, id); err != nil {
			return nil, fmt.Errorf("user: ban %q: %w", id, err)
		}
	}
	return u, nil
}
