package quota

import (
	"errors"
	"sync"
	"testing"
	"time"
)

func TestPublishes(t *testing.T) {
	live := map[string]bool{}
	var refused []string
	p := NewPublishes(2, func(s string) bool { return live[s] }, func(q string) { refused = append(refused, q) })
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	p.now = func() time.Time { return now }
	admit := func(user, stream string, want bool) {
		t.Helper()
		err := p.Admit(user, stream)
		var qe *Exceeded
		switch {
		case want && err != nil:
			t.Fatalf("%s publishing %s: %v", user, stream, err)
		case !want && (!errors.As(err, &qe) || qe.Quota != PublishesPerUser || qe.Limit != 2):
			t.Fatalf("%s publishing %s: %v, want %s exceeded", user, stream, err, PublishesPerUser)
		}
	}
	admit("alice", "a1", true)
	admit("alice", "a2", true) // a1 not live yet, but admitted a moment ago: counts
	admit("alice", "a3", false)
	admit("alice", "a1", true) // a second try of an admitted stream
	admit("bob", "b1", true)   // users are counted apart
	live["a1"], live["a2"] = true, true
	now = now.Add(time.Minute)
	admit("alice", "a3", false) // two live
	admit("alice", "a2", true)  // a reconnect of a live one
	live["a2"] = false          // whose publisher left again at once
	admit("alice", "a3", false) // a1 live, a2 admitted a moment ago
	p.Published("a2")           // a2 had gone live: it counts only while live
	admit("alice", "a3", true)  // a1 live, a3
	p.Forget("a1")              // a1 ended
	live["a1"] = false
	admit("alice", "a4", true)  // a3 and a4, admitted a moment ago
	admit("alice", "a5", false) // a third
	now = now.Add(time.Minute)
	admit("alice", "a5", true) // neither went live: their admissions lapsed
	if len(refused) != 4 {
		t.Errorf("%d refusals counted, want 4: %v", len(refused), refused)
	}
	if n := len(p.owner); n > 3 {
		t.Errorf("%d streams remembered, want at most 3 (lapsed ones forgotten)", n)
	}
	// No limit, and no user (open publishing): never refused.
	open := NewPublishes(0, func(string) bool { return true }, nil)
	for i := range 10 {
		if err := open.Admit("u", string(rune('a'+i))); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.Admit("", "x"); err != nil {
		t.Fatal(err)
	}
}

// TestPublishesConcurrent: however many publishes of one user race, no
// more than the limit pass.
func TestPublishesConcurrent(t *testing.T) {
	p := NewPublishes(3, func(string) bool { return false }, nil)
	var wg sync.WaitGroup
	var mu sync.Mutex
	passed := 0
	for i := range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if p.Admit("u", "s"+string(rune('A'+i))) == nil {
				mu.Lock()
				passed++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if passed != 3 {
		t.Fatalf("%d publishes passed, want 3", passed)
	}
}
