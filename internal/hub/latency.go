package hub

import (
	"sync/atomic"
	"time"
)

// latencyBounds are the upper bounds, in milliseconds, of the delivery
// latency histogram's buckets; a last bucket holds everything slower.
var latencyBounds = [...]float64{1, 2, 3, 5, 7, 10, 15, 20, 25, 30, 40, 50, 60, 80, 100, 150, 200, 300, 500, 1000, 2000, 5000}

// latencyHistogram counts frames by server-added latency: from the frame's
// arrival from the publisher to the end of the write that sent it to a
// viewer. Counters are cumulative, like a Prometheus histogram.
type latencyHistogram struct {
	buckets [len(latencyBounds) + 1]atomic.Uint64
	sum     atomic.Uint64 // microseconds
}

func (h *latencyHistogram) observe(d time.Duration) {
	ms := float64(d) / float64(time.Millisecond)
	i := 0
	for i < len(latencyBounds) && ms > latencyBounds[i] {
		i++
	}
	h.buckets[i].Add(1)
	h.sum.Add(uint64(max(d, 0) / time.Microsecond))
}

// LatencyStats summarises the server-added delivery latency of a stream's
// live frames (not the cached GOP a viewer starts with): from arrival from
// the publisher to the end of the write to the viewer's socket. Percentiles
// are bucket upper bounds, so they err on the slow side.
type LatencyStats struct {
	Frames uint64  `json:"frames"`
	MeanMS float64 `json:"mean_ms"`
	P50MS  float64 `json:"p50_ms"`
	P99MS  float64 `json:"p99_ms"`
	// Buckets are cumulative counts of frames at or under each bound
	// (milliseconds); the last bound is +Inf, written as -1.
	Buckets []LatencyBucket `json:"buckets,omitempty"`
}

// LatencyBucket is one cumulative histogram bucket.
type LatencyBucket struct {
	LE    float64 `json:"le"`
	Count uint64  `json:"count"`
}

func (h *latencyHistogram) stats() LatencyStats {
	var st LatencyStats
	counts := make([]uint64, len(h.buckets))
	for i := range h.buckets {
		counts[i] = h.buckets[i].Load()
		st.Frames += counts[i]
	}
	if st.Frames == 0 {
		return st
	}
	st.MeanMS = float64(h.sum.Load()) / 1000 / float64(st.Frames)
	var cum uint64
	st.Buckets = make([]LatencyBucket, len(counts))
	for i, c := range counts {
		cum += c
		le := -1.0
		if i < len(latencyBounds) {
			le = latencyBounds[i]
		}
		st.Buckets[i] = LatencyBucket{LE: le, Count: cum}
		if st.P50MS == 0 && cum*2 >= st.Frames {
			st.P50MS = le
		}
		if st.P99MS == 0 && cum*100 >= st.Frames*99 {
			st.P99MS = le
		}
	}
	return st
}
