package sqlite

import (
	"context"
	"fmt"
	"math"
	"time"

	"roomcast/internal/store"
)

// pruneBatch bounds the rows one delete statement removes, so that pruning
// a large history holds the single writer for short moments only.
const pruneBatch = 1000

// PruneChatHistory deletes, in every room, the chat messages beyond the
// newest keep (keep <= 0: no count limit) and those created before before
// (zero: no age limit), and returns how many it deleted. A room's newest
// message is never deleted, so that seq numbers are never reused: when it
// is past the limits its text is blanked and it is marked deleted instead.
// Each batch is its own short transaction: requests are never blocked for
// long.
func (db *DB) PruneChatHistory(ctx context.Context, keep int, before time.Time) (int64, error) {
	cut := int64(math.MinInt64)
	if !before.IsZero() {
		cut = micros(before)
	}
	k := int64(math.MaxInt64 / 2)
	if keep > 0 {
		k = int64(keep)
	}
	var total int64
	after := ""
	for {
		rooms, err := db.chatRoomsAfter(ctx, after)
		if err != nil {
			return total, err
		}
		if len(rooms) == 0 {
			return total, nil
		}
		for _, id := range rooms {
			n, err := db.pruneRoomChat(ctx, id, k, cut)
			total += n
			if err != nil {
				return total, err
			}
		}
		after = rooms[len(rooms)-1]
	}
}

// chatRoomsAfter returns up to store.MaxPageSize ids of rooms with chat
// messages, above after in id order.
func (db *DB) chatRoomsAfter(ctx context.Context, after string) ([]string, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT DISTINCT room_id FROM chat_messages WHERE room_id > ? ORDER BY room_id LIMIT ?`, after, store.MaxPageSize)
	if err != nil {
		return nil, fmt.Errorf("sqlite: rooms with chat: %w", mapErr(err))
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("sqlite: rooms with chat: %w", mapErr(err))
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: rooms with chat: %w", mapErr(err))
	}
	return ids, nil
}

// pruneRoomChat applies PruneChatHistory's limits to one room: keep the
// newest k by seq, nothing created before cut (Unix microseconds).
func (db *DB) pruneRoomChat(ctx context.Context, roomID string, k, cut int64) (int64, error) {
	var total int64
	for {
		res, err := db.w.ExecContext(ctx, `DELETE FROM chat_messages WHERE room_id = ?1 AND seq IN (
			SELECT m.seq FROM chat_messages m, (SELECT max(seq) AS top FROM chat_messages WHERE room_id = ?1) t
			WHERE m.room_id = ?1 AND m.seq < t.top AND (m.seq <= t.top - ?2 OR m.created_at < ?3)
			ORDER BY m.seq LIMIT ?4)`, roomID, k, cut, pruneBatch)
		if err != nil {
			return total, fmt.Errorf("sqlite: prune chat of room %q: %w", roomID, mapErr(err))
		}
		n, err := res.RowsAffected()
		if err != nil {
			return total, fmt.Errorf("sqlite: prune chat of room %q: %w", roomID, mapErr(err))
		}
		total += n
		if n < pruneBatch {
			break
		}
	}
	// The newest message stays, as the seq high-water mark, blanked when it
	// is too old (k >= 1 always keeps it by count).
	_, err := db.w.ExecContext(ctx, `UPDATE chat_messages SET text = '', deleted_at = coalesce(deleted_at, ?3)
		WHERE room_id = ?1 AND created_at < ?2 AND text <> ''
		AND seq = (SELECT max(seq) FROM chat_messages WHERE room_id = ?1)`, roomID, cut, micros(db.now()))
	if err != nil {
		return total, fmt.Errorf("sqlite: prune chat of room %q: %w", roomID, mapErr(err))
	}
	return total, nil
}

// RecordingBytesOfOwner returns the bytes on disk of the recordings of
// every room the user owns, finished or in progress (for the
// -max-recording-bytes-per-user quota).
func (db *DB) RecordingBytesOfOwner(ctx context.Context, ownerID string) (int64, error) {
	var n int64
	err := db.r.QueryRowContext(ctx, `SELECT coalesce(sum(r.bytes), 0) FROM recordings r JOIN rooms m ON m.id = r.room_id WHERE m.owner_id = ?`, ownerID).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("sqlite: recording bytes of %q: %w", ownerID, mapErr(err))
	}
	return n, nil
}
