package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"

	"roomcast/internal/store"
	"roomcast/internal/store/internal/page"
)

// lockChat is the first key of the transaction-scoped advisory lock that
// serialises the appends to one room's chat (the second key is a hash of the
// room ID), so that two nodes never take the same seq.
const lockChat = 0x63686174 // "chat"

const chatCols = `room_id, seq, id, user_id, user_name, text, created_at, deleted_at`

func scanChatMessage(s rowScanner) (*store.ChatMessage, error) {
	var m store.ChatMessage
	if err := s.Scan(&m.RoomID, &m.Seq, &m.ID, &m.UserID, &m.UserName, &m.Text, &m.CreatedAt, &m.DeletedAt); err != nil {
		return nil, err
	}
	m.CreatedAt, m.DeletedAt = m.CreatedAt.UTC(), utcPtr(m.DeletedAt)
	return &m, nil
}

// AppendChatMessage stores m as the room's next message: it sets m.Seq to one
// above the room's highest seq (deleted messages included, so a seq is never
// reused, also across restarts and nodes) and truncates m.CreatedAt (the
// store's clock when zero). m.ID must be unique. It fails with
// store.ErrNotFound when the room does not exist.
func (db *DB) AppendChatMessage(ctx context.Context, m *store.ChatMessage) error {
	if m.CreatedAt.IsZero() {
		m.CreatedAt = db.now()
	}
	m.CreatedAt = trunc(m.CreatedAt)
	m.DeletedAt = truncPtr(m.DeletedAt)
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1, hashtext($2))`, lockChat, m.RoomID); err != nil {
			return err
		}
		return tx.QueryRow(ctx, `INSERT INTO chat_messages (`+chatCols+`)
			SELECT $1, coalesce(max(seq), 0) + 1, $2, $3, $4, $5, $6, $7 FROM chat_messages WHERE room_id = $1
			RETURNING seq`,
			m.RoomID, m.ID, m.UserID, m.UserName, m.Text, m.CreatedAt, m.DeletedAt).Scan(&m.Seq)
	})
	if err != nil {
		return fmt.Errorf("postgres: append chat message to room %q: %w", m.RoomID, mapErr(err))
	}
	return nil
}

// LastChatSeq returns the highest seq of the room's messages, 0 if it has none.
func (db *DB) LastChatSeq(ctx context.Context, roomID string) (int64, error) {
	var seq int64
	err := db.pool.QueryRow(ctx, `SELECT coalesce(max(seq), 0) FROM chat_messages WHERE room_id = $1`, roomID).Scan(&seq)
	if err != nil {
		return 0, fmt.Errorf("postgres: last chat seq of room %q: %w", roomID, mapErr(err))
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
	ms, err := queryAll(ctx, db, `SELECT `+chatCols+`
		FROM chat_messages WHERE room_id = $1 AND seq < $2 AND deleted_at IS NULL ORDER BY seq DESC LIMIT $3`,
		[]any{roomID, before, page.Limit(limit)}, scanChatMessage)
	if err != nil {
		return nil, fmt.Errorf("postgres: chat messages of room %q before %d: %w", roomID, before, err)
	}
	slices.Reverse(ms)
	return ms, nil
}

// ChatMessagesAfter returns up to limit of the room's messages that are not
// deleted and whose seq is above after, in ascending seq order.
func (db *DB) ChatMessagesAfter(ctx context.Context, roomID string, after int64, limit int) ([]store.ChatMessage, error) {
	ms, err := queryAll(ctx, db, `SELECT `+chatCols+`
		FROM chat_messages WHERE room_id = $1 AND seq > $2 AND deleted_at IS NULL ORDER BY seq LIMIT $3`,
		[]any{roomID, after, page.Limit(limit)}, scanChatMessage)
	if err != nil {
		return nil, fmt.Errorf("postgres: chat messages of room %q after %d: %w", roomID, after, err)
	}
	return ms, nil
}

// DeleteChatMessage marks the room's message with the given id deleted and
// returns it. It fails with store.ErrNotFound when the room has no such
// message or it is already deleted.
func (db *DB) DeleteChatMessage(ctx context.Context, roomID, id string) (*store.ChatMessage, error) {
	m, err := scanChatMessage(db.pool.QueryRow(ctx, `UPDATE chat_messages SET deleted_at = $1
		WHERE room_id = $2 AND id = $3 AND deleted_at IS NULL
		RETURNING `+chatCols, trunc(db.now()), roomID, id))
	if err != nil {
		return nil, fmt.Errorf("postgres: delete chat message %q of room %q: %w", id, roomID, mapErr(err))
	}
	return m, nil
}

// PutChatSanction creates or replaces the sanction of s.Kind on s.UserID in
// s.RoomID. It fails with store.ErrNotFound when the room does not exist.
func (db *DB) PutChatSanction(ctx context.Context, s *store.ChatSanction) error {
	if !store.ValidSanction(s.Kind) {
		return fmt.Errorf("postgres: put chat sanction: invalid kind %q", s.Kind)
	}
	if s.CreatedAt.IsZero() {
		s.CreatedAt = db.now()
	}
	s.CreatedAt = trunc(s.CreatedAt)
	s.Until = truncPtr(s.Until)
	_, err := db.pool.Exec(ctx, `INSERT INTO chat_sanctions (room_id, user_id, kind, until, created_at) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (room_id, user_id, kind) DO UPDATE SET until = excluded.until, created_at = excluded.created_at`,
		s.RoomID, s.UserID, s.Kind, s.Until, s.CreatedAt)
	if err != nil {
		return fmt.Errorf("postgres: put chat sanction %s of %q in room %q: %w", s.Kind, s.UserID, s.RoomID, mapErr(err))
	}
	return nil
}

// DeleteChatSanction lifts the sanction of the given kind; lifting one that
// does not exist is not an error.
func (db *DB) DeleteChatSanction(ctx context.Context, roomID, userID, kind string) error {
	_, err := db.pool.Exec(ctx, `DELETE FROM chat_sanctions WHERE room_id = $1 AND user_id = $2 AND kind = $3`, roomID, userID, kind)
	if err != nil {
		return fmt.Errorf("postgres: delete chat sanction %s of %q in room %q: %w", kind, userID, roomID, mapErr(err))
	}
	return nil
}

// ChatSanctions returns the sanctions of the user in the room, expired ones
// included (see store.ChatSanction.Active).
func (db *DB) ChatSanctions(ctx context.Context, roomID, userID string) ([]store.ChatSanction, error) {
	out, err := queryAll(ctx, db, `SELECT room_id, user_id, kind, until, created_at FROM chat_sanctions
		WHERE room_id = $1 AND user_id = $2 ORDER BY kind`, []any{roomID, userID},
		func(s rowScanner) (*store.ChatSanction, error) {
			var c store.ChatSanction
			if err := s.Scan(&c.RoomID, &c.UserID, &c.Kind, &c.Until, &c.CreatedAt); err != nil {
				return nil, err
			}
			c.Until, c.CreatedAt = utcPtr(c.Until), c.CreatedAt.UTC()
			return &c, nil
		})
	if err != nil {
		return nil, fmt.Errorf("postgres: chat sanctions of %q in room %q: %w", userID, roomID, err)
	}
	return out, nil
}

// SetChatPin stores text as the room's pinned announcement, replacing the
// previous one; an empty text clears it (clearing none is not an error).
// It fails with store.ErrNotFound when the room does not exist.
func (db *DB) SetChatPin(ctx context.Context, roomID, text string) error {
	var err error
	if text == "" {
		_, err = db.pool.Exec(ctx, `DELETE FROM chat_pins WHERE room_id = $1`, roomID)
	} else {
		_, err = db.pool.Exec(ctx, `INSERT INTO chat_pins (room_id, text, updated_at) VALUES ($1, $2, $3)
			ON CONFLICT (room_id) DO UPDATE SET text = excluded.text, updated_at = excluded.updated_at`,
			roomID, text, trunc(db.now()))
	}
	if err != nil {
		return fmt.Errorf("postgres: set chat pin of room %q: %w", roomID, mapErr(err))
	}
	return nil
}

// ChatPin returns the room's pinned announcement, "" when there is none.
func (db *DB) ChatPin(ctx context.Context, roomID string) (string, error) {
	var text string
	err := db.pool.QueryRow(ctx, `SELECT text FROM chat_pins WHERE room_id = $1`, roomID).Scan(&text)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("postgres: chat pin of room %q: %w", roomID, mapErr(err))
	}
	return text, nil
}
