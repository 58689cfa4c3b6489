package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"roomcast/internal/store"
	"roomcast/internal/store/internal/page"
)

// maxLastError bounds the stored LastError of a delivery, which may quote a
// receiver's response.
const maxLastError = 1024

// EnqueueEvent stores ev and one delivery per distinct URL, due at once, in
// one transaction: once it returns nil the event will be delivered even if
// the process crashes right after. ev.ID and ev.Type must be set and
// ev.Payload must be JSON; a zero CreatedAt becomes the current time. It
// fails with store.ErrConflict if the event ID is taken.
func (db *DB) EnqueueEvent(ctx context.Context, ev store.Event, urls []string) error {
	if ev.ID == "" || ev.Type == "" {
		return errors.New("sqlite: enqueue event: id and type are required")
	}
	if !json.Valid(ev.Payload) {
		return fmt.Errorf("sqlite: enqueue event %q: payload is not JSON", ev.ID)
	}
	if ev.CreatedAt.IsZero() {
		ev.CreatedAt = db.now()
	}
	created := micros(ev.CreatedAt)
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO events (id, type, payload, created_at) VALUES (?, ?, ?, ?)`,
			ev.ID, ev.Type, string(ev.Payload), created); err != nil {
			return mapErr(err)
		}
		seen := make(map[string]bool, len(urls))
		for _, u := range urls {
			if u == "" {
				return errors.New("empty webhook URL")
			}
			if seen[u] {
				continue
			}
			seen[u] = true
			if _, err := tx.ExecContext(ctx, `INSERT INTO deliveries (event_id, url, next_attempt_at) VALUES (?, ?, ?)`,
				ev.ID, u, created); err != nil {
				return mapErr(err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("sqlite: enqueue event %q: %w", ev.ID, err)
	}
	return nil
}

// DueDeliveries returns up to limit deliveries, neither delivered nor
// abandoned, whose next attempt is due at now, the longest-waiting first,
// each with its event, whoever has claimed them. It claims nothing:
// dispatchers use ClaimDeliveries; this is for inspection and tests.
func (db *DB) DueDeliveries(ctx context.Context, now time.Time, limit int) ([]store.PendingDelivery, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT d.event_id, d.url, d.attempts, d.next_attempt_at, d.last_error,
			e.type, e.payload, e.created_at
		FROM deliveries d JOIN events e ON e.id = d.event_id
		WHERE d.delivered_at IS NULL AND d.abandoned_at IS NULL AND d.next_attempt_at <= ?
		ORDER BY d.next_attempt_at, d.event_id, d.url
		LIMIT ?`, micros(now), page.Limit(limit))
	if err != nil {
		return nil, fmt.Errorf("sqlite: due deliveries: %w", err)
	}
	out, err := scanPending(rows)
	if err != nil {
		return nil, fmt.Errorf("sqlite: due deliveries: %w", err)
	}
	return out, nil
}

// MarkDelivered records that the event was delivered to url at at, counting
// the attempt. Marking a delivered delivery again changes nothing. It fails
// with store.ErrNotFound if there is no such delivery.
func (db *DB) MarkDelivered(ctx context.Context, eventID, url string, at time.Time) error {
	err := db.updateDelivery(ctx, `UPDATE deliveries SET delivered_at = ?, attempts = attempts + 1, last_error = '', claimed_by = NULL, claimed_until = NULL
		WHERE event_id = ? AND url = ? AND delivered_at IS NULL`, micros(at), eventID, url)
	if err != nil {
		return fmt.Errorf("sqlite: mark event %q delivered to %s: %w", eventID, url, err)
	}
	return nil
}

// MarkFailed records a failed attempt to deliver the event to url: attempts
// is the number of attempts made so far, next when to try again and lastErr
// why it failed (truncated to 1 KiB). A delivery already delivered is left
// alone. It fails with store.ErrNotFound if there is no such delivery.
func (db *DB) MarkFailed(ctx context.Context, eventID, url string, attempts int, next time.Time, lastErr string) error {
	err := db.updateDelivery(ctx, `UPDATE deliveries SET attempts = ?, next_attempt_at = ?, last_error = ?, claimed_by = NULL, claimed_until = NULL
		WHERE event_id = ? AND url = ? AND delivered_at IS NULL`,
		max(attempts, 0), micros(next), truncateUTF8(lastErr, maxLastError), eventID, url)
	if err != nil {
		return fmt.Errorf("sqlite: mark event %q failed for %s: %w", eventID, url, err)
	}
	return nil
}

// MarkAbandoned records the last failed attempt to deliver the event to url
// and gives up on it: attempts is the number of attempts made, at when it
// gave up and lastErr why the last attempt failed (truncated to 1 KiB). The
// delivery is no longer due; its row stays, for inspection, until
// PruneDelivered removes it as if it had been delivered at at. A delivered or
// already abandoned delivery is left alone. It fails with store.ErrNotFound
// if there is no such delivery.
func (db *DB) MarkAbandoned(ctx context.Context, eventID, url string, attempts int, at time.Time, lastErr string) error {
	err := db.updateDelivery(ctx, `UPDATE deliveries SET attempts = ?, abandoned_at = ?, last_error = ?, claimed_by = NULL, claimed_until = NULL
		WHERE event_id = ? AND url = ? AND delivered_at IS NULL AND abandoned_at IS NULL`,
		max(attempts, 0), micros(at), truncateUTF8(lastErr, maxLastError), eventID, url)
	if err != nil {
		return fmt.Errorf("sqlite: mark event %q abandoned for %s: %w", eventID, url, err)
	}
	return nil
}

// updateDelivery runs an UPDATE of one undelivered delivery whose last two
// arguments are its event ID and URL. When it changes no row, it tells a
// delivered delivery (nil) from a missing one (store.ErrNotFound).
func (db *DB) updateDelivery(ctx context.Context, query string, args ...any) error {
	return db.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, query, args...)
		if err != nil {
			return err
		}
		if err := affected(res); !errors.Is(err, store.ErrNotFound) {
			return err
		}
		var one int
		err = tx.QueryRowContext(ctx, `SELECT 1 FROM deliveries WHERE event_id = ? AND url = ?`,
			args[len(args)-2], args[len(args)-1]).Scan(&one)
		return mapErr(err)
	})
}

// PruneDelivered deletes the deliveries delivered or abandoned before before,
// then the events older than before that have no delivery left, and returns
// how many deliveries it deleted. Deliveries neither delivered nor abandoned
// are kept however old.
func (db *DB) PruneDelivered(ctx context.Context, before time.Time) (int64, error) {
	var n int64
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		for _, q := range []string{
			`DELETE FROM deliveries WHERE delivered_at IS NOT NULL AND delivered_at < ?`,
			`DELETE FROM deliveries WHERE abandoned_at IS NOT NULL AND abandoned_at < ?`,
		} {
			res, err := tx.ExecContext(ctx, q, micros(before))
			if err != nil {
				return err
			}
			k, err := res.RowsAffected()
			if err != nil {
				return err
			}
			n += k
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM events WHERE created_at < ?
			AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = events.id)`, micros(before))
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("sqlite: prune delivered: %w", err)
	}
	return n, nil
}

// truncateUTF8 returns s cut to at most n bytes without splitting a rune.
func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
