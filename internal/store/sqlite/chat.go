package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"

	"roomcast/internal/store"
)

// AppendChatMessage stores m as the room's next message: it sets m.Seq to one
// above the room's highest seq (deleted messages included, so a seq is never
// reused, also across restarts) and truncates m.CreatedAt (the store's clock
// when zero). m.ID must be unique. It fails with store.ErrNotFound when the
// room does not exist.
func (db *DB) AppendChatMessage(ctx context.Context, m *store.ChatMessage) error {
	if m.CreatedAt.IsZero() {
		m.CreatedAt = db.now()
	}
	m.CreatedAt = trunc(m.CreatedAt)
	m.DeletedAt = truncPtr(m.DeletedAt)
	err := db.w.QueryRowContext(ctx, `INSERT INTO chat_messages (room_id, seq, id, user_id, user_name, text, created_at, deleted_at)
		SELECT ?1, coalesce(max(seq), 0) + 1, ?2, ?3, ?4, ?5, ?6, ?7 FROM chat_messages WHERE room_id = ?1
		RETURNING seq`,
		m.RoomID, m.ID, m.UserID, m.UserName, m.Text, micros(m.CreatedAt), nullMicros(m.DeletedAt)).Scan(&m.Seq)
	if err != nil {
		return fmt.Errorf("sqlite: append chat message to room %q: %w", m.RoomID, mapErr(err))
	}
	return nil
}

// LastChatSeq returns the highest seq of the room's messages, 0 if it has none.
func (db *DB) LastChatSeq(ctx context.Context, roomID string) (int64, error) {
	var seq int64
	err := db.r.QueryRowContext(ctx, `SELECT coalesce(max(seq), 0) FROM chat_messages WHERE room_id = ?`, roomID).Scan(&seq)
	if err != nil {
		return 0, fmt.Errorf("sqlite: last chat seq of room %q: %w", roomID, mapErr(err))
	}
	return seq, nil
}

// ChatMessagesBefore returns up to limit of the room's messages that are not
// deleted and whose seq is below before (before <= 0: the newest), in
// ascending seq order. limit is bounded like the List methods'.
func (db *DB) ChatMessagesBefore(ctx context.Context, roomID string, before int64, limit int) ([]store.ChatMessage, error) {
	if before <= 0 {
		before = 1<<63 - 1
	}
	ms, err := db.chatMessages(ctx, `SELECT room_id, seq, id, user_id, user_name, text, created_at, deleted_at
		FROM chat_messages WHERE room_id = ? AND seq < ? AND deleted_at IS NULL ORDER BY seq DESC LIMIT ?`,
		roomID, before, pageLimit(limit))
	if err != nil {
		return nil, fmt.Errorf("sqlite: chat messages of room %q before %d: %w", roomID, before, err)
	}
	slices.Reverse(ms)
	return ms, nil
}

// ChatMessagesAfter returns up to limit of the room's messages that are not
// deleted and whose seq is above after, in ascending seq order.
func (db *DB) ChatMessagesAfter(ctx context.Context, roomID string, after int64, limit int) ([]store.ChatMessage, error) {
	ms, err := db.chatMessages(ctx, `SELECT room_id, seq, id, user_id, user_name, text, created_at, deleted_at
		FROM chat_messages WHERE room_id = ? AND seq > ? AND deleted_at IS NULL ORDER BY seq LIMIT ?`,
		roomID, after, pageLimit(limit))
	if err != nil {
		return nil, fmt.Errorf("sqlite: chat messages of room %q after %d: %w", roomID, after, err)
	}
	return ms, nil
}

func (db *DB) chatMessages(ctx context.Context, query string, args ...any) ([]store.ChatMessage, error) {
	rows, err := db.r.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, mapErr(err)
	}
	defer rows.Close()
	var out []store.ChatMessage
	for rows.Next() {
		var m store.ChatMessage
		var created int64
		var deleted sql.NullInt64
		if err := rows.Scan(&m.RoomID, &m.Seq, &m.ID, &m.UserID, &m.UserName, &m.Text, &created, &deleted); err != nil {
			return nil, err
		}
		m.CreatedAt = fromMicros(created)
		m.DeletedAt = timePtr(deleted)
		out = append(out, m)
	}
	return out, rows.Err()
}

// pageLimit applies store.DefaultPageSize and store.MaxPageSize to limit.
func pageLimit(limit int) int {
	if limit <= 0 {
		return store.DefaultPageSize
	}
	return min(limit, store.MaxPageSize)
}

