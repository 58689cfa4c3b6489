package bench

import (
	"math"
	"sync/atomic"
)

// Read delay histogram: 0.1 ms buckets up to 500 ms; the last bucket takes
// everything longer.
const (
	readDelayBucketUS = 100
	readDelayBuckets  = 5000
)

// delayHist is a histogram of the bench's read delays, safe for concurrent
// use without locks: for each read with a kernel receive timestamp, the
// time (µs) from that timestamp to the read's return.
type delayHist struct {
	n   [readDelayBuckets + 1]atomic.Uint64
	max atomic.Int64
}

// add counts a delay of us µs (negative counts as 0).
func (h *delayHist) add(us int64) {
	us = max(us, 0)
	h.n[min(us/readDelayBucketUS, readDelayBuckets)].Add(1)
	for {
		m := h.max.Load()
		if us <= m || h.max.CompareAndSwap(m, us) {
			return
		}
	}
}

// dist summarizes the histogram in milliseconds: nearest-rank percentiles
// as the upper bound of their bucket (capped at the maximum; the maximum
// itself beyond the last bucket), the maximum exact. No add may run
// concurrently.
func (h *delayHist) dist() Dist {
	var total uint64
	for i := range h.n {
		total += h.n[i].Load()
	}
	if total == 0 {
		return Dist{}
	}
	maxUS := h.max.Load()
	pct := func(p float64) float64 {
		rank := max(uint64(math.Ceil(p/100*float64(total))), 1)
		var seen uint64
		for i := range h.n {
			if seen += h.n[i].Load(); seen >= rank && i < readDelayBuckets {
				return usToMS(min(int64(i+1)*readDelayBucketUS, maxUS))
			}
		}
		return usToMS(maxUS)
	}
	return Dist{Count: int(total), P50: pct(50), P99: pct(99), Max: usToMS(maxUS)}
}
