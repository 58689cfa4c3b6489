package hub

// Totals are counters over the hub's whole life, ended streams included,
// for metrics: unlike a Stream's Stats they never go down when a stream
// ends.
type Totals struct {
	// StreamsEnded counts the streams that have ended.
	StreamsEnded uint64
	// BytesIn is media received from publishers, BytesOut media written to
	// counted viewers.
	BytesIn  uint64
	BytesOut uint64
	// DroppedFrames were skipped for slow viewers; SlowDisconnects are
	// viewers disconnected for staying slow.
	DroppedFrames   uint64
	SlowDisconnects uint64
}

// add adds o's counters to t.
func (t *Totals) add(o Totals) {
	t.StreamsEnded += o.StreamsEnded
	t.BytesIn += o.BytesIn
	t.BytesOut += o.BytesOut
	t.DroppedFrames += o.DroppedFrames
	t.SlowDisconnects += o.SlowDisconnects
}

// counters returns s's contribution to the totals; s.mu must not be held.
// Bytes still written to viewers draining after the stream was removed are
// not counted.
func (s *Stream) counters() Totals {
	s.mu.Lock()
	in := s.bytesIn
	s.mu.Unlock()
	return Totals{
		StreamsEnded:    1,
		BytesIn:         in,
		BytesOut:        s.bytesOut.Load(),
		DroppedFrames:   s.dropped.Load(),
		SlowDisconnects: s.slow.Load(),
	}
}

// Totals returns the counters of the streams that ended plus those of the
// current streams. Successive calls never return a smaller value.
func (h *Hub) Totals() Totals {
	h.mu.Lock()
	defer h.mu.Unlock()
	t := h.retired
	for _, s := range h.streams {
		c := s.counters()
		c.StreamsEnded = 0
		t.add(c)
	}
	return t
}
