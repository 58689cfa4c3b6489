package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"roomcast/internal/store"
)

// AddCohost makes userID a co-host of roomID at at, unless the room has max
// co-hosts already (store.ErrLimit). It fails with store.ErrNotFound when
// the room or the user does not exist and store.ErrConflict when the user
// is a co-host of the room already. The room's row is locked while the
// co-hosts are counted, so concurrent adds never pass max.
func (db *DB) AddCohost(ctx context.Context, roomID, userID string, max int, at time.Time) (*store.Member, error) {
	m := &store.Member{RoomID: roomID, UserID: userID, AddedAt: trunc(at)}
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		var id string
		if err := tx.QueryRow(ctx, `SELECT id FROM rooms WHERE id = $1 FOR UPDATE`, roomID).Scan(&id); err != nil {
			return mapErr(err)
		}
		var n, dup int
		if err := tx.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE user_id = $2) FROM room_members WHERE room_id = $1`,
			roomID, userID).Scan(&n, &dup); err != nil {
			return mapErr(err)
		}
		switch {
		case dup > 0:
			return fmt.Errorf("%w: already a co-host", store.ErrConflict)
		case n >= max:
			return fmt.Errorf("%w: the room has %d co-hosts", store.ErrLimit, n)
		}
		_, err := tx.Exec(ctx, `INSERT INTO room_members (room_id, user_id, added_at) VALUES ($1, $2, $3)`, roomID, userID, m.AddedAt)
		return mapErr(err)
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: add co-host %q to room %q: %w", userID, roomID, mapErr(err))
	}
	return m, nil
}

// RemoveCohost removes userID from the co-hosts of roomID, or fails with
// store.ErrNotFound when it is not one.
func (db *DB) RemoveCohost(ctx context.Context, roomID, userID string) error {
	tag, err := db.pool.Exec(ctx, `DELETE FROM room_members WHERE room_id = $1 AND user_id = $2`, roomID, userID)
	if err == nil {
		err = affected(tag)
	}
	if err != nil {
		return fmt.Errorf("postgres: remove co-host %q from room %q: %w", userID, roomID, mapErr(err))
	}
	return nil
}

// Cohosts returns the co-hosts of roomID in the order they were added (an
// empty list for a room without co-hosts or that does not exist).
func (db *DB) Cohosts(ctx context.Context, roomID string) ([]store.Member, error) {
	out, err := queryAll(ctx, db, `SELECT room_id, user_id, added_at FROM room_members WHERE room_id = $1 ORDER BY added_at, user_id`,
		[]any{roomID}, func(s rowScanner) (*store.Member, error) {
			var m store.Member
			if err := s.Scan(&m.RoomID, &m.UserID, &m.AddedAt); err != nil {
				return nil, err
			}
			m.AddedAt = m.AddedAt.UTC()
			return &m, nil
		})
	if err != nil {
		return nil, fmt.Errorf("postgres: co-hosts of room %q: %w", roomID, err)
	}
	return out, nil
}

// IsCohost reports whether userID is a co-host of roomID.
func (db *DB) IsCohost(ctx context.Context, roomID, userID string) (bool, error) {
	var ok bool
	err := db.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM room_members WHERE room_id = $1 AND user_id = $2)`, roomID, userID).Scan(&ok)
	if err != nil {
		return false, fmt.Errorf("postgres: is %q a co-host of room %q: %w", userID, roomID, mapErr(err))
	}
	return ok, nil
}
