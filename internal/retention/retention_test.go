package retention

import (
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"roomcast/internal/store/sqlite"
)

// The SQLite store is a chat store for the job.
var _ ChatStore = (*sqlite.DB)(nil)

// fakeCalls records the job's calls (the store's own behaviour is tested in
// the store packages; here only what the job asks matters).
type fakeCalls struct {
	mu    sync.Mutex
	calls []call
	n     int64
	err   error
}

type call struct {
	keep   int
	before time.Time
}

func (f *fakeCalls) PruneChatHistory(ctx context.Context, keep int, before time.Time) (int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, call{keep, before})
	return f.n, f.err
}

func (f *fakeCalls) got() []call {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]call(nil), f.calls...)
}

func TestPruneArguments(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		name string
		cfg  Config
		want call
	}{
		{"count only", Config{ChatKeep: 100}, call{100, time.Time{}}},
		{"age only", Config{ChatMaxAge: time.Hour}, call{0, now.Add(-time.Hour)}},
		{"both", Config{ChatKeep: 5, ChatMaxAge: 24 * time.Hour}, call{5, now.Add(-24 * time.Hour)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := &fakeCalls{n: 7}
			var pruned []int64
			tt.cfg.Now = func() time.Time { return now }
			tt.cfg.Pruned = func(what string, n int64) {
				if what != "chat" {
					t.Errorf("pruned %q", what)
				}
				pruned = append(pruned, n)
			}
			n, err := NewChat(st, tt.cfg, slog.New(slog.DiscardHandler)).Prune(t.Context())
			if err != nil || n != 7 {
				t.Fatalf("Prune = %d, %v", n, err)
			}
			if got := st.got(); len(got) != 1 || got[0] != tt.want {
				t.Fatalf("calls %+v, want %+v", got, tt.want)
			}
			if len(pruned) != 1 || pruned[0] != 7 {
				t.Fatalf("Pruned calls %v", pruned)
			}
		})
	}
}

// TestRunPrunesAtStartAndSurvivesErrors: Run prunes at once, keeps going
// after a failing prune, and stops with its context.
func TestRunPrunesAtStartAndSurvivesErrors(t *testing.T) {
	st := &fakeCalls{err: errors.New("database is down")}
	job := NewChat(st, Config{ChatKeep: 1, Interval: 10 * time.Millisecond}, slog.New(slog.DiscardHandler))
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- job.Run(ctx) }()
	deadline := time.Now().Add(10 * time.Second)
	for len(st.got()) < 3 {
		if time.Now().After(deadline) {
			t.Fatalf("%d prunes in 10s, want 3", len(st.got()))
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run = %v", err)
	}
}

// TestRunOffWithoutLimits: no limit, no prune.
func TestRunOffWithoutLimits(t *testing.T) {
	st := &fakeCalls{}
	job := NewChat(st, Config{Interval: time.Millisecond}, slog.New(slog.DiscardHandler))
	if job.Enabled() {
		t.Fatal("enabled without limits")
	}
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	if err := job.Run(ctx); err != nil {
		t.Fatal(err)
	}
	if got := st.got(); len(got) != 0 {
		t.Fatalf("pruned without limits: %+v", got)
	}
}

// TestOnSQLite runs the job over a real store end to end.
func TestOnSQLite(t *testing.T) {
	db, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), sqlite.FileName), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := NewChat(db, Config{ChatKeep: 10}, slog.New(slog.DiscardHandler)).Prune(t.Context()); err != nil {
		t.Fatalf("prune of an empty store: %v", err)
	}
}
