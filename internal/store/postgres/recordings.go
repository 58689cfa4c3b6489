package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"roomcast/internal/store"
	"roomcast/internal/store/internal/page"
)

const recordingCols = `id, room_id, stream, status, started_at, ended_at, duration_ms, bytes, segments, recovered, error`

// cursorRecordings is the cursor kind of ListRecordings (the same as
// store/sqlite's).
const cursorRecordings = "recordings"

func scanRecording(s rowScanner) (*store.Recording, error) {
	var r store.Recording
	err := s.Scan(&r.ID, &r.RoomID, &r.Stream, &r.Status, &r.StartedAt, &r.EndedAt,
		&r.DurationMS, &r.Bytes, &r.Segments, &r.Recovered, &r.Error)
	if err != nil {
		return nil, err
	}
	r.StartedAt, r.EndedAt = r.StartedAt.UTC(), utcPtr(r.EndedAt)
	return &r, nil
}

// checkRecording reports what makes r unstorable, if anything.
func checkRecording(r *store.Recording) error {
	switch {
	case r.ID == "":
		return errors.New("empty id")
	case r.RoomID == "":
		return errors.New("empty room")
	case !store.ValidRecordingStatus(r.Status):
		return fmt.Errorf("invalid status %q", r.Status)
	case r.DurationMS < 0, r.Bytes < 0, r.Segments < 0:
		return errors.New("negative duration, size or segment count")
	}
	return nil
}

// CreateRecording inserts r. ID and RoomID must be set; an empty Status
// becomes store.RecordingActive and a zero StartedAt the current time, and
// times are truncated to the microsecond, all written back into r. It fails
// with store.ErrNotFound if the room does not exist and store.ErrConflict if
// the ID is taken.
func (db *DB) CreateRecording(ctx context.Context, r *store.Recording) error {
	if r.Status == "" {
		r.Status = store.RecordingActive
	}
	if err := checkRecording(r); err != nil {
		return fmt.Errorf("postgres: create recording %q: %w", r.ID, err)
	}
	if r.StartedAt.IsZero() {
		r.StartedAt = db.now()
	}
	r.StartedAt, r.EndedAt = trunc(r.StartedAt), truncPtr(r.EndedAt)
	_, err := db.pool.Exec(ctx, `INSERT INTO recordings (`+recordingCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		r.ID, r.RoomID, r.Stream, r.Status, r.StartedAt, r.EndedAt,
		r.DurationMS, r.Bytes, r.Segments, r.Recovered, r.Error)
	if err != nil {
		return fmt.Errorf("postgres: create recording %q: %w", r.ID, mapErr(err))
	}
	return nil
}

// RecordingByID returns the recording with the given ID, or
// store.ErrNotFound.
func (db *DB) RecordingByID(ctx context.Context, id string) (*store.Recording, error) {
	r, err := scanRecording(db.pool.QueryRow(ctx, `SELECT `+recordingCols+` FROM recordings WHERE id = $1`, id))
	if err != nil {
		return nil, fmt.Errorf("postgres: recording %q: %w", id, mapErr(err))
	}
	return r, nil
}

// ListRecordings returns a page of the recordings of a room ("" for every
// room), newest first by StartedAt (then by ID). next is the cursor of the
// following page, or "" after the last page; a cursor from another listing
// fails with store.ErrInvalidCursor. A limit <= 0 means
// store.DefaultPageSize.
func (db *DB) ListRecordings(ctx context.Context, roomID, cursor string, limit int) (recs []store.Recording, next string, err error) {
	n := page.Limit(limit)
	q := `SELECT ` + recordingCols + ` FROM recordings WHERE true`
	var args []any
	if roomID != "" {
		args = append(args, roomID)
		q += fmt.Sprintf(` AND room_id = $%d`, len(args))
	}
	if cursor != "" {
		at, id, err := page.Decode(cursorRecordings, cursor)
		if err != nil {
			return nil, "", fmt.Errorf("postgres: list recordings: %w", err)
		}
		args = append(args, fromMicros(at), id)
		q += fmt.Sprintf(` AND (started_at, id) < ($%d, $%d)`, len(args)-1, len(args))
	}
	args = append(args, n+1)
	q += fmt.Sprintf(` ORDER BY started_at DESC, id DESC LIMIT $%d`, len(args))
	recs, err = queryAll(ctx, db, q, args, scanRecording)
	if err != nil {
		return nil, "", fmt.Errorf("postgres: list recordings: %w", err)
	}
	if len(recs) > n {
		recs = recs[:n]
		last := recs[n-1]
		next = page.Encode(cursorRecordings, last.StartedAt, last.ID)
	}
	return recs, next, nil
}

// RecordingsByStatus returns every recording with the given status, oldest
// first. The recorder uses it at start to find the recordings a crash left
// unfinished.
func (db *DB) RecordingsByStatus(ctx context.Context, status string) ([]store.Recording, error) {
	if !store.ValidRecordingStatus(status) {
		return nil, fmt.Errorf("postgres: recordings by status: invalid status %q", status)
	}
	recs, err := queryAll(ctx, db, `SELECT `+recordingCols+` FROM recordings WHERE status = $1
		ORDER BY started_at, id`, []any{status}, scanRecording)
	if err != nil {
		return nil, fmt.Errorf("postgres: recordings with status %s: %w", status, err)
	}
	return recs, nil
}

// UpdateRecording reads the recording, lets fn change it and writes it back,
// all in one transaction holding the row's lock, and returns the recording
// as stored. If fn returns an error, nothing is written and UpdateRecording
// returns that error unwrapped. ID, RoomID and StartedAt cannot be changed.
// It fails with store.ErrNotFound if there is no such recording.
//
// fn runs while the row is locked: it must be quick and must not call
// methods of the DB that write the same recording.
func (db *DB) UpdateRecording(ctx context.Context, id string, fn func(*store.Recording) error) (*store.Recording, error) {
	var out *store.Recording
	var fnErr error
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		r, err := scanRecording(tx.QueryRow(ctx, `SELECT `+recordingCols+` FROM recordings WHERE id = $1 FOR UPDATE`, id))
		if err != nil {
			return err
		}
		orig := *r
		if err := fn(r); err != nil {
			fnErr = err
			return err
		}
		r.ID, r.RoomID, r.StartedAt = orig.ID, orig.RoomID, orig.StartedAt
		r.EndedAt = truncPtr(r.EndedAt)
		if err := checkRecording(r); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE recordings SET stream = $1, status = $2, ended_at = $3, duration_ms = $4,
			bytes = $5, segments = $6, recovered = $7, error = $8 WHERE id = $9`,
			r.Stream, r.Status, r.EndedAt, r.DurationMS, r.Bytes, r.Segments, r.Recovered, r.Error, r.ID)
		if err != nil {
			return err
		}
		out = r
		return nil
	})
	if fnErr != nil {
		return nil, fnErr
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: update recording %q: %w", id, mapErr(err))
	}
	return out, nil
}

// DeleteRecording deletes the recording's row, or fails with
// store.ErrNotFound. The files on disk are the recorder's to remove.
func (db *DB) DeleteRecording(ctx context.Context, id string) error {
	tag, err := db.pool.Exec(ctx, `DELETE FROM recordings WHERE id = $1`, id)
	if err == nil {
		err = affected(tag)
	}
	if err != nil {
		return fmt.Errorf("postgres: delete recording %q: %w", id, mapErr(err))
	}
	return nil
}
