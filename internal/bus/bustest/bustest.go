// Package bustest is the conformance test of bus.Bus implementations: what
// the chat and the stream events rely on, checked the same way against the
// in-process bus and against NATS. Delivery may be asynchronous, so every
// check waits for its condition with a deadline.
package bustest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"roomcast/internal/bus"
)

// Wait is how long a check waits for deliveries before it fails.
const Wait = 10 * time.Second

// Pair returns two handles to one bus, as two nodes see it (for an
// in-process bus, the same value twice). Both are closed by the test's
// cleanup.
type Pair func(t *testing.T) (a, b bus.Bus)

// Run runs the conformance tests of the bus that pair gives.
func Run(t *testing.T, pair Pair) {
	for _, tc := range []struct {
		name string
		fn   func(t *testing.T, a, b bus.Bus)
	}{
		{"Delivery", testDelivery},
		{"OtherNode", testOtherNode},
		{"Order", testOrder},
		{"Unsubscribe", testUnsubscribe},
		{"NoOverlap", testNoOverlap},
		{"LargePayload", testLargePayload},
		{"CancelledContext", testCancelled},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, b := pair(t)
			tc.fn(t, a, b)
		})
	}
}

// Recorder collects what a subscription receives.
type Recorder struct {
	mu   sync.Mutex
	got  []string
	cond chan struct{} // closed and replaced on every message
}

// NewRecorder returns an empty Recorder.
func NewRecorder() *Recorder { return &Recorder{cond: make(chan struct{})} }

// Fn is the subscription callback.
func (r *Recorder) Fn(data []byte) {
	r.mu.Lock()
	r.got = append(r.got, string(data))
	close(r.cond)
	r.cond = make(chan struct{})
	r.mu.Unlock()
}

// Got returns a copy of what arrived so far.
func (r *Recorder) Got() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.got)
}

// WaitFor waits until ok accepts what arrived, or fails t after d.
func (r *Recorder) WaitFor(t testing.TB, d time.Duration, what string, ok func([]string) bool) []string {
	t.Helper()
	deadline := time.NewTimer(d)
	defer deadline.Stop()
	for {
		r.mu.Lock()
		got, cond := slices.Clone(r.got), r.cond
		r.mu.Unlock()
		if ok(got) {
			return got
		}
		select {
		case <-cond:
		case <-deadline.C:
			t.Fatalf("after %v still waiting for %s; got %d messages: %.300q", d, what, len(got), got)
		}
	}
}

// WaitCount waits for n messages and returns them.
func (r *Recorder) WaitCount(t testing.TB, n int) []string {
	t.Helper()
	return r.WaitFor(t, Wait, fmt.Sprintf("%d messages", n), func(g []string) bool { return len(g) >= n })
}

func subscribe(t *testing.T, b bus.Bus, subject string, fn func([]byte)) func() {
	t.Helper()
	un, err := b.Subscribe(subject, fn)
	if err != nil {
		t.Fatalf("subscribe %s: %v", subject, err)
	}
	t.Cleanup(un)
	return un
}

func publish(t *testing.T, b bus.Bus, subject, data string) {
	t.Helper()
	if err := b.Publish(context.Background(), subject, []byte(data)); err != nil {
		t.Fatalf("publish %s: %v", subject, err)
	}
}

// testDelivery: every subscriber of a subject gets its messages, no one
// else does.
func testDelivery(t *testing.T, a, _ bus.Bus) {
	x1, x2, y := NewRecorder(), NewRecorder(), NewRecorder()
	subscribe(t, a, "conf.x", x1.Fn)
	subscribe(t, a, "conf.x", x2.Fn)
	subscribe(t, a, "conf.y", y.Fn)
	publish(t, a, "conf.x", "1")
	publish(t, a, "conf.z", "nobody")
	publish(t, a, "conf.y", "2")
	publish(t, a, "conf.x", "3")
	for name, tc := range map[string]struct {
		r    *Recorder
		want []string
	}{"x1": {x1, []string{"1", "3"}}, "x2": {x2, []string{"1", "3"}}, "y": {y, []string{"2"}}} {
		if got := tc.r.WaitCount(t, len(tc.want)); !slices.Equal(got, tc.want) {
			t.Errorf("%s got %q, want %q", name, got, tc.want)
		}
	}
	// A marker published after the rest arrives after them: nothing else
	// came meanwhile.
	publish(t, a, "conf.y", "end")
	if got := y.WaitCount(t, 2); !slices.Equal(got, []string{"2", "end"}) {
		t.Errorf("y got %q", got)
	}
}

