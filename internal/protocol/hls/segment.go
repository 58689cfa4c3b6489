// Package hls cuts a stream of media packets into MPEG-TS segments and
// renders HLS media playlists (RFC 8216). It opens no sockets and knows
// nothing of the hub: the live HLS server keeps the segments in memory, the
// recorder writes the same segments to disk as VOD.
package hls

import "time"

// SegmentInfo describes a segment without its bytes: what a playlist needs.
type SegmentInfo struct {
	// Seq is the media sequence number (RFC 8216 6.2.1), consecutive from
	// the segmenter's first.
	Seq uint64
	// Discontinuity is set when the segment follows a discontinuity
	// (publisher reconnect, codec change): the playlist puts
	// EXT-X-DISCONTINUITY before it.
	Discontinuity bool
	// DiscontinuitySeq counts the discontinuities up to and including this
	// segment; a playlist starting with this segment derives its
	// EXT-X-DISCONTINUITY-SEQUENCE from it.
	DiscontinuitySeq uint64
	// Duration is the segment's duration measured on decode timestamps.
	Duration time.Duration
	// Start is the decode timestamp of the segment's first sample, in
	// stream time.
	Start time.Duration
	// ProgramDateTime, when set, is the wall-clock time of the segment's
	// first sample: the playlist gives it as EXT-X-PROGRAM-DATE-TIME, from
	// which players tell how far behind live they play. The segmenter
	// leaves it zero; the live server sets it.
	ProgramDateTime time.Time
}

// Segment is one complete MPEG-TS segment. It starts with PAT and PMT and,
// when the stream has video, with a keyframe preceded by its parameter sets.
// A segment is immutable once emitted; its Data may be shared by any number
// of readers.
type Segment struct {
	SegmentInfo
	// Data is the MPEG-TS bytes, a multiple of 188.
	Data []byte
}
