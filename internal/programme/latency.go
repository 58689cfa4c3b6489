package programme

import (
	"sync"
	"time"
)

// probeSize bounds the host frames a latencyProbe remembers: a few seconds.
const probeSize = 256

// latencyProbe measures the latency the mixer adds: the host's video
// frames are noted with their presentation time (on the mixer's clock) as
// they go in; a mixed frame coming out is matched with the newest host
// frame presented no later than it (ffmpeg keeps the timestamps: -copyts),
// and the time between the two is observed. A nil probe or a nil observe
// does nothing.
type latencyProbe struct {
	observe func(time.Duration)

	mu    sync.Mutex
	pts   [probeSize]int64
	at    [probeSize]time.Time
	n     int // frames noted; slot i%probeSize
	first int // oldest slot not yet matched or dropped
}

// in notes a host frame of presentation time pts written at.
func (l *latencyProbe) in(pts int64, at time.Time) {
	if l == nil || l.observe == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.n-l.first == probeSize {
		l.first++
	}
	l.pts[l.n%probeSize], l.at[l.n%probeSize] = pts, at
	l.n++
}

// out matches a mixed frame of presentation time pts read at.
func (l *latencyProbe) out(pts int64, at time.Time) {
	if l == nil || l.observe == nil {
		return
	}
	l.mu.Lock()
	match := -1
	for i := l.first; i < l.n && l.pts[i%probeSize] <= pts; i++ {
		match = i
	}
	var d time.Duration
	if match >= 0 {
		d = at.Sub(l.at[match%probeSize])
		l.first = match + 1
	}
	l.mu.Unlock()
	if match >= 0 {
		l.observe(d)
	}
}