// DeleteChatMessage marks the room's message with the given id deleted and
// returns it. It fails with store.ErrNotFound when the room has no such
// message or it is already deleted.
func (db *DB) DeleteChatMessage(ctx context.Context, roomID, id string) (*store.ChatMessage, error) {
	var m store.ChatMessage
	var created int64
	var deleted sql.NullInt64
	err := db.w.QueryRowContext(ctx, `UPDATE chat_messages SET deleted_at = ?
		WHERE room_id = ? AND id = ? AND deleted_at IS NULL
		RETURNING room_id, seq, id, user_id, user_name, text, created_at, deleted_at`,
		micros(trunc(db.now())), roomID, id).Scan(&m.RoomID, &m.Seq, &m.ID, &m.UserID, &m.UserName, &m.Text, &created, &deleted)
	if err != nil {
		return nil, fmt.Errorf("sqlite: delete chat message %q of room %q: %w", id, roomID, mapErr(err))
	}
	m.CreatedAt = fromMicros(created)
	m.DeletedAt = timePtr(deleted)
	return &m, nil
}

// PutChatSanction creates or replaces the sanction of s.Kind on s.UserID in
// s.RoomID. It fails with store.ErrNotFound when the room does not exist.
func (db *DB) PutChatSanction(ctx context.Context, s *store.ChatSanction) error {
	if !store.ValidSanction(s.Kind) {
		return fmt.Errorf("sqlite: put chat sanction: invalid kind %q", s.Kind)
	}
	if s.CreatedAt.IsZero() {
		s.CreatedAt = db.now()
	}
	s.CreatedAt = trunc(s.CreatedAt)
	s.Until = truncPtr(s.Until)
	_, err := db.w.ExecContext(ctx, `INSERT INTO chat_sanctions (room_id, user_id, kind, until, created_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (room_id, user_id, kind) DO UPDATE SET until = excluded.until, created_at = excluded.created_at`,
		s.RoomID, s.UserID, s.Kind, nullMicros(s.Until), micros(s.CreatedAt))
	if err != nil {
		return fmt.Errorf("sqlite: put chat sanction %s of %q in room %q: %w", s.Kind, s.UserID, s.RoomID, mapErr(err))
	}
	return nil
}

// DeleteChatSanction lifts the sanction of the given kind; lifting one that
// does not exist is not an error.
func (db *DB) DeleteChatSanction(ctx context.Context, roomID, userID, kind string) error {
	_, err := db.w.ExecContext(ctx, `DELETE FROM chat_sanctions WHERE room_id = ? AND user_id = ? AND kind = ?`, roomID, userID, kind)
	if err != nil {
		return fmt.Errorf("sqlite: delete chat sanction %s of %q in room %q: %w", kind, userID, roomID, mapErr(err))
	}
	return nil
}

// ChatSanctions returns the sanctions of the user in the room, expired ones
// included (see store.ChatSanction.Active).
func (db *DB) ChatSanctions(ctx context.Context, roomID, userID string) ([]store.ChatSanction, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT room_id, user_id, kind, until, created_at FROM chat_sanctions
		WHERE room_id = ? AND user_id = ? ORDER BY kind`, roomID, userID)
	if err != nil {
		return nil, fmt.Errorf("sqlite: chat sanctions of %q in room %q: %w", userID, roomID, mapErr(err))
	}
	defer rows.Close()
	var out []store.ChatSanction
	for rows.Next() {
		var s store.ChatSanction
		var until sql.NullInt64
		var created int64
		if err := rows.Scan(&s.RoomID, &s.UserID, &s.Kind, &until, &created); err != nil {
			return nil, fmt.Errorf("sqlite: chat sanctions of %q in room %q: %w", userID, roomID, err)
		}
		s.Until = timePtr(until)
		s.CreatedAt = fromMicros(created)
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: chat sanctions of %q in room %q: %w", userID, roomID, err)
	}
	return out, nil
}

// SetChatPin stores text as the room's pinned announcement, replacing the
// previous one; an empty text clears it (clearing none is not an error).
// It fails with store.ErrNotFound when the room does not exist.
func (db *DB) SetChatPin(ctx context.Context, roomID, text string) error {
	var err error
	if text == "" {
		_, err = db.w.ExecContext(ctx, `DELETE FROM chat_pins WHERE room_id = ?`, roomID)
	} else {
		_, err = db.w.ExecContext(ctx, `INSERT INTO chat_pins (room_id, text, updated_at) VALUES (?, ?, ?)
			ON CONFLICT (room_id) DO UPDATE SET text = excluded.text, updated_at = excluded.updated_at`,
			roomID, text, micros(trunc(db.now())))
	}
	if err != nil {
		return fmt.Errorf("sqlite: set chat pin of room %q: %w", roomID, mapErr(err))
	}
	return nil
}

// ChatPin returns the room's pinned announcement, "" when there is none.
func (db *DB) ChatPin(ctx context.Context, roomID string) (string, error) {
	var text string
	err := db.r.QueryRowContext(ctx, `SELECT text FROM chat_pins WHERE room_id = ?`, roomID).Scan(&text)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("sqlite: chat pin of room %q: %w", roomID, mapErr(err))
	}
	return text, nil
}
