package webhook_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"roomcast/internal/pgtest"
	"roomcast/internal/store"
	"roomcast/internal/store/postgres"
	"roomcast/internal/webhook"
)

// cluster is the Postgres server of the tests where several dispatchers,
// as on several nodes, share one outbox.
var cluster *pgtest.Cluster

func TestMain(m *testing.M) { os.Exit(pgtest.RunMain(m, &cluster)) }

// The Postgres store is a webhook outbox.
var _ webhook.Store = (*postgres.DB)(nil)

// openPG opens a fresh Postgres database, closed when the test ends.
func openPG(t *testing.T) *postgres.DB {
	t.Helper()
	db, err := postgres.Open(t.Context(), cluster.NewDatabase(t), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("postgres.Open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// Two nodes' dispatchers on one outbox deliver each event once.
func TestTwoDispatchersDeliverEachEventOnce(t *testing.T) {
	db := openPG(t)
	rc := newReceiver(t, nil)
	cfgA, cfgB := testConfig(rc.URL), testConfig(rc.URL)
	cfgA.Claimer, cfgB.Claimer = "node-a", "node-b"
	a, b := webhook.New(db, cfgA, testLog(t)), webhook.New(db, cfgB, testLog(t))
	stopA, stopB := run(t, a), run(t, b)
	const events = 30
	for i := range events {
		d := a
		if i%2 == 1 {
			d = b
		}
		emit(t, d, webhook.Event{Type: webhook.TypeRoomLive, Stream: "s"})
	}
	waitFor(t, 30*time.Second, "every event delivered", func() bool {
		return a.Stats().Delivered+b.Stats().Delivered >= events
	})
	stopA()
	stopB()
	seen := map[string]int{}
	for _, r := range rc.requests() {
		seen[r.header.Get(webhook.HeaderDelivery)]++
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("event %s sent %d times", id, n)
		}
	}
	if len(seen) != events || a.Stats().Delivered+b.Stats().Delivered != events {
		t.Errorf("%d events received, %d+%d delivered; want %d", len(seen), a.Stats().Delivered, b.Stats().Delivered, events)
	}
	if ps := due(t, db, time.Now().Add(time.Hour)); len(ps) != 0 {
		t.Errorf("still due: %+v", ps)
	}
}

// A node that dies holding a claim (its request in flight, nothing recorded,
// nothing released) does not lose the event: another node sends it once
// the claim's lease has ended, and not before.
func TestDeadNodesClaimIsTakenOverAfterLease(t *testing.T) {
	db := openPG(t)
	rc := newReceiver(t, hang)
	cfg := testConfig(rc.URL)
	cfg.Timeout = time.Second // lease: 2×1s + 5s = 7s
	cfgA, cfgB := cfg, cfg
	cfgA.Claimer, cfgB.Claimer = "node-a", "node-b"
	dying := &dyingStore{Store: db}
	a := webhook.New(dying, cfgA, testLog(t))
	stopA := run(t, a)
	beforeEmit := time.Now()
	emit(t, a, webhook.Event{Type: webhook.TypeStreamPublished, Stream: "s"})
	waitFor(t, 10*time.Second, "node A's request", func() bool { return rc.count() == 1 })
	dying.dead.Store(true) // from here A can neither record nor release anything
	stopA()

	rc.setAnswer(nil)
	b := webhook.New(db, cfgB, testLog(t))
	run(t, b)
	waitFor(t, 30*time.Second, "node B's delivery", func() bool { return b.Stats().Delivered == 1 })
	reqs := rc.requests()
	if len(reqs) != 2 || reqs[0].header.Get(webhook.HeaderDelivery) != reqs[1].header.Get(webhook.HeaderDelivery) {
		t.Fatalf("receiver got %d requests; want A's and then B's of the same event", len(reqs))
	}
	// A claimed the delivery after it was emitted, for a lease of 7s: B
	// may send it only once that lease has ended (less a millisecond for
	// the store's microsecond times).
	if gap := reqs[1].at.Sub(beforeEmit); gap < 7*time.Second-time.Millisecond {
		t.Errorf("B sent %v after the event was emitted: before A's lease ended", gap)
	}
	wantStats(t, b, webhook.Stats{Delivered: 1})
}

// dyingStore is a webhook outbox that stops working once dead is set, as
// the store of a process that was killed.
type dyingStore struct {
	webhook.Store
	dead atomic.Bool
}

var errDead = errors.New("the node is dead")

func (s *dyingStore) ClaimDeliveries(ctx context.Context, claimer string, now time.Time, lease time.Duration, limit int) ([]store.PendingDelivery, error) {
	if s.dead.Load() {
		return nil, errDead
	}
	return s.Store.ClaimDeliveries(ctx, claimer, now, lease, limit)
}

func (s *dyingStore) ReleaseDeliveries(ctx context.Context, claimer string) error {
	if s.dead.Load() {
		return errDead
	}
	return s.Store.ReleaseDeliveries(ctx, claimer)
}

func (s *dyingStore) MarkDelivered(ctx context.Context, eventID, url string, at time.Time) error {
	if s.dead.Load() {
		return errDead
	}
	return s.Store.MarkDelivered(ctx, eventID, url, at)
}

func (s *dyingStore) MarkFailed(ctx context.Context, eventID, url string, attempts int, next time.Time, lastErr string) error {
	if s.dead.Load() {
		return errDead
	}
	return s.Store.MarkFailed(ctx, eventID, url, attempts, next, lastErr)
}

func (s *dyingStore) MarkAbandoned(ctx context.Context, eventID, url string, attempts int, at time.Time, lastErr string) error {
	if s.dead.Load() {
		return errDead
	}
	return s.Store.MarkAbandoned(ctx, eventID, url, attempts, at, lastErr)
}

// While Postgres is down the dispatcher keeps running: Emit fails with
// store.ErrUnavailable, the outbox read failure is logged once (not every
// poll), and once Postgres is back the same dispatcher delivers again.
func TestDispatcherSurvivesPostgresOutage(t *testing.T) {
	pg := pgtest.Start(t) // a server of its own: this test stops it
	db, err := postgres.Open(t.Context(), pg.NewDatabase(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	rc := newReceiver(t, nil)
	logs := &lockedBuffer{}
	d := webhook.New(db, testConfig(rc.URL), slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	run(t, d)
	emit(t, d, webhook.Event{Type: webhook.TypeRoomLive, Stream: "s"})
	waitFor(t, 10*time.Second, "the first delivery", func() bool { return d.Stats().Delivered == 1 })

	if err := pg.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := d.Emit(t.Context(), webhook.Event{Type: webhook.TypeRoomEnded, Stream: "s"}); !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("Emit with Postgres down = %v, want ErrUnavailable", err)
	}
	waitFor(t, 10*time.Second, "three failed reads of the outbox", func() bool {
		return strings.Count(logs.String(), "webhook outbox read failed") >= 3
	})
	if n := strings.Count(logs.String(), "level=ERROR msg=\"webhook outbox read failed"); n != 1 {
		t.Errorf("%d error lines for one outage, want 1:\n%s", n, logs)
	}

	if err := pg.Start(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "an Emit after Postgres is back", func() bool {
		return d.Emit(t.Context(), webhook.Event{Type: webhook.TypeRoomEnded, Stream: "s"}) == nil
	})
	waitFor(t, 10*time.Second, "the delivery after the outage", func() bool { return d.Stats().Delivered == 2 })
	waitFor(t, 10*time.Second, "the recovery logged", func() bool {
		return strings.Contains(logs.String(), "webhook outbox readable again")
	})
}

// lockedBuffer is a bytes.Buffer safe for concurrent use.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
