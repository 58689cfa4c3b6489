package chat

import (
	"errors"
	"fmt"
	"sync"
	"testing"
)

func TestRegistry(t *testing.T) {
	var r registry
	opened := 0
	open := func() (*roomChannel, error) { opened++; return &roomChannel{}, nil }
	a, _ := r.acquire("r1", open)
	b, _ := r.acquire("r1", open)
	if a != b || opened != 1 || r.get("r1") != a {
		t.Fatalf("two acquires of one room: %p %p, opened %d", a, b, opened)
	}
	if _, err := r.acquire("r2", func() (*roomChannel, error) { return nil, errors.New("no") }); err == nil || r.get("r2") != nil {
		t.Fatalf("a failed open left a channel: %v", err)
	}
	if r.release("r1") || r.get("r1") == nil {
		t.Fatal("released with a client left")
	}
	if !r.release("r1") || r.get("r1") != nil || len(r.all()) != 0 {
		t.Fatal("the last release kept the channel")
	}
}

func TestConnCountsConcurrent(t *testing.T) {
	var c connCounts
	var wg sync.WaitGroup
	var mu sync.Mutex
	granted := map[string]int{}
	for i := range 400 {
		wg.Go(func() {
			key := fmt.Sprint("u", i%4)
			if c.add(key, 5) {
				mu.Lock()
				granted[key]++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	for k, n := range granted {
		if n != 5 {
			t.Errorf("%s: %d granted, want the limit 5", k, n)
		}
		c.remove(k)
		if !c.add(k, 5) {
			t.Errorf("%s: no slot after a remove", k)
		}
	}
}
