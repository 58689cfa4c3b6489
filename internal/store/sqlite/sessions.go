package sqlite

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
		return errors.New("sqlite: create session: token hash, user ID and expiry are required")
	}
	if s.CreatedAt.IsZero() {
		s.CreatedAt = db.now()
	}
	s.CreatedAt, s.ExpiresAt = trunc(s.CreatedAt), trunc(s.ExpiresAt)
	_, err := db.w.ExecContext(ctx, `INSERT INTO sessions (token_hash, user_id, expires_at, created_at) VALUES (?, ?, ?, ?)`,
		s.TokenHash, s.UserID, micros(s.ExpiresAt), micros(s.CreatedAt))
	if err != nil {
		return fmt.Errorf("sqlite: create session for user %q: %w", s.UserID, mapErr(err))
	}
	return nil
}

// SessionByTokenHash returns the session with the given token hash that has
// not expired at now, or store.ErrNotFound. A session expires at ExpiresAt.
func (db *DB) SessionByTokenHash(ctx context.Context, tokenHash string, now time.Time) (*store.Session, error) {
	var (
		s                store.Session
		expires, created int64
	)
	err := db.r.QueryRowContext(ctx,
		`SELECT token_hash, user_id, expires_at, created_at FROM sessions WHERE token_hash = ? AND expires_at > ?`,
		tokenHash, micros(now)).Scan(&s.TokenHash, &s.UserID, &expires, &created)
	if err != nil {
		// The hash is a secret's digest: keep it out of the error.
		return nil, fmt.Errorf("sqlite: session by token hash: %w", mapErr(err))
	}
	s.ExpiresAt, s.CreatedAt = fromMicros(expires), fromMicros(created)
	return &s, nil
}

// DeleteSession deletes the session with the given token hash. Deleting a
// session that does not exist is not an error, so logging out is idempotent.
func (db *DB) DeleteSession(ctx context.Context, tokenHash string) error {
	if _, err := db.w.ExecContext(ctx, `DELETE FROM sessions WHERE token_hash = ?`, tokenHash); err != nil {
		return fmt.Errorf("sqlite: delete session: %w", err)
	}
	return nil
}

// DeleteUserSessions deletes all of the user's sessions (log out everywhere,
// ban). A user without sessions is not an error.
func (db *DB) DeleteUserSessions(ctx context.Context, userID string) error {
	if _, err := db.w.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = ?`, userID); err != nil {
		return fmt.Errorf("sqlite: delete sessions of user %q: %w", userID, err)
	}
	return nil
}

// DeleteExpiredSessions deletes the sessions expired at now and returns how
// many it deleted.
func (db *DB) DeleteExpiredSessions(ctx context.Context, now time.Time) (int64, error) {
	res, err := db.w.ExecContext(ctx, `DELETE FROM sessions WHERE expires_at <= ?`, micros(now))
	if err != nil {
		return 0, fmt.Errorf("sqlite: delete expired sessions: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("sqlite: delete expired sessions: %w", err)
	}
	return n, nil
}