// testOtherNode: what one node publishes reaches the other's subscribers
// and its own.
func testOtherNode(t *testing.T, a, b bus.Bus) {
	onA, onB := NewRecorder(), NewRecorder()
	subscribe(t, a, "conf.room", onA.Fn)
	subscribe(t, b, "conf.room", onB.Fn)
	publish(t, a, "conf.room", "from a")
	publish(t, b, "conf.room", "from b")
	for name, r := range map[string]*Recorder{"a": onA, "b": onB} {
		got := r.WaitCount(t, 2)
		slices.Sort(got)
		if !slices.Equal(got, []string{"from a", "from b"}) {
			t.Errorf("%s got %q", name, got)
		}
	}
}

// testOrder: messages of one publisher arrive in publish order, also on
// the other node.
func testOrder(t *testing.T, a, b bus.Bus) {
	const n = 2000
	r := NewRecorder()
	subscribe(t, b, "conf.order", r.Fn)
	for i := range n {
		publish(t, a, "conf.order", fmt.Sprint(i))
	}
	got := r.WaitCount(t, n)
	for i, g := range got {
		if g != fmt.Sprint(i) {
			t.Fatalf("message %d is %q: out of order", i, g)
		}
	}
}

// testUnsubscribe: after unsubscribe returns, nothing more arrives;
// unsubscribe is idempotent; other subscriptions go on.
func testUnsubscribe(t *testing.T, a, b bus.Bus) {
	gone, stays := NewRecorder(), NewRecorder()
	un := subscribe(t, b, "conf.un", gone.Fn)
	subscribe(t, b, "conf.un", stays.Fn)
	publish(t, a, "conf.un", "1")
	gone.WaitCount(t, 1)
	stays.WaitCount(t, 1)
	un()
	un()
	publish(t, a, "conf.un", "2")
	stays.WaitCount(t, 2)
	if got := gone.Got(); !slices.Equal(got, []string{"1"}) {
		t.Errorf("unsubscribed got %q", got)
	}
}

// testNoOverlap: calls to one subscription's fn never overlap, even with
// concurrent publishers.
func testNoOverlap(t *testing.T, a, b bus.Bus) {
	var in, overlaps atomic.Int32
	r := NewRecorder()
	subscribe(t, b, "conf.overlap", func(d []byte) {
		if in.Add(1) > 1 {
			overlaps.Add(1)
		}
		time.Sleep(10 * time.Microsecond)
		in.Add(-1)
		r.Fn(d)
	})
	var wg sync.WaitGroup
	for _, p := range []bus.Bus{a, b, a, b} {
		wg.Go(func() {
			for range 100 {
				_ = p.Publish(context.Background(), "conf.overlap", []byte("x"))
			}
		})
	}
	wg.Wait()
	r.WaitCount(t, 400)
	if n := overlaps.Load(); n > 0 {
		t.Errorf("%d overlapping calls", n)
	}
}

// testLargePayload: a 256 KB payload arrives whole.
func testLargePayload(t *testing.T, a, b bus.Bus) {
	big := make([]byte, 256<<10)
	for i := range big {
		big[i] = byte('a' + i%26)
	}
	r := NewRecorder()
	subscribe(t, b, "conf.big", r.Fn)
	publish(t, a, "conf.big", string(big))
	if got := r.WaitCount(t, 1); got[0] != string(big) {
		t.Errorf("payload of %d bytes changed", len(got[0]))
	}
}

// testCancelled: a cancelled context fails Publish with its error.
func testCancelled(t *testing.T, a, _ bus.Bus) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := a.Publish(ctx, "conf.cancel", nil); !errors.Is(err, context.Canceled) {
		t.Errorf("publish with a cancelled context: %v", err)
	}
}
