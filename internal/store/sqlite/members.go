package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"roomcast/internal/store"
)

// AddCohost makes userID a co-host of roomID at at, unless the room has max
// co-hosts already (store.ErrLimit). It fails with store.ErrNotFound when
// the room or the user does not exist and store.ErrConflict when the user
// is a co-host of the room already. The count and the insert happen in one
// write transaction, so concurrent adds never pass max.
func (db *DB) AddCohost(ctx context.Context, roomID, userID string, max int, at time.Time) (*store.Member, error) {
	m := &store.Member{RoomID: roomID, UserID: userID, AddedAt: trunc(at)}
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM room_members WHERE room_id = ?`, roomID).Scan(&n); err != nil {
			return err
		}
		var dup int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM room_members WHERE room_id = ? AND user_id = ?`, roomID, userID).Scan(&dup); err != nil {
			return err
		}
		switch {
		case dup > 0:
			return fmt.Errorf("%w: already a co-host", store.ErrConflict)
		case n >= max:
			return fmt.Errorf("%w: the room has %d co-hosts", store.ErrLimit, n)
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO room_members (room_id, user_id, added_at) VALUES (?, ?, ?)`,
			roomID, userID, micros(m.AddedAt))
		return mapErr(err)
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: add co-host %q to room %q: %w", userID, roomID, mapErr(err))
	}
	return m, nil
}

// RemoveCohost removes userID from the co-hosts of roomID, or fails with
// store.ErrNotFound when it is not one.
func (db *DB) RemoveCohost(ctx context.Context, roomID, userID string) error {
	res, err := db.w.ExecContext(ctx, `DELETE FROM room_members WHERE room_id = ? AND user_id = ?`, roomID, userID)
	if err == nil {
		err = affected(res)
	}
	if err != nil {
		return fmt.Errorf("sqlite: remove co-host %q from room %q: %w", userID, roomID, mapErr(err))
	}
	return nil
}

// Cohosts returns the co-hosts of roomID in the order they were added (an
// empty list for a room without co-hosts or that does not exist).
func (db *DB) Cohosts(ctx context.Context, roomID string) ([]store.Member, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT room_id, user_id, added_at FROM room_members WHERE room_id = ? ORDER BY added_at, user_id`, roomID)
	if err != nil {
		return nil, fmt.Errorf("sqlite: co-hosts of room %q: %w", roomID, err)
	}
	defer rows.Close()
	var out []store.Member
	for rows.Next() {
		var m store.Member
		var at int64
		if err := rows.Scan(&m.RoomID, &m.UserID, &at); err != nil {
			return nil, fmt.Errorf("sqlite: co-hosts of room %q: %w", roomID, err)
		}
		m.AddedAt = fromMicros(at)
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: co-hosts of room %q: %w", roomID, err)
	}
	return out, nil
}

// IsCohost reports whether userID is a co-host of roomID.
func (db *DB) IsCohost(ctx context.Context, roomID, userID string) (bool, error) {
	var n int
	err := db.r.QueryRowContext(ctx, `SELECT count(*) FROM room_members WHERE room_id = ? AND user_id = ?`, roomID, userID).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("sqlite: is %q a co-host of room %q: %w", userID, roomID, err)
	}
	return n > 0, nil
}
