package hls

import (
	"sort"
	"strconv"
	"time"

	hlsproto "roomcast/internal/protocol/hls"
)

// partsWindow is how far from the end of the playlist, in target
// durations, segments keep their EXT-X-PART tags (RFC 8216bis 4.4.4.9: they
// should go once older than three target durations). Their bytes stay
// fetchable as long as their segment.
const partsWindow = 3

// partEntry is a served partial segment.
type partEntry struct {
	info   hlsproto.PartInfo
	data   []byte
	length []string // Content-Length, rendered once
}

// llState is a stream's Low-Latency HLS state and the wall-clock stamps of
// its segments (EXT-X-PROGRAM-DATE-TIME, also without LL). Guarded by the
// liveStream's mu.
type llState struct {
	partTarget time.Duration // 0: LL off
	holdBack   time.Duration
	target     time.Duration
	parts      []*partEntry // consecutive, oldest first

	// Program date-time of segment pdtSeq, the newest stamped, and the
	// predicted start of the segment after it.
	pdtSeq  uint64
	pdtAt   time.Time
	pdtNext time.Time
	pdtHave bool
}

func newLLState(cfg Config) llState {
	l := llState{target: cfg.TargetDuration}
	if cfg.PartTarget > 0 {
		l.partTarget = cfg.PartTarget
		l.holdBack = cfg.PartHoldBack
	}
	return l
}

// stamp returns the program date-time of segment seq, given that its
// first dur of media has just been cut (now). Consecutive segments follow
// one another on the media timeline; a stamp that disagrees with the
// predicted one by a second or more (a publisher reconnect, a stalled
// muxer) starts the timeline again from the clock.
func (l *llState) stamp(seq uint64, dur time.Duration, now time.Time) time.Time {
	if l.pdtHave && l.pdtSeq == seq {
		return l.pdtAt
	}
	at := now.Add(-dur)
	if l.pdtHave && seq == l.pdtSeq+1 {
		if d := l.pdtNext.Sub(at); d > -time.Second && d < time.Second {
			at = l.pdtNext
		}
	}
	l.pdtSeq, l.pdtAt, l.pdtHave = seq, at, true
	return at
}

// ended notes that segment seq, stamped at, lasted dur.
func (l *llState) ended(seq uint64, at time.Time, dur time.Duration) {
	if l.pdtHave && l.pdtSeq == seq {
		l.pdtNext = at.Add(dur)
	}
}

// addPart stores a new part.
func (l *llState) addPart(p *hlsproto.Part, now time.Time) {
	if p.Index == 0 {
		l.stamp(p.Seq, p.Duration, now)
	}
	l.parts = append(l.parts, &partEntry{info: p.PartInfo, data: p.Data, length: []string{strconv.Itoa(len(p.Data))}})
}

// trim forgets the parts of segments before seq.
func (l *llState) trim(seq uint64) {
	n := 0
	for n < len(l.parts) && l.parts[n].info.Seq < seq {
		n++
	}
	if n > 0 {
		clear(l.parts[:n])
		l.parts = append(l.parts[:0], l.parts[n:]...)
	}
}

// part returns part idx of segment seq, or nil.
func (l *llState) part(seq uint64, idx int) *partEntry {
	i := sort.Search(len(l.parts), func(i int) bool {
		p := l.parts[i].info
		return p.Seq > seq || p.Seq == seq && p.Index >= idx
	})
	if i < len(l.parts) && l.parts[i].info.Seq == seq && l.parts[i].info.Index == idx {
		return l.parts[i]
	}
	return nil
}

// newest returns the newest part, if any.
func (l *llState) newest() (hlsproto.PartInfo, bool) {
	if len(l.parts) == 0 {
		return hlsproto.PartInfo{}, false
	}
	return l.parts[len(l.parts)-1].info, true
}

// playlist returns the LL-HLS part of the playlist listing segs, or nil
// when LL is off.
func (l *llState) playlist(name, token string, segs []hlsproto.SegmentInfo, ended bool) *hlsproto.LowLatency {
	if l.partTarget == 0 || len(segs) == 0 {
		return nil
	}
	// Parts of the segments ending within partsWindow targets of the end.
	from := segs[len(segs)-1].Seq + 1
	var span time.Duration
	for i := len(segs) - 1; i >= 0 && span < partsWindow*l.target; i-- {
		span += segs[i].Duration
		from = segs[i].Seq
	}
	i := sort.Search(len(l.parts), func(i int) bool { return l.parts[i].info.Seq >= from })
	parts := make([]hlsproto.PartInfo, 0, len(l.parts)-i)
	for _, p := range l.parts[i:] {
		parts = append(parts, p.info)
	}
	open := hlsproto.SegmentInfo{Seq: segs[len(segs)-1].Seq + 1}
	if n := len(parts); n > 0 && parts[n-1].Seq == open.Seq {
		first := parts[n-1]
		for _, p := range parts {
			if p.Seq == open.Seq {
				first = p
				break
			}
		}
		open.Discontinuity, open.DiscontinuitySeq = first.Discontinuity, first.DiscontinuitySeq
		if l.pdtHave && l.pdtSeq == open.Seq {
			open.ProgramDateTime = l.pdtAt
		}
	}
	prefix := name + "/" + token + "-"
	return &hlsproto.LowLatency{
		PartTarget:   l.partTarget,
		PartHoldBack: l.holdBack,
		Parts:        parts,
		Open:         open,
		PartURI: func(p hlsproto.PartInfo) string {
			return prefix + strconv.FormatUint(p.Seq, 10) + "." + strconv.Itoa(p.Index) + ".ts"
		},
	}
}
