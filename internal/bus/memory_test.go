package bus

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
)

func TestMemory(t *testing.T) {
	ctx := context.Background()
	b := NewMemory()
	var mu sync.Mutex
	got := map[string][]string{}
	sub := func(name, subject string) func() {
		un, err := b.Subscribe(subject, func(d []byte) {
			mu.Lock()
			got[name] = append(got[name], string(d))
			mu.Unlock()
		})
		if err != nil {
			t.Fatal(err)
		}
		return un
	}
	unA := sub("a", "x")
	sub("b", "x")
	sub("c", "y")
	for _, tc := range []struct{ subject, data string }{{"x", "1"}, {"y", "2"}, {"z", "3"}} {
		if err := b.Publish(ctx, tc.subject, []byte(tc.data)); err != nil {
			t.Fatal(err)
		}
	}
	unA()
	unA() // idempotent
	_ = b.Publish(ctx, "x", []byte("4"))
	want := map[string][]string{"a": {"1"}, "b": {"1", "4"}, "c": {"2"}}
	for k, w := range want {
		if !slices.Equal(got[k], w) {
			t.Errorf("%s got %v, want %v", k, got[k], w)
		}
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := b.Publish(cctx, "x", nil); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled publish: %v", err)
	}
	_ = b.Close()
	if err := b.Publish(ctx, "x", nil); !errors.Is(err, ErrClosed) {
		t.Errorf("publish after close: %v", err)
	}
	if _, err := b.Subscribe("x", func([]byte) {}); !errors.Is(err, ErrClosed) {
		t.Errorf("subscribe after close: %v", err)
	}
}

func TestMemoryConcurrent(t *testing.T) {
	b := NewMemory()
	var n int
	un, _ := b.Subscribe("s", func([]byte) { n++ }) // calls never overlap
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 100 {
				_ = b.Publish(context.Background(), "s", nil)
			}
		})
	}
	wg.Wait()
	un()
	if n != 800 {
		t.Errorf("n = %d, want 800", n)
	}
}
