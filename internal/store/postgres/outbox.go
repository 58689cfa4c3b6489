package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

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
		return errors.New("postgres: enqueue event: id and type are required")
	}
	if !json.Valid(ev.Payload) {
		return fmt.Errorf("postgres: enqueue event %q: payload is not JSON", ev.ID)
	}
	if ev.CreatedAt.IsZero() {
		ev.CreatedAt = db.now()
	}
	created := trunc(ev.CreatedAt)
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO events (id, type, payload, created_at) VALUES ($1, $2, $3::text::json, $4)`,
			ev.ID, ev.Type, string(ev.Payload), created); err != nil {
			return err
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
			if _, err := tx.Exec(ctx, `INSERT INTO deliveries (event_id, url, next_attempt_at) VALUES ($1, $2, $3)`,
				ev.ID, u, created); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("postgres: enqueue event %q: %w", ev.ID, mapErr(err))
	}
	return nil
}

// pendingCols are the columns scanPending reads, of deliveries d and events e.
const pendingCols = `d.event_id, d.url, d.attempts, d.next_attempt_at, d.last_error, e.type, e.payload::text, e.created_at`

func scanPending(s rowScanner) (*store.PendingDelivery, error) {
	var (
		p       store.PendingDelivery
		payload string
	)
	if err := s.Scan(&p.EventID, &p.URL, &p.Attempts, &p.NextAttemptAt, &p.LastError,
		&p.Type, &payload, &p.CreatedAt); err != nil {
		return nil, err
	}
	p.NextAttemptAt, p.CreatedAt = p.NextAttemptAt.UTC(), p.CreatedAt.UTC()
	p.ID, p.Payload = p.EventID, []byte(payload)
	return &p, nil
}

// DueDeliveries returns up to limit deliveries, neither delivered nor
// abandoned, whose next attempt is due at now, the longest-waiting first,
// each with its event, whoever has claimed them. It claims nothing:
// dispatchers use ClaimDeliveries; this is for inspection and tests.
func (db *DB) DueDeliveries(ctx context.Context, now time.Time, limit int) ([]store.PendingDelivery, error) {
	out, err := queryAll(ctx, db, `SELECT `+pendingCols+`
		FROM deliveries d JOIN events e ON e.id = d.event_id
		WHERE d.delivered_at IS NULL AND d.abandoned_at IS NULL AND d.next_attempt_at <= $1
		ORDER BY d.next_attempt_at, d.event_id, d.url
		LIMIT $2`, []any{trunc(now), page.Limit(limit)}, scanPending)
	if err != nil {
		return nil, fmt.Errorf("postgres: due deliveries: %w", err)
	}
	return out, nil
}

// MarkDelivered records that the event was delivered to url at at, counting
// the attempt. Marking a delivered delivery again changes nothing. It fails
// with store.ErrNotFound if there is no such delivery.
func (db *DB) MarkDelivered(ctx context.Context, eventID, url string, at time.Time) error {
	err := db.updateDelivery(ctx, `UPDATE deliveries SET delivered_at = $1, attempts = attempts + 1, last_error = '', claimed_by = NULL, claimed_until = NULL
		WHERE event_id = $2 AND url = $3 AND delivered_at IS NULL`, trunc(at), eventID, url)
	if err != nil {
		return fmt.Errorf("postgres: mark event %q delivered to %s: %w", eventID, url, err)
	}
	return nil
}

// MarkFailed records a failed attempt to deliver the event to url: attempts
// is the number of attempts made so far, next when to try again and lastErr
// why it failed (truncated to 1 KiB). A delivery already delivered is left
// alone. It fails with store.ErrNotFound if there is no such delivery.
func (db *DB) MarkFailed(ctx context.Context, eventID, url string, attempts int, next time.Time, lastErr string) error {
	err := db.updateDelivery(ctx, `UPDATE deliveries SET attempts = $1, next_attempt_at = $2, last_error = $3, claimed_by = NULL, claimed_until = NULL
		WHERE event_id = $4 AND url = $5 AND delivered_at IS NULL`,
		max(attempts, 0), trunc(next), truncateUTF8(lastErr, maxLastError), eventID, url)
	if err != nil {
		return fmt.Errorf("postgres: mark event %q failed for %s: %w", eventID, url, err)
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
	err := db.updateDelivery(ctx, `UPDATE deliveries SET attempts = $1, abandoned_at = $2, last_error = $3, claimed_by = NULL, claimed_until = NULL
		WHERE event_id = $4 AND url = $5 AND delivered_at IS NULL AND abandoned_at IS NULL`,
		max(attempts, 0), trunc(at), truncateUTF8(lastErr, maxLastError), eventID, url)
	if err != nil {
		return fmt.Errorf("postgres: mark event %q abandoned for %s: %w", eventID, url, err)
	}
	return nil
}

// updateDelivery runs an UPDATE of one undelivered delivery whose last two
// arguments are its event ID and URL. When it changes no row, it tells a
// delivered delivery (nil) from a missing one (store.ErrNotFound).
func (db *DB) updateDelivery(ctx context.Context, query string, args ...any) error {
	tag, err := db.pool.Exec(ctx, query, args...)
	if err != nil {
		return mapErr(err)
	}
	if tag.RowsAffected() > 0 {
		return nil
	}
	var one int
	err = db.pool.QueryRow(ctx, `SELECT 1 FROM deliveries WHERE event_id = $1 AND url = $2`,
		args[len(args)-2], args[len(args)-1]).Scan(&one)
	return mapErr(err)
}

// PruneDelivered deletes the deliveries delivered or abandoned before before,
// then the events older than before that have no delivery left, and returns
// how many deliveries it deleted. Deliveries neither delivered nor abandoned
// are kept however old.
func (db *DB) PruneDelivered(ctx context.Context, before time.Time) (int64, error) {
	var n int64
	before = trunc(before)
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM deliveries WHERE (delivered_at IS NOT NULL AND delivered_at < $1)
			OR (abandoned_at IS NOT NULL AND abandoned_at < $1)`, before)
		if err != nil {
			return err
		}
		n = tag.RowsAffected()
		_, err = tx.Exec(ctx, `DELETE FROM events WHERE created_at < $1
			AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = events.id)`, before)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("postgres: prune delivered: %w", mapErr(err))
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
