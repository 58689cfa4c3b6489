package chat

import "time"

// bucket is a token bucket: capacity tokens, refilled evenly over per. It is
// not safe for concurrent use; its owner locks.
type bucket struct {
	capacity float64
	rate     float64 // tokens per second
	tokens   float64
	last     time.Time
}

func newBucket(capacity int, per time.Duration, now time.Time) *bucket {
	return &bucket{capacity: float64(capacity), rate: float64(capacity) / per.Seconds(), tokens: float64(capacity), last: now}
}

// take removes n tokens if there are that many and reports whether it did.
func (b *bucket) take(n int, now time.Time) bool {
	if d := now.Sub(b.last).Seconds(); d > 0 {
		b.tokens = min(b.capacity, b.tokens+d*b.rate)
		b.last = now
	}
	if b.tokens < float64(n) {
		return false
	}
	b.tokens -= float64(n)
	return true
}
