package postgres

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
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
// Rows are claimed with FOR UPDATE SKIP LOCKED: dispatchers of several nodes
// claiming at once each get other deliveries, without waiting for each
// other. Leases are in the callers' clocks, which should agree to well
// within a lease.
func (db *DB) ClaimDeliveries(ctx context.Context, claimer string, now time.Time, lease time.Duration, limit int) ([]store.PendingDelivery, error) {
	if claimer == "" || lease <= 0 {
		return nil, errors.New("postgres: claim deliveries: claimer and a positive lease are required")
	}
	now = trunc(now)
	out, err := queryAll(ctx, db, `WITH c AS (
			SELECT event_id, url FROM deliveries
			WHERE delivered_at IS NULL AND abandoned_at IS NULL AND next_attempt_at <= $1
				AND (claimed_by IS NULL OR claimed_by = $2 OR claimed_until <= $1)
			ORDER BY next_attempt_at, event_id, url
			LIMIT $3
			FOR UPDATE SKIP LOCKED
		)
		UPDATE deliveries d SET claimed_by = $2, claimed_until = $4
		FROM c, events e
		WHERE d.event_id = c.event_id AND d.url = c.url AND e.id = d.event_id
		RETURNING `+pendingCols,
		[]any{now, claimer, page.Limit(limit), now.Add(lease)}, scanPending)
	if err != nil {
		return nil, fmt.Errorf("postgres: claim deliveries for %s: %w", claimer, err)
	}
	slices.SortFunc(out, func(a, b store.PendingDelivery) int {
		return cmp.Or(a.NextAttemptAt.Compare(b.NextAttemptAt), strings.Compare(a.EventID, b.EventID), strings.Compare(a.URL, b.URL))
	})
	return out, nil
}

// ReleaseDeliveries ends every claim of claimer, so that other claimers may
// take its deliveries at once: a dispatcher that stops cleanly calls it.
func (db *DB) ReleaseDeliveries(ctx context.Context, claimer string) error {
	_, err := db.pool.Exec(ctx, `UPDATE deliveries SET claimed_by = NULL, claimed_until = NULL WHERE claimed_by = $1`, claimer)
	if err != nil {
		return fmt.Errorf("postgres: release deliveries of %s: %w", claimer, mapErr(err))
	}
	return nil
}
