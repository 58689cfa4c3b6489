package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"roomcast/internal/store"
	"roomcast/internal/store/internal/page"
)

const roomCols = `id, owner_id, title, description, private, stream, status, live_since, ended_at, likes, record, created_at, updated_at`

// Cursor kinds of ListRooms (the same as store/sqlite's): the two orders are
// not interchangeable.
const (
	cursorRoomsCreated = "rooms"
	cursorRoomsLive    = "rooms-live"
)

func scanRoom(s rowScanner) (*store.Room, error) {
	var r store.Room
	err := s.Scan(&r.ID, &r.OwnerID, &r.Title, &r.Description, &r.Private, &r.Stream, &r.Status,
		&r.LiveSince, &r.EndedAt, &r.Likes, &r.Record, &r.CreatedAt, &r.UpdatedAt)
	if err != nil {
		return nil, err
	}
	r.LiveSince, r.EndedAt = utcPtr(r.LiveSince), utcPtr(r.EndedAt)
	r.CreatedAt, r.UpdatedAt = r.CreatedAt.UTC(), r.UpdatedAt.UTC()
	return &r, nil
}

// checkRoom reports what makes r unstorable, if anything.
func checkRoom(r *store.Room) error {
	switch {
	case r.ID == "":
		return errors.New("empty id")
	case r.OwnerID == "":
		return errors.New("empty owner")
	case r.Stream == "":
		return errors.New("empty stream name")
	case !store.ValidStatus(r.Status):
		return fmt.Errorf("invalid status %q", r.Status)
	case r.Status == store.StatusLive && r.LiveSince == nil:
		return errors.New("live without LiveSince")
	case r.Likes < 0:
		return errors.New("negative likes")
	}
	return nil
}

// CreateRoom inserts r. ID, OwnerID and Stream must be set; an empty Status
// becomes store.StatusIdle, zero CreatedAt the current time and zero
// UpdatedAt the CreatedAt, and times are truncated to the microsecond, all
// written back into r. It fails with store.ErrNotFound if the owner does not
// exist and store.ErrConflict if the ID or stream name is taken.
func (db *DB) CreateRoom(ctx context.Context, r *store.Room) error {
	if r.Status == "" {
		r.Status = store.StatusIdle
	}
	if err := checkRoom(r); err != nil {
		return fmt.Errorf("postgres: create room %q: %w", r.ID, err)
	}
	if r.CreatedAt.IsZero() {
		r.CreatedAt = db.now()
	}
	if r.UpdatedAt.IsZero() {
		r.UpdatedAt = r.CreatedAt
	}
	r.CreatedAt, r.UpdatedAt = trunc(r.CreatedAt), trunc(r.UpdatedAt)
	r.LiveSince, r.EndedAt = truncPtr(r.LiveSince), truncPtr(r.EndedAt)
	_, err := db.pool.Exec(ctx, `INSERT INTO rooms (`+roomCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
		r.ID, r.OwnerID, r.Title, r.Description, r.Private, r.Stream, r.Status,
		r.LiveSince, r.EndedAt, r.Likes, r.Record, r.CreatedAt, r.UpdatedAt)
	if err != nil {
		return fmt.Errorf("postgres: create room %q: %w", r.ID, mapErr(err))
	}
	return nil
}

// RoomByID returns the room with the given ID, or store.ErrNotFound.
func (db *DB) RoomByID(ctx context.Context, id string) (*store.Room, error) {
	r, err := scanRoom(db.pool.QueryRow(ctx, `SELECT `+roomCols+` FROM rooms WHERE id = $1`, id))
	if err != nil {
		return nil, fmt.Errorf("postgres: room %q: %w", id, mapErr(err))
	}
	return r, nil
}

// RoomByStream returns the room with the given stream name, or
// store.ErrNotFound.
func (db *DB) RoomByStream(ctx context.Context, stream string) (*store.Room, error) {
	r, err := scanRoom(db.pool.QueryRow(ctx, `SELECT `+roomCols+` FROM rooms WHERE stream = $1`, stream))
	if err != nil {
		return nil, fmt.Errorf("postgres: room with stream %q: %w", stream, mapErr(err))
	}
	return r, nil
}

// ListRooms returns a page of the rooms f selects, newest first: by LiveSince
// when f.Status is store.StatusLive, otherwise by CreatedAt (then by ID).
// next is the cursor of the following page, or "" after the last page. Paging
// is by key, so rows inserted or changed between pages never make a page
// repeat or skip a row that kept its place. A cursor from another order
// fails with store.ErrInvalidCursor.
func (db *DB) ListRooms(ctx context.Context, f store.RoomFilter) (rooms []store.Room, next string, err error) {
	if f.Status != "" && !store.ValidStatus(f.Status) {
		return nil, "", fmt.Errorf("postgres: list rooms: invalid status %q", f.Status)
	}
	n := page.Limit(f.Limit)
	orderCol, kind := "created_at", cursorRoomsCreated
	if f.Status == store.StatusLive {
		orderCol, kind = "live_since", cursorRoomsLive
	}
	var (
		where []string
		args  []any
	)
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	if f.Status != "" {
		where = append(where, `status = `+arg(f.Status))
	}
	if f.OwnerID != "" {
		where = append(where, `owner_id = `+arg(f.OwnerID))
	}
	if f.PublicOnly {
		where = append(where, `NOT private`)
	}
	if f.Cursor != "" {
		at, id, err := page.Decode(kind, f.Cursor)
		if err != nil {
			return nil, "", fmt.Errorf("postgres: list rooms: %w", err)
		}
		where = append(where, `(`+orderCol+`, id) < (`+arg(fromMicros(at))+`, `+arg(id)+`)`)
	}
	q := `SELECT ` + roomCols + ` FROM rooms`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, ` AND `)
	}
	q += ` ORDER BY ` + orderCol + ` DESC, id DESC LIMIT ` + arg(n+1)

	rooms, err = queryAll(ctx, db, q, args, scanRoom)
	if err != nil {
		return nil, "", fmt.Errorf("postgres: list rooms: %w", err)
	}
	if len(rooms) > n {
		rooms = rooms[:n]
		last := rooms[n-1]
		at := last.CreatedAt
		if kind == cursorRoomsLive {
			at = *last.LiveSince // the CHECK constraint keeps live rooms' LiveSince set
		}
		next = page.Encode(kind, at, last.ID)
	}
	return rooms, next, nil
}

