package webhook_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"roomcast/internal/store"
	"roomcast/internal/store/sqlite"
	"roomcast/internal/webhook"
)

// The SQLite store is a webhook outbox.
var _ webhook.Store = (*sqlite.DB)(nil)

// testSecret signs the requests of test dispatchers.
const testSecret = "s3cret"

// openDB opens the database in dir; the test closes it, or it is closed when
// the test ends.
func openDB(t *testing.T, dir string) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(t.Context(), filepath.Join(dir, sqlite.FileName), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("sqlite.Open: %v", err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// testConfig returns a config for urls with short timeouts and backoffs.
func testConfig(urls ...string) webhook.Config {
	return webhook.Config{
		URLs:         urls,
		Secret:       testSecret,
		Timeout:      2 * time.Second,
		MinBackoff:   5 * time.Millisecond,
		MaxBackoff:   20 * time.Millisecond,
		PollInterval: 20 * time.Millisecond,
	}
}

// testLog returns a logger writing to the test's log.
func testLog(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(string(p[:len(p)-1]))
	return len(p), nil
}

// request is a request a receiver got.
type request struct {
	header http.Header
	method string
	body   []byte
	at     time.Time
}

// receiver is an HTTP server recording the requests it gets. answer, called
// with the request's number (from 1), writes the answer; nil answers 204.
type receiver struct {
	*httptest.Server
	mu     sync.Mutex
	reqs   []request
	answer func(n int, w http.ResponseWriter, r *http.Request)
}

func newReceiver(t *testing.T, answer func(n int, w http.ResponseWriter, r *http.Request)) *receiver {
	t.Helper()
	rc := &receiver{answer: answer}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			t.Errorf("receiver: reading body: %v", err)
		}
		rc.mu.Lock()
		rc.reqs = append(rc.reqs, request{header: r.Header.Clone(), method: r.Method, body: body, at: time.Now()})
		n, answer := len(rc.reqs), rc.answer
		rc.mu.Unlock()
		if answer == nil {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		answer(n, w, r)
	}))
	t.Cleanup(rc.Close)
	return rc
}

// requests returns a copy of the requests received so far.
func (rc *receiver) requests() []request {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]request(nil), rc.reqs...)
}

// count returns how many requests were received.
func (rc *receiver) count() int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return len(rc.reqs)
}

// setAnswer replaces the answer function.
func (rc *receiver) setAnswer(answer func(n int, w http.ResponseWriter, r *http.Request)) {
	rc.mu.Lock()
	rc.answer = answer
	rc.mu.Unlock()
}

// status answers with code.
func status(code int) func(int, http.ResponseWriter, *http.Request) {
	return func(_ int, w http.ResponseWriter, _ *http.Request) { w.WriteHeader(code) }
}

// hang answers only when the request is cancelled.
func hang(_ int, w http.ResponseWriter, r *http.Request) {
	<-r.Context().Done()
}

// run runs d.Run until the returned stop is called or the test ends; stop
// fails the test unless Run returns nil soon.
func run(t *testing.T, d *webhook.Dispatcher) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("Run: %v", err)
				}
			case <-time.After(5 * time.Second):
				t.Errorf("Run did not return within 5s of its context ending")
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

// waitFor fails the test unless cond becomes true within timeout.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// outbox is a webhook.Store that also lists due deliveries, as the stores do.
type outbox interface {
	webhook.Store
	DueDeliveries(ctx context.Context, now time.Time, limit int) ([]store.PendingDelivery, error)
}

// due returns the deliveries due at at.
func due(t *testing.T, db outbox, at time.Time) []store.PendingDelivery {
	t.Helper()
	ps, err := db.DueDeliveries(t.Context(), at, 1000)
	if err != nil {
		t.Fatalf("DueDeliveries: %v", err)
	}
	return ps
}

// emit emits ev or fails the test.
func emit(t *testing.T, d *webhook.Dispatcher, ev webhook.Event) {
	t.Helper()
	if err := d.Emit(t.Context(), ev); err != nil {
		t.Fatalf("Emit: %v", err)
	}
}

// wantStats fails the test unless d's stats are want.
func wantStats(t *testing.T, d *webhook.Dispatcher, want webhook.Stats) {
	t.Helper()
	if got := d.Stats(); got != want {
		t.Errorf("Stats = %+v, want %+v", got, want)
	}
}

// refusingStore is a Store that fails the test when used.
type refusingStore struct{ t *testing.T }

var errRefused = errors.New("refusingStore used")

func (s refusingStore) fail(method string) error {
	s.t.Errorf("store.%s called", method)
	return errRefused
}

func (s refusingStore) EnqueueEvent(context.Context, store.Event, []string) error {
	return s.fail("EnqueueEvent")
}

func (s refusingStore) ClaimDeliveries(context.Context, string, time.Time, time.Duration, int) ([]store.PendingDelivery, error) {
	return nil, s.fail("ClaimDeliveries")
}

func (s refusingStore) ReleaseDeliveries(context.Context, string) error {
	return s.fail("ReleaseDeliveries")
}

func (s refusingStore) MarkDelivered(context.Context, string, string, time.Time) error {
	return s.fail("MarkDelivered")
}

func (s refusingStore) MarkFailed(context.Context, string, string, int, time.Time, string) error {
	return s.fail("MarkFailed")
}

func (s refusingStore) MarkAbandoned(context.Context, string, string, int, time.Time, string) error {
	return s.fail("MarkAbandoned")
}

func (s refusingStore) PruneDelivered(context.Context, time.Time) (int64, error) {
	return 0, s.fail("PruneDelivered")
}
