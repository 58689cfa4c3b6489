package postgres

import (
	"context"
	"fmt"
	"math"
	"time"

	"roomcast/internal/store"
)

// pruneBatch bounds the rows one delete statement removes, so that pruning
// a large history holds its locks for short moments only.
const pruneBatch = 1000

// PruneChatHistory deletes, in every room, the chat messages beyond the
// newest keep (keep <= 0: no count limit) and those created before before
// (zero: no age limit), and returns how many it deleted. A room's newest
// message is never deleted, so that seq numbers are never reused: when it
// is past the limits its text is blanked and it is marked deleted instead.
// Each batch is its own short statement. Nodes of a cluster may run it at
// the same time: they delete the same rows, once.
func (db *DB) PruneChatHistory(ctx context.Context, keep int, before time.Time) (int64, error) {
	var cut *time.Time
	if !before.IsZero() {
		b := trunc(before)
		cut = &b
	}
	k := int64(math.MaxInt64 / 2)
	if keep > 0 {
		k = int64(keep)
	}
	var total int64
	after := ""
	for {
		var rooms []string
		rows, err := db.pool.Query(ctx, `SELECT DISTINCT room_id FROM chat_messages WHERE room_id > $1 ORDER BY room_id LIMIT $2`,
			after, store.MaxPageSize)
		if err == nil {
			for rows.Next() {
				var id string
				if err = rows.Scan(&id); err != nil {
					break
				}
				rooms = append(rooms, id)
			}
			rows.Close()
			if err == nil {
				err = rows.Err()
			}
		}
		if err != nil {
			return total, fmt.Errorf("postgres: rooms with chat: %w", mapErr(err))
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

// pruneRoomChat applies PruneChatHistory's limits to one room: keep the
// newest k by seq, nothing created before cut (nil: no age limit).
func (db *DB) pruneRoomChat(ctx context.Context, roomID string, k int64, cut *time.Time) (int64, error) {
	var total int64
	for {
		tag, err := db.pool.Exec(ctx, `DELETE FROM chat_messages WHERE room_id = $1 AND seq IN (
			SELECT m.seq FROM chat_messages m, (SELECT max(seq) AS top FROM chat_messages WHERE room_id = $1) t
			WHERE m.room_id = $1 AND m.seq < t.top AND (m.seq <= t.top - $2 OR m.created_at < $3)
			ORDER BY m.seq LIMIT $4)`, roomID, k, cut, pruneBatch)
		if err != nil {
			return total, fmt.Errorf("postgres: prune chat of room %q: %w", roomID, mapErr(err))
		}
		total += tag.RowsAffected()
		if tag.RowsAffected() < pruneBatch {
			break
		}
	}
	if cut == nil {
		return total, nil
	}
	// The newest message stays, as the seq high-water mark, blanked when it
	// is too old (k >= 1 always keeps it by count).
	_, err := db.pool.Exec(ctx, `UPDATE chat_messages SET text = '', deleted_at = coalesce(deleted_at, $3)
		WHERE room_id = $1 AND created_at < $2 AND text <> ''
		AND seq = (SELECT max(seq) FROM chat_messages WHERE room_id = $1)`, roomID, *cut, trunc(db.now()))
	if err != nil {
		return total, fmt.Errorf("postgres: prune chat of room %q: %w", roomID, mapErr(err))
	}
	return total, nil
}

// RecordingBytesOfOwner returns the bytes on disk of the recordings of
// every room the user owns, finished or in progress (for the
// -max-recording-bytes-per-user quota).
func (db *DB) RecordingBytesOfOwner(ctx context.Context, ownerID string) (int64, error) {
	var n int64
	err := db.pool.QueryRow(ctx, `SELECT coalesce(sum(r.bytes), 0)::bigint FROM recordings r JOIN rooms m ON m.id = r.room_id WHERE m.owner_id = $1`, ownerID).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("postgres: recording bytes of %q: %w", ownerID, mapErr(err))
	}
	return n, nil
}
