package api

import (
	"fmt"
	"slices"
	"sync"
	"time"
)

// maxBuckets bounds the limiter's memory: when it holds this many buckets
// it drops the full ones, and if all are in use, the oldest half.
const maxBuckets = 10000

// limiter is a token bucket per key (client IP). Its methods are safe for
// concurrent use.
type limiter struct {
	burst float64
	every time.Duration
	now   func() time.Time

	mu      sync.Mutex
	buckets map[string]*bucket
}

type bucket struct {
	tokens float64
	at     time.Time // when tokens was last brought up to date
}

// newLimiter returns the limiter for rl, def when rl is zero, or nil (no
// limit) when rl.Burst is negative.
func newLimiter(rl, def RateLimit, now func() time.Time) (*limiter, error) {
	if rl == (RateLimit{}) {
		rl = def
	}
	if rl.Burst < 0 {
		return nil, nil
	}
	if rl.Burst == 0 || rl.Every <= 0 {
		return nil, fmt.Errorf("burst %d and interval %s must be positive (a negative burst turns the limit off)", rl.Burst, rl.Every)
	}
	return &limiter{burst: float64(rl.Burst), every: rl.Every, now: now, buckets: make(map[string]*bucket)}, nil
}

// allow takes a token from key's bucket. When there is none it returns
// false and how long until there is one.
func (l *limiter) allow(key string) (wait time.Duration, ok bool) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.buckets[key]
	if b == nil {
		if len(l.buckets) >= maxBuckets {
			l.sweepLocked(now)
		}
		b = &bucket{tokens: l.burst, at: now}
		l.buckets[key] = b
	}
	l.refill(b, now)
	if b.tokens >= 1 {
		b.tokens--
		return 0, true
	}
	return time.Duration((1 - b.tokens) * float64(l.every)), false
}

// refill adds the tokens earned since b.at.
func (l *limiter) refill(b *bucket, now time.Time) {
	if el := now.Sub(b.at); el > 0 {
		b.tokens = min(l.burst, b.tokens+float64(el)/float64(l.every))
		b.at = now
	}
}

// sweepLocked forgets full buckets (they behave like new ones); if none is
// full it forgets the least recently used half. l.mu must be held.
func (l *limiter) sweepLocked(now time.Time) {
	for k, b := range l.buckets {
		l.refill(b, now)
		if b.tokens >= l.burst {
			delete(l.buckets, k)
		}
	}
	if len(l.buckets) < maxBuckets {
		return
	}
	ats := make([]time.Time, 0, len(l.buckets))
	for _, b := range l.buckets {
		ats = append(ats, b.at)
	}
	cut := medianTime(ats)
	for k, b := range l.buckets {
		if !b.at.After(cut) {
			delete(l.buckets, k)
		}
	}
}

// medianTime sorts ts and returns its middle element.
func medianTime(ts []time.Time) time.Time {
	slices.SortFunc(ts, time.Time.Compare)
	return ts[len(ts)/2]
}
