package user

import (
	"context"
	"errors"
	"fmt"

	"roomcast/internal/auth"
	"roomcast/internal/store"
)

// newSession creates a session for u and returns its token.
func (s *Service) newSession(ctx context.Context, u *store.User) (*Login, error) {
	token, err := auth.NewToken()
	if err != nil {
		return nil, fmt.Errorf("user: new session: %w", err)
	}
	now := s.cfg.Now()
	sess := &store.Session{TokenHash: auth.HashToken(token), UserID: u.ID, CreatedAt: now, ExpiresAt: now.Add(s.cfg.SessionTTL)}
	if err := s.st.CreateSession(ctx, sess); err != nil {
		return nil, fmt.Errorf("user: new session for %q: %w", u.ID, err)
	}
	return &Login{Token: token, ExpiresAt: sess.ExpiresAt, User: u}, nil
}

// Authenticate returns the user a session token belongs to. An empty,
// unknown or expired token fails with ErrUnauthenticated; the session of a
// banned user fails with ErrBanned.
func (s *Service) Authenticate(ctx context.Context, token string) (*store.User, error) {
	if token == "" || len(token) > 256 {
		return nil, ErrUnauthenticated
	}
	sess, err := s.st.SessionByTokenHash(ctx, auth.HashToken(token), s.cfg.Now())
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrUnauthenticated
	}
	if err != nil {
		return nil, fmt.Errorf("user: authenticate: %w", err)
	}
	u, err := s.st.UserByID(ctx, sess.UserID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrUnauthenticated // deleted between the two reads
	}
	if err != nil {
		return nil, fmt.Errorf("user: authenticate: %w", err)
	}
	if u.Banned {
		return nil, fmt.Errorf("user: authenticate %q: %w", u.ID, ErrBanned)
	}
	return u, nil
}

// Logout ends the session of token. Ending a session that does not exist is
// not an error.
func (s *Service) Logout(ctx context.Context, token string) error {
	if token == "" {
		return nil
	}
	if err := s.st.DeleteSession(ctx, auth.HashToken(token)); err != nil {
		return fmt.Errorf("user: logout: %w", err)
	}
	return nil
}
