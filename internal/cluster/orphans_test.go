package cluster

import (
	"context"
	"sync"
	"testing"
	"time"

	"roomcast/internal/natstest"
)

func TestOrphansEndedOnceAfterTheirGrace(t *testing.T) {
	ns := natstest.Start(t)
	a, b := startTestNode(t, ns, "a"), startTestNode(t, ns, "b")
	a.publish(t, "held")
	var mu sync.Mutex
	var ended []string
	sweeper := func(local string) *Orphans {
		return &Orphans{
			Live:  func(context.Context) ([]string, error) { return []string{"held", "orphan", local}, nil },
			Local: func(s string) bool { return s == local },
			End: func(s string) {
				mu.Lock()
				ended = append(ended, s)
				mu.Unlock()
			},
			After: 10 * time.Second,
		}
	}
	oa, ob := sweeper("local-a"), sweeper("local-b")
	ctx := context.Background()
	t0 := time.Now()
	for _, at := range []time.Time{t0, t0.Add(5 * time.Second), t0.Add(11 * time.Second), t0.Add(12 * time.Second)} {
		if err := oa.Sweep(ctx, a.Node, at); err != nil {
			t.Fatal(err)
		}
		if err := ob.Sweep(ctx, b.Node, at); err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		n := len(ended)
		mu.Unlock()
		if at.Sub(t0) < 10*time.Second && n != 0 {
			t.Fatalf("ended %v within the grace", ended)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(ended) != 1 || ended[0] != "orphan" {
		t.Fatalf("ended %v, want [orphan] once over both nodes", ended)
	}
}

func TestOrphanThatComesBackIsNotEnded(t *testing.T) {
	ns := natstest.Start(t)
	a, b := startTestNode(t, ns, "a"), startTestNode(t, ns, "b")
	var ended []string
	o := &Orphans{
		Live:  func(context.Context) ([]string, error) { return []string{"s"}, nil },
		Local: func(string) bool { return false },
		End:   func(s string) { ended = append(ended, s) },
		After: 10 * time.Second,
	}
	t0 := time.Now()
	if err := o.Sweep(context.Background(), b.Node, t0); err != nil {
		t.Fatal(err)
	}
	a.publish(t, "s") // the host came back on node a
	if err := o.Sweep(context.Background(), b.Node, t0.Add(20*time.Second)); err != nil {
		t.Fatal(err)
	}
	if len(ended) != 0 {
		t.Fatalf("ended %v although node a holds it again", ended)
	}
}
