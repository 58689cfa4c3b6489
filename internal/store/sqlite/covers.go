package sqlite

import (
	"context"
	"fmt"

	"roomcast/internal/store"
)

// PutRoomCover stores c as its room's cover of its source, replacing the
// one before. A zero UpdatedAt becomes the current time (written back). It
// fails with store.ErrNotFound if the room does not exist.
func (db *DB) PutRoomCover(ctx context.Context, c *store.RoomCover) error {
	if c.Source != store.CoverUpload && c.Source != store.CoverLive {
		return fmt.Errorf("sqlite: put room cover %q: invalid source %q", c.RoomID, c.Source)
	}
	if len(c.JPEG) == 0 || c.Width <= 0 || c.Height <= 0 {
		return fmt.Errorf("sqlite: put room cover %q: empty picture", c.RoomID)
	}
	if c.UpdatedAt.IsZero() {
		c.UpdatedAt = db.now()
	}
	c.UpdatedAt = trunc(c.UpdatedAt)
	_, err := db.w.ExecContext(ctx, `INSERT INTO room_covers (room_id, source, jpeg, width, height, updated_at) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (room_id, source) DO UPDATE SET jpeg = excluded.jpeg, width = excluded.width, height = excluded.height, updated_at = excluded.updated_at`,
		c.RoomID, c.Source, c.JPEG, c.Width, c.Height, micros(c.UpdatedAt))
	if err != nil {
		return fmt.Errorf("sqlite: put room cover %q: %w", c.RoomID, mapErr(err))
	}
	return nil
}

// RoomCover returns the cover shown for a room when it is not live: the
// uploaded one if any, else the last live one, else store.ErrNotFound.
// withJPEG false leaves JPEG nil (for building URLs).
func (db *DB) RoomCover(ctx context.Context, roomID string, withJPEG bool) (*store.RoomCover, error) {
	cols := `source, width, height, updated_at, NULL`
	if withJPEG {
		cols = `source, width, height, updated_at, jpeg`
	}
	var (
		c       = store.RoomCover{RoomID: roomID}
		updated int64
	)
	err := db.r.QueryRowContext(ctx, `SELECT `+cols+` FROM room_covers WHERE room_id = ?
		ORDER BY source = 'upload' DESC LIMIT 1`, roomID).Scan(&c.Source, &c.Width, &c.Height, &updated, &c.JPEG)
	if err != nil {
		return nil, fmt.Errorf("sqlite: room cover %q: %w", roomID, mapErr(err))
	}
	c.UpdatedAt = fromMicros(updated)
	return &c, nil
}
