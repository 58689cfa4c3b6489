package webhook_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"roomcast/internal/store/sqlite"
	"roomcast/internal/webhook"
)

// pruneSpy is the SQLite outbox that records the cut-off of each prune.
type pruneSpy struct {
	*sqlite.DB
	mu      sync.Mutex
	befores []time.Time
}

func (p *pruneSpy) PruneDelivered(ctx context.Context, before time.Time) (int64, error) {
	p.mu.Lock()
	p.befores = append(p.befores, before)
	p.mu.Unlock()
	return p.DB.PruneDelivered(ctx, before)
}

func (p *pruneSpy) cutoffs() []time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]time.Time(nil), p.befores...)
}

// TestRetention: Run prunes at start with the configured retention (the
// default a week, -webhook-outbox-max-age), and never with a negative one.
func TestRetention(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name      string
		retention time.Duration
		want      []time.Time
	}{
		{"default", 0, []time.Time{now.Add(-webhook.DefaultRetention)}},
		{"an hour", time.Hour, []time.Time{now.Add(-time.Hour)}},
		{"forever", -1, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spy := &pruneSpy{DB: openDB(t, t.TempDir())}
			cfg := testConfig()
			cfg.Retention = tt.retention
			cfg.Now = func() time.Time { return now }
			d := webhook.New(spy, cfg, testLog(t))
			// Flush runs no prune; Run prunes first, then waits.
			stop := run(t, d)
			if tt.want != nil {
				waitFor(t, 5*time.Second, "the first prune", func() bool { return len(spy.cutoffs()) > 0 })
			}
			stop()
			got := spy.cutoffs()
			if len(got) != len(tt.want) || (len(got) == 1 && !got[0].Equal(tt.want[0])) {
				t.Fatalf("prune cut-offs %v, want %v", got, tt.want)
			}
		})
	}
}
