package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"roomcast/internal/store"
)

// CreateSession inserts s. TokenHash, UserID and ExpiresAt must be set; a
// zero CreatedAt becomes the current time, and the times are truncated to the
// microsecond, all written back into s. It fails with store.ErrNotFound if
// the user does not exist and store.ErrConflict if the token hash is taken.
func (db *DB) CreateSession(ctx context.Context, s *store.Session) error {
	if s.TokenHash == "" || s.UserID == "" || s.ExpiresAt.IsZero() {
		return errors.New("postgres: create session: token hash, user ID and expiry are required")
	}
	if s.CreatedAt.IsZero() {
		s.CreatedAt = db.now()
	}
	s.CreatedAt, s.ExpiresAt = trunc(s.CreatedAt), trunc(s.ExpiresAt)
	_, err := db.pool.Exec(ctx, `INSERT INTO sessions (token_hash, user_id, expires_at, created_at) VALUES ($1, $2, $3, $4)`,
		s.TokenHash, s.UserID, s.ExpiresAt, s.CreatedAt)
	if err != nil {
		return fmt.Errorf("postgres: create session for user %q: %w", s.UserID, mapErr(err))
	}
	return nil
}

// SessionByTokenHash returns the session with the given token hash that has
// not expired at now, or store.ErrNotFound. A session expires at ExpiresAt.
func (db *DB) SessionByTokenHash(ctx context.Context, tokenHash string, now time.Time) (*store.Session, error) {
	var s store.Session
	err := db.pool.QueryRow(ctx,
		`SELECT token_hash, user_id, expires_at, created_at FROM sessions WHERE token_hash = $1 AND expires_at > $2`,
		tokenHash, trunc(now)).Scan(&s.TokenHash, &s.UserID, &s.ExpiresAt, &s.CreatedAt)
	if err != nil {
		// The hash is a secret's digest: keep it out of the error.
		return nil, fmt.Errorf("postgres: session by token hash: %w", mapErr(err))
	}
	s.ExpiresAt, s.CreatedAt = s.ExpiresAt.UTC(), s.CreatedAt.UTC()
	return &s, nil
}

// DeleteSession deletes the session with the given token hash. Deleting a
// session that does not exist is not an error, so logging out is idempotent.
func (db *DB) DeleteSession(ctx context.Context, tokenHash string) error {
	if _, err := db.pool.Exec(ctx, `DELETE FROM sessions WHERE token_hash = $1`, tokenHash); err != nil {
		return fmt.Errorf("postgres: delete session: %w", mapErr(err))
	}
	return nil
}

// DeleteUserSessions deletes all of the user's sessions (log out everywhere,
// ban). A user without sessions is not an error.
func (db *DB) DeleteUserSessions(ctx context.Context, userID string) error {
	if _, err := db.pool.Exec(ctx, `DELETE FROM sessions WHERE user_id = $1`, userID); err != nil {
		return fmt.Errorf("postgres: delete sessions of user %q: %w", userID, mapErr(err))
	}
	return nil
}

// DeleteExpiredSessions deletes the sessions expired at now and returns how
// many it deleted.
func (db *DB) DeleteExpiredSessions(ctx context.Context, now time.Time) (int64, error) {
	tag, err := db.pool.Exec(ctx, `DELETE FROM sessions WHERE expires_at <= $1`, trunc(now))
	if err != nil {
		return 0, fmt.Errorf("postgres: delete expired sessions: %w", mapErr(err))
	}
	return tag.RowsAffected(), nil
}
