package hls

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"roomcast/internal/media"
)

// partCollect is a segmenter that records segments and parts in the order
// they were emitted.
type partCollect struct {
	*Segmenter
	segs   []*Segment
	parts  map[uint64][]*Part
	events []string // "p SEQ.IDX" or "s SEQ"
}

func newPartCollect(cfg SegmenterConfig) *partCollect {
	c := &partCollect{parts: make(map[uint64][]*Part)}
	cfg.OnPart = func(p *Part) {
		c.parts[p.Seq] = append(c.parts[p.Seq], p)
		c.events = append(c.events, fmt.Sprintf("p %d.%d", p.Seq, p.Index))
	}
	c.Segmenter = NewSegmenter(cfg, func(s *Segment) {
		c.segs = append(c.segs, s)
		c.events = append(c.events, fmt.Sprintf("s %d", s.Seq))
	})
	return c
}

func TestSegmenterParts(t *testing.T) {
	const target = 250 * time.Millisecond
	tests := []struct {
		name string
		spec streamSpec
		// minShare is the least duration of a part that neither starts at
		// a keyframe nor ends its segment, as a share of the target
		// (RFC 8216bis: 85 %).
		minShare float64
	}{
		{"25fps+aac", streamSpec{fps: 25, gopMs: 1000, audio: true, durMs: 5000}, 0.85},
		{"30fps+aac,gop2s", streamSpec{fps: 30, gopMs: 2000, audio: true, durMs: 7000, bframes: true}, 0.85},
		{"24fps", streamSpec{fps: 24, gopMs: 2000, durMs: 5000}, 0.85},
		{"hevc 50fps", streamSpec{fps: 50, gopMs: 1000, audio: true, durMs: 4000, hevc: true}, 0.85},
		{"audio only", streamSpec{audio: true, durMs: 5000}, 0.85},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newPartCollect(SegmenterConfig{TargetDuration: time.Second, PartTarget: target})
			c.feed(t, tt.spec.packets(t))
			if err := c.Flush(); err != nil {
				t.Fatal(err)
			}
			if len(c.segs) < 3 {
				t.Fatalf("%d segments: %s", len(c.segs), cutSummary(c.segs))
			}
			// Parts come in order, each segment's last part right before
			// the segment.
			next := 0
			for _, s := range c.segs {
				ps := c.parts[s.Seq]
				if len(ps) == 0 {
					t.Fatalf("segment %d has no parts", s.Seq)
				}
				for i, p := range ps {
					if want := fmt.Sprintf("p %d.%d", s.Seq, i); c.events[next] != want {
						t.Fatalf("event %d = %q, want %q (events %v)", next, c.events[next], want, c.events)
					}
					next++
					if p.Index != i {
						t.Errorf("segment %d part %d has Index %d", s.Seq, i, p.Index)
					}
				}
				if want := fmt.Sprintf("s %d", s.Seq); c.events[next] != want {
					t.Fatalf("event %d = %q, want %q", next, c.events[next], want)
				}
				next++
			}
			for _, s := range c.segs {
				ps := c.parts[s.Seq]
				var joined []byte
				var sum time.Duration
				for i, p := range ps {
					if p.Start != s.Start+sum || p.Discontinuity != s.Discontinuity || p.DiscontinuitySeq != s.DiscontinuitySeq {
						t.Errorf("segment %d part %d: start %v disc %v/%d, want %v %v/%d", s.Seq, i, p.Start, p.Discontinuity, p.DiscontinuitySeq, s.Start+sum, s.Discontinuity, s.DiscontinuitySeq)
					}
					joined = append(joined, p.Data...)
					sum += p.Duration
					checkTSStart(t, &Segment{SegmentInfo: SegmentInfo{Seq: s.Seq}, Data: p.Data})
					if p.Duration > target {
						t.Errorf("segment %d part %d: %v is longer than the part target %v", s.Seq, i, p.Duration, target)
					}
					if p.Duration <= 0 {
						t.Errorf("segment %d part %d: duration %v", s.Seq, i, p.Duration)
					}
					last := i == len(ps)-1
					if !last && !p.Independent && p.Duration < time.Duration(tt.minShare*float64(target)) {
						t.Errorf("segment %d part %d: %v is shorter than %.0f%% of %v", s.Seq, i, p.Duration, 100*tt.minShare, target)
					}
					if i == 0 && !p.Independent {
						t.Errorf("segment %d: first part not independent", s.Seq)
					}
					d := decodeSegment(t, &Segment{SegmentInfo: SegmentInfo{Seq: s.Seq}, Data: p.Data})
					if tt.spec.fps > 0 && len(d.video) == 0 {
						t.Errorf("segment %d part %d: no video", s.Seq, i)
					}
				}
				if !bytes.Equal(joined, s.Data) {
					t.Errorf("segment %d: its %d parts joined (%d bytes) differ from the segment (%d bytes)", s.Seq, len(ps), len(joined), len(s.Data))
				}
				if sum != s.Duration {
					t.Errorf("segment %d: parts last %v, the segment %v", s.Seq, sum, s.Duration)
				}
			}
		})
	}
}

// TestSegmenterPartsOff checks that without OnPart the segments are the
// same bytes as before parts existed: the recorder relies on it.
func TestSegmenterPartsOff(t *testing.T) {
	spec := streamSpec{fps: 25, gopMs: 1000, audio: true, durMs: 4000}
	plain := newCollect(SegmenterConfig{TargetDuration: time.Second, PartTarget: 250 * time.Millisecond})
	plain.feed(t, spec.packets(t))
	with := newPartCollect(SegmenterConfig{TargetDuration: time.Second, PartTarget: 250 * time.Millisecond})
	with.feed(t, spec.packets(t))
	if len(plain.segs) == 0 || cutSummary(plain.segs) != cutSummary(with.segs) {
		t.Fatalf("cuts differ: %s vs %s", cutSummary(plain.segs), cutSummary(with.segs))
	}
	for i := range plain.segs {
		if len(with.parts[with.segs[i].Seq]) < 3 {
			t.Errorf("segment %d: %d parts", i, len(with.parts[with.segs[i].Seq]))
		}
	}
}

func (c *partCollect) feed(t testing.TB, pkts []*media.Packet) {
	t.Helper()
	for _, p := range pkts {
		if err := c.WritePacket(p); err != nil {
			t.Fatalf("WritePacket(%v at %d): %v", p.Type, p.DTS, err)
		}
	}
}