// UpdateRoom reads the room, lets fn change it and writes it back, all in one
// transaction holding the room's row lock, and returns the room as stored. If
// fn returns an error, nothing is written and UpdateRoom returns that error
// unwrapped. ID and CreatedAt cannot be changed; if fn leaves UpdatedAt alone
// it becomes the current time. It fails with store.ErrNotFound if there is no
// such room (or fn set an owner that does not exist) and store.ErrConflict if
// fn set a stream name that is taken.
//
// fn runs while the room's row is locked: it must be quick and must not call
// methods of the DB that write the same room.
func (db *DB) UpdateRoom(ctx context.Context, id string, fn func(*store.Room) error) (*store.Room, error) {
	var out *store.Room
	var fnErr error
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		r, err := scanRoom(tx.QueryRow(ctx, `SELECT `+roomCols+` FROM rooms WHERE id = $1 FOR UPDATE`, id))
		if err != nil {
			return err
		}
		orig := *r
		if err := fn(r); err != nil {
			fnErr = err
			return err
		}
		r.ID, r.CreatedAt = orig.ID, orig.CreatedAt
		if r.UpdatedAt.Equal(orig.UpdatedAt) {
			r.UpdatedAt = db.now()
		}
		r.UpdatedAt = trunc(r.UpdatedAt)
		r.LiveSince, r.EndedAt = truncPtr(r.LiveSince), truncPtr(r.EndedAt)
		if err := checkRoom(r); err != nil {
			return err
		}
		if err := writeRoom(ctx, tx, r); err != nil {
			return err
		}
		out = r
		return nil
	})
	if fnErr != nil {
		return nil, fnErr
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: update room %q: %w", id, mapErr(err))
	}
	return out, nil
}

// writeRoom stores every mutable column of r.
func writeRoom(ctx context.Context, tx pgx.Tx, r *store.Room) error {
	_, err := tx.Exec(ctx, `UPDATE rooms SET owner_id = $1, title = $2, description = $3, private = $4,
		stream = $5, status = $6, live_since = $7, ended_at = $8, likes = $9, record = $10, updated_at = $11
		WHERE id = $12`,
		r.OwnerID, r.Title, r.Description, r.Private, r.Stream, r.Status,
		r.LiveSince, r.EndedAt, r.Likes, r.Record, r.UpdatedAt, r.ID)
	return err
}

// DeleteRoom deletes the room, or fails with store.ErrNotFound.
func (db *DB) DeleteRoom(ctx context.Context, id string) error {
	tag, err := db.pool.Exec(ctx, `DELETE FROM rooms WHERE id = $1`, id)
	if err == nil {
		err = affected(tag)
	}
	if err != nil {
		return fmt.Errorf("postgres: delete room %q: %w", id, mapErr(err))
	}
	return nil
}

// SetRoomStatus records a stream event for the room with the given stream
// name and returns the room as stored: becoming live sets LiveSince to at and
// clears EndedAt; becoming ended sets EndedAt to at (LiveSince keeps the
// start of that broadcast); becoming idle changes nothing else. UpdatedAt
// becomes at. Setting the status the room already has changes nothing, so a
// repeated event does not move LiveSince. It fails with store.ErrNotFound if
// no room has that stream name.
func (db *DB) SetRoomStatus(ctx context.Context, stream, status string, at time.Time) (*store.Room, error) {
	if !store.ValidStatus(status) {
		return nil, fmt.Errorf("postgres: set status of stream %q: invalid status %q", stream, status)
	}
	at = trunc(at)
	var out *store.Room
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		r, err := scanRoom(tx.QueryRow(ctx, `SELECT `+roomCols+` FROM rooms WHERE stream = $1 FOR UPDATE`, stream))
		if err != nil {
			return err
		}
		out = r
		if r.Status == status {
			return nil
		}
		r.Status, r.UpdatedAt = status, at
		switch status {
		case store.StatusLive:
			r.LiveSince, r.EndedAt = &at, nil
		case store.StatusEnded:
			r.EndedAt = &at
		}
		return writeRoom(ctx, tx, r)
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: set status of stream %q to %s: %w", stream, status, mapErr(err))
	}
	return out, nil
}

// AddLikes adds n (which may be negative; the count stops at 0) to the room's
// like count and returns the new count. It does not change UpdatedAt: likes
// are not an edit. It fails with store.ErrNotFound if there is no such room.
func (db *DB) AddLikes(ctx context.Context, roomID string, n int64) (int64, error) {
	var likes int64
	err := db.pool.QueryRow(ctx, `UPDATE rooms SET likes = greatest(likes + $1, 0) WHERE id = $2 RETURNING likes`,
		n, roomID).Scan(&likes)
	if err != nil {
		return 0, fmt.Errorf("postgres: add likes to room %q: %w", roomID, mapErr(err))
	}
	return likes, nil
}
