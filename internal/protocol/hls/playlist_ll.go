package hls

import (
	"strconv"
	"time"
)

// LowLatency is the Low-Latency HLS part of a live media playlist
// (RFC 8216bis 4.4.3.7, 4.4.3.8, 4.4.4.9, 4.4.5.3). The playlist stays a
// valid classic playlist: players that do not know these tags ignore them
// and play the whole segments.
type LowLatency struct {
	// PartTarget is EXT-X-PART-INF's PART-TARGET: no part is longer.
	PartTarget time.Duration
	// PartHoldBack is EXT-X-SERVER-CONTROL's PART-HOLD-BACK, how far from
	// the end players should start; zero means three part targets, the
	// least RFC 8216bis recommends. The playlist also announces
	// CAN-BLOCK-RELOAD=YES: the server must answer _HLS_msn/_HLS_part.
	PartHoldBack time.Duration
	// Parts are the partial segments listed, consecutive, oldest first: those
	// of the last few listed segments and then those of Open, the segment
	// being written.
	Parts []PartInfo
	// Open is the segment being written, after the last listed one: its
	// Seq, Discontinuity and ProgramDateTime. Its parts, if any, are listed
	// after the last segment, followed by the preload hint of the next part.
	Open SegmentInfo
	// PartURI returns a part's URI, absolute or relative to the playlist.
	PartURI func(PartInfo) string
}

// HoldBack returns the PART-HOLD-BACK rendered.
func (l *LowLatency) HoldBack() time.Duration {
	if l.PartHoldBack > 0 {
		return l.PartHoldBack
	}
	return 3 * l.PartTarget
}

// NextPart is the part the preload hint names: the one after the last part
// listed, in the open segment.
func (l *LowLatency) NextPart() PartInfo {
	if n := len(l.Parts); n > 0 && l.Parts[n-1].Seq == l.Open.Seq {
		return PartInfo{Seq: l.Open.Seq, Index: l.Parts[n-1].Index + 1}
	}
	return PartInfo{Seq: l.Open.Seq}
}

func appendSeconds(b []byte, d time.Duration) []byte {
	return strconv.AppendFloat(b, d.Seconds(), 'f', 3, 64)
}

// appendHeader appends EXT-X-SERVER-CONTROL and EXT-X-PART-INF. l may be
// nil.
func (l *LowLatency) appendHeader(b []byte) []byte {
	if l == nil {
		return b
	}
	b = append(b, "#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK="...)
	b = appendSeconds(b, l.HoldBack())
	b = append(b, "\n#EXT-X-PART-INF:PART-TARGET="...)
	b = appendSeconds(b, l.PartTarget)
	return append(b, '\n')
}

// appendParts appends the EXT-X-PART tags of segment seq. l may be nil.
func (l *LowLatency) appendParts(b []byte, seq uint64) []byte {
	if l == nil {
		return b
	}
	for _, p := range l.Parts {
		if p.Seq != seq {
			continue
		}
		b = append(b, "#EXT-X-PART:DURATION="...)
		b = appendSeconds(b, p.Duration)
		b = append(b, ",URI=\""...)
		b = append(b, l.PartURI(p)...)
		b = append(b, '"')
		if p.Independent {
			b = append(b, ",INDEPENDENT=YES"...)
		}
		b = append(b, '\n')
	}
	return b
}

// appendOpen appends the open segment's tags and parts, and the preload
// hint of the next part. l may be nil.
func (l *LowLatency) appendOpen(b []byte) []byte {
	if l == nil {
		return b
	}
	hasParts := false
	for _, p := range l.Parts {
		hasParts = hasParts || p.Seq == l.Open.Seq
	}
	if hasParts {
		b = appendSegmentTags(b, l.Open)
		b = l.appendParts(b, l.Open.Seq)
	}
	b = append(b, "#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\""...)
	b = append(b, l.PartURI(l.NextPart())...)
	return append(b, "\"\n"...)
}
