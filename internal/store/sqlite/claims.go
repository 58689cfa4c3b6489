package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"roomcast/internal/store"
	"roomcast/internal/store/internal/page"
)

// ClaimDeliveries claims for claimer up to limit deliveries that are due at
// now (neither delivered nor abandoned) and that no other claimer holds:
// unclaimed, already claimed by claimer, or claimed by another whose lease
// ended by now. Each claim lasts until now+lease; claiming a delivery again
// renews it. It returns them the longest-waiting first, each with its event.
// MarkDelivered, MarkFailed and MarkAbandoned end a delivery's claim.
//
// On one node there is one claimer at a time, but the contract is the same
// as store/postgres's, where several nodes share the outbox.
func (db *DB) ClaimDeliveries(ctx context.Context, claimer string, now time.Time, lease time.Duration, limit int) ([]store.PendingDelivery, error) {
	if claimer == "" || lease <= 0 {
		return nil, errors.New("sqlite: claim deliveries: claimer and a positive lease are required")
	}
	var out []store.PendingDelivery
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT d.event_id, d.url, d.attempts, d.next_attempt_at, d.last_error,
				e.type, e.payload, e.created_at
			FROM deliveries d JOIN events e ON e.id = d.event_id
			WHERE d.delivered_at IS NULL AND d.abandoned_at IS NULL AND d.next_attempt_at <= ?1
				AND (d.claimed_by IS NULL OR d.claimed_by = ?2 OR d.claimed_until <= ?1)
			ORDER BY d.next_attempt_at, d.event_id, d.url
			LIMIT ?3`, micros(now), claimer, page.Limit(limit))
		if err != nil {
			return err
		}
		out, err = scanPending(rows)
		if err != nil {
			return err
		}
		until := micros(now.Add(lease))
		for _, p := range out {
			if _, err := tx.ExecContext(ctx, `UPDATE deliveries SET claimed_by = ?, claimed_until = ? WHERE event_id = ? AND url = ?`,
				claimer, until, p.EventID, p.URL); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: claim deliveries for %s: %w", claimer, mapErr(err))
	}
	return out, nil
}

// ReleaseDeliveries ends every claim of claimer, so that another claimer may
// take its deliveries at once: a dispatcher that stops cleanly calls it.
func (db *DB) ReleaseDeliveries(ctx context.Context, claimer string) error {
	_, err := db.w.ExecContext(ctx, `UPDATE deliveries SET claimed_by = NULL, claimed_until = NULL WHERE claimed_by = ?`, claimer)
	if err != nil {
		return fmt.Errorf("sqlite: release deliveries of %s: %w", claimer, mapErr(err))
	}
	return nil
}

// scanPending reads the rows of a query of due deliveries and closes them.
func scanPending(rows *sql.Rows) ([]store.PendingDelivery, error) {
	defer rows.Close()
	var out []store.PendingDelivery
	for rows.Next() {
		var (
			p             store.PendingDelivery
			next, created int64
			payload       string
		)
		if err := rows.Scan(&p.EventID, &p.URL, &p.Attempts, &next, &p.LastError,
			&p.Type, &payload, &created); err != nil {
			return nil, err
		}
		p.NextAttemptAt, p.CreatedAt = fromMicros(next), fromMicros(created)
		p.ID, p.Payload = p.EventID, []byte(payload)
		out = append(out, p)
	}
	return out, rows.Err()
}
