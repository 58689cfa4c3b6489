package app

import (
	"context"
	"errors"
	"net/url"
	"testing"
	"time"
)

func TestPlayCache(t *testing.T) {
	now := time.Unix(1000, 0)
	calls := map[string]int{}
	deny := errors.New("denied")
	c := newPlayCache(func(_ context.Context, stream string, q url.Values) error {
		calls[stream+"?"+q.Encode()]++
		if q.Get("txSecret") == "bad" {
			return deny
		}
		return nil
	}, time.Second, func() time.Time { return now })
	ctx := context.Background()
	signed := url.Values{"txSecret": {"ok"}, "txTime": {"ff"}}
	bad := url.Values{"txSecret": {"bad"}, "txTime": {"ff"}}
	steps := []struct {
		name    string
		advance time.Duration
		stream  string
		q       url.Values
		want    error
		calls   int // checks of this stream and query so far
	}{
		{"first public request checks", 0, "a", url.Values{}, nil, 1},
		{"then it is cached", 500 * time.Millisecond, "a", url.Values{"x": {"1"}}, nil, 0},
		{"another stream checks", 0, "b", url.Values{}, nil, 1},
		{"a signature is its own entry", 0, "a", signed, nil, 1},
		{"cached", 0, "a", signed, nil, 1},
		{"refusals are not kept", 0, "a", bad, deny, 1},
		{"and checked again", 0, "a", bad, deny, 2},
		{"expired: checked again", 600 * time.Millisecond, "a", url.Values{}, nil, 2},
	}
	for _, s := range steps {
		now = now.Add(s.advance)
		if err := c.allow(ctx, s.stream, s.q); !errors.Is(err, s.want) {
			t.Fatalf("%s: %v, want %v", s.name, err, s.want)
		}
		if got := calls[s.stream+"?"+s.q.Encode()]; got != s.calls {
			t.Fatalf("%s: %d checks, want %d (%v)", s.name, got, s.calls, calls)
		}
	}
}
