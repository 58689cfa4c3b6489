package hls

import (
	"math"
	"time"
)

// PartInfo describes a partial segment (Low-Latency HLS, RFC 8216bis
// 4.4.4.9) without its bytes.
type PartInfo struct {
	// Seq is the media sequence number of the parent segment.
	Seq uint64
	// Index is the part's position in its parent segment, from 0.
	Index int
	// Duration is the part's duration on decode timestamps.
	Duration time.Duration
	// Independent is set when the part starts with a video keyframe (or
	// the stream has no video): a player may start decoding there.
	Independent bool
	// Start is the decode timestamp of the part's first sample, in stream
	// time.
	Start time.Duration
	// Discontinuity and DiscontinuitySeq are the parent segment's: a
	// playlist lists the parts of a segment before the segment itself is
	// complete.
	Discontinuity    bool
	DiscontinuitySeq uint64
}

// Part is one partial segment: a run of whole MPEG-TS packets of its parent
// segment, starting with PAT and PMT. The parts of a segment, concatenated
// in order, are byte for byte the segment. A part is immutable once emitted
// and its Data aliases the parent segment's Data.
type Part struct {
	PartInfo
	Data []byte
}

// partState is the open part of the open segment.
type partState struct {
	target int64 // ms; 0: parts are off
	emit   func(*Part)
	start  int64 // DTS of the part's first sample (ms)
	off    int   // offset of the part's first byte in the segment
	index  int
	key    bool // the part starts at a keyframe
}

func newPartState(cfg SegmenterConfig) partState {
	if cfg.OnPart == nil || cfg.PartTarget <= 0 {
		return partState{}
	}
	return partState{target: max(cfg.PartTarget.Milliseconds(), 1), emit: cfg.OnPart}
}

// open starts the first part of a new segment at dts.
func (p *partState) open(dts int64) {
	p.start, p.off, p.index, p.key = dts, 0, 0, true
}

// timeToCutPart reports whether smp, which continues the open segment,
// starts a new part: when the part would otherwise grow past the target,
// counting the sample's own duration (the last frame spacing), so that
// parts stay within PART-TARGET as RFC 8216bis 4.4.4.9 requires. With video
// parts start at video frames only.
func (s *Segmenter) timeToCutPart(smp sample) bool {
	p := &s.parts
	if p.target == 0 || smp.dts <= p.start {
		return false
	}
	var step int64
	if s.vt != nil {
		if !smp.video {
			return false
		}
		step = s.step
	} else {
		step = int64(math.Round(s.audio.frameMs))
	}
	return smp.dts+step-p.start > p.target
}

// cutPart ends the open part before smp and starts the next one with it.
// A part with no bytes yet (its samples failed to write) is not cut.
func (s *Segmenter) cutPart(smp sample) error {
	if err := s.flushAudio(); err != nil {
		return err
	}
	if len(s.out.b) == s.parts.off {
		return nil
	}
	s.emitPart(smp.dts)
	p := &s.parts
	p.start, p.off, p.key = smp.dts, len(s.out.b), smp.key || s.vt == nil
	p.index++
	// Every part begins with PAT/PMT so that a player can start with it.
	s.cur.needTables = true
	return nil
}

// emitPart passes the open part, ending at end (ms), to OnPart.
func (s *Segmenter) emitPart(end int64) {
	p := &s.parts
	if p.target == 0 {
		return
	}
	n := len(s.out.b)
	if n == p.off {
		return // nothing written since the last cut
	}
	p.emit(&Part{
		PartInfo: PartInfo{
			Seq:              s.seq,
			Index:            p.index,
			Duration:         time.Duration(max(end-p.start, 0)) * time.Millisecond,
			Independent:      p.key,
			Start:            time.Duration(p.start) * time.Millisecond,
			Discontinuity:    s.cur.disc,
			DiscontinuitySeq: s.discSeq,
		},
		Data: s.out.b[p.off:n:n],
	})
}
