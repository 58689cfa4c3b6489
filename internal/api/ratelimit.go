package api

import (
	"fmt"
	"time"

	"roomcast/internal/httpx"
)

// maxBuckets bounds each limiter's memory (httpx.Limiter).
const maxBuckets = 10000

// newLimiter returns the limiter for rl, def when rl is zero, or nil (no
// limit) when rl.Burst is negative.
func newLimiter(rl, def RateLimit, now func() time.Time) (*httpx.Limiter, error) {
	if rl == (RateLimit{}) {
		rl = def
	}
	if rl.Burst < 0 {
		return nil, nil
	}
	if rl.Burst == 0 || rl.Every <= 0 {
		return nil, fmt.Errorf("burst %d and interval %s must be positive (a negative burst turns the limit off)", rl.Burst, rl.Every)
	}
	return httpx.NewLimiter(rl.Burst, rl.Every, maxBuckets, now), nil
}
