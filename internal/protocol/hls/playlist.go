package hls

import (
	"strconv"
	"time"
)

// PlaylistType is the EXT-X-PLAYLIST-TYPE of a media playlist
// (RFC 8216 4.3.3.5).
type PlaylistType string

// Playlist types. A live playlist has no EXT-X-PLAYLIST-TYPE tag.
const (
	PlaylistLive  PlaylistType = ""
	PlaylistEvent PlaylistType = "EVENT"
	PlaylistVOD   PlaylistType = "VOD"
)

// MediaPlaylist is a media playlist to render (RFC 8216 4.3.3, 4.3.2).
type MediaPlaylist struct {
	// Type is live (a sliding window), EVENT (segments only appended) or
	// VOD (complete).
	Type PlaylistType
	// TargetDuration is a lower bound of EXT-X-TARGETDURATION: the value
	// rendered is the larger of it and the longest segment, rounded up to
	// whole seconds. A live server passes the longest segment it ever
	// listed, so that the value does not shrink as segments slide out
	// (RFC 8216 6.2.1 forbids changing it).
	TargetDuration time.Duration
	// Segments are the segments listed, consecutive, oldest first. For a
	// live playlist they are the window; the first one's Seq is the
	// EXT-X-MEDIA-SEQUENCE.
	Segments []SegmentInfo
	// URI returns a segment's URI, absolute or relative to the playlist.
	URI func(SegmentInfo) string
	// Ended adds EXT-X-ENDLIST: no more segments will be added (always set
	// for VOD).
	Ended bool
	// LowLatency, when set, adds the Low-Latency HLS tags (partial
	// segments, preload hint, server control); see LowLatency.
	LowLatency *LowLatency
}

// Render returns the playlist text.
func (p *MediaPlaylist) Render() []byte {
	b := make([]byte, 0, 128+64*len(p.Segments))
	b = append(b, "#EXTM3U\n#EXT-X-VERSION:3\n"...)
	b = append(b, "#EXT-X-TARGETDURATION:"...)
	b = strconv.AppendInt(b, p.targetSeconds(), 10)
	b = append(b, "\n#EXT-X-MEDIA-SEQUENCE:"...)
	var first SegmentInfo
	if len(p.Segments) > 0 {
		first = p.Segments[0]
	}
	b = strconv.AppendUint(b, first.Seq, 10)
	b = append(b, '\n')
	// The discontinuity sequence number of the first segment is the tag's
	// value plus one when the segment itself carries EXT-X-DISCONTINUITY
	// (RFC 8216 4.3.3.3): the tag counts the discontinuities that slid out.
	disc := first.DiscontinuitySeq
	if first.Discontinuity && disc > 0 {
		disc--
	}
	if disc > 0 {
		b = append(b, "#EXT-X-DISCONTINUITY-SEQUENCE:"...)
		b = strconv.AppendUint(b, disc, 10)
		b = append(b, '\n')
	}
	if p.Type != PlaylistLive {
		b = append(b, "#EXT-X-PLAYLIST-TYPE:"...)
		b = append(b, p.Type...)
		b = append(b, '\n')
	}
	b = p.LowLatency.appendHeader(b)
	for _, s := range p.Segments {
		b = appendSegmentTags(b, s)
		b = p.LowLatency.appendParts(b, s.Seq)
		b = append(b, "#EXTINF:"...)
		b = strconv.AppendFloat(b, s.Duration.Seconds(), 'f', 3, 64)
		b = append(b, ",\n"...)
		b = append(b, p.URI(s)...)
		b = append(b, '\n')
	}
	if p.Ended || p.Type == PlaylistVOD {
		b = append(b, "#EXT-X-ENDLIST\n"...)
	} else {
		b = p.LowLatency.appendOpen(b)
	}
	return b
}

// appendSegmentTags appends the tags that precede a segment's parts and
// EXTINF: EXT-X-DISCONTINUITY and EXT-X-PROGRAM-DATE-TIME.
func appendSegmentTags(b []byte, s SegmentInfo) []byte {
	if s.Discontinuity {
		b = append(b, "#EXT-X-DISCONTINUITY\n"...)
	}
	if !s.ProgramDateTime.IsZero() {
		b = append(b, "#EXT-X-PROGRAM-DATE-TIME:"...)
		b = s.ProgramDateTime.UTC().AppendFormat(b, "2006-01-02T15:04:05.000Z07:00")
		b = append(b, '\n')
	}
	return b
}

// targetSeconds is EXT-X-TARGETDURATION: the longest duration, rounded up
// to whole seconds, at least 1. Every EXTINF rounded to the nearest integer
// is then at most the target, as RFC 8216 4.3.3.1 requires.
func (p *MediaPlaylist) targetSeconds() int64 {
	d := p.TargetDuration
	for _, s := range p.Segments {
		d = max(d, s.Duration)
	}
	return max(int64((d+time.Second-1)/time.Second), 1)
}
