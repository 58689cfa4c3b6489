package bench

import (
	"errors"
	"fmt"

	"roomcast/internal/media"
	"roomcast/internal/protocol/flv"
)

// errFLVDesync reports an FLV byte stream the scanner cannot follow.
var errFLVDesync = errors.New("bench: flv stream out of sync")

// maxScanTagSize bounds the tag sizes the scanner accepts; anything larger
// means it lost the tag boundaries.
const maxScanTagSize = 16 << 20

// Scanner states.
const (
	flvStateFile = iota
	flvStateTagHeader
	flvStateBody
	flvStatePrevSize
)

// videoKind classifies a video tag from the first two bytes of its body.
type videoKind uint8

const (
	videoOther    videoKind = iota // sequence header, end of sequence, command frame…
	videoKeyframe                  // a coded keyframe
	videoInter                     // a coded non-key frame
)

// classifyVideo classifies a video tag body from its first bytes (b0 always
// present when n ≥ 1, b1 when n ≥ 2). It understands legacy AVC/HEVC headers
// and enhanced RTMP (ex-header) ones.
func classifyVideo(b0, b1 byte, n int) videoKind {
	if n < 1 {
		return videoOther
	}
	frameType := (b0 >> 4) & 0x07
	coded := true
	if b0&0x80 != 0 { // enhanced RTMP: packet type in the low nibble
		pt := b0 & 0x0f
		coded = pt == 1 || pt == 3 // CodedFrames, CodedFramesX
	} else if codec := b0 & 0x0f; codec == 7 || codec == 12 { // AVC, legacy HEVC
		coded = n >= 2 && b1 == 1
	}
	switch {
	case !coded || frameType == 5: // command frame
		return videoOther
	case frameType == 1:
		return videoKeyframe
	default:
		return videoInter
	}
}

// tagSink receives what an flvScanner finds.
type tagSink interface {
	// videoTag is called once per complete video tag with its timestamp
	// (ms) and kind, and the time of the read that completed it.
	videoTag(ts uint32, kind videoKind, now int64)
}

// flvScanner follows an FLV byte stream fed in arbitrary pieces and reports
// video tags, parsing only tag headers and the first two bytes of video
// bodies. It never allocates and never copies bodies.
type flvScanner struct {
	sink   tagSink
	state  int
	hdr    [flv.HeaderLen]byte
	hn     int // bytes of hdr filled
	cur    flv.TagHeader
	left   int  // body or previous-tag-size bytes still to come
	b0, b1 byte // first bytes of the current body
	bn     int  // how many of b0, b1 are set
	prev   uint32
}

// feed consumes p, a piece of the stream received at now (µs since the run
// started).
func (s *flvScanner) feed(p []byte, now int64) error {
	for len(p) > 0 {
		switch s.state {
		case flvStateFile:
			k := copy(s.hdr[s.hn:flv.HeaderLen], p)
			s.hn += k
			p = p[k:]
			if s.hn < flv.HeaderLen {
				return nil
			}
			if s.hdr[0] != 'F' || s.hdr[1] != 'L' || s.hdr[2] != 'V' || s.hdr[8] != 9 {
				return fmt.Errorf("file header % x: %w", s.hdr[:9], errFLVDesync)
			}
			s.hn = 0
			s.state = flvStateTagHeader
		case flvStateTagHeader:
			k := copy(s.hdr[s.hn:flv.TagHeaderLen], p)
			s.hn += k
			p = p[k:]
			if s.hn < flv.TagHeaderLen {
				return nil
			}
			s.hn = 0
			s.cur = flv.DecodeTagHeader(s.hdr[:])
			if s.cur.DataSize > maxScanTagSize || (s.cur.Type != media.TagAudio && s.cur.Type != media.TagVideo && s.cur.Type != media.TagScript) {
				return fmt.Errorf("tag header % x: %w", s.hdr[:flv.TagHeaderLen], errFLVDesync)
			}
			s.left = int(s.cur.DataSize)
			s.bn = 0
			s.state = flvStateBody
			if s.left == 0 {
				s.endTag(now)
			}
		case flvStateBody:
			if s.bn < 2 && s.cur.Type == media.TagVideo {
				for s.bn < 2 && s.left > 0 && len(p) > 0 {
					if s.bn == 0 {
						s.b0 = p[0]
					} else {
						s.b1 = p[0]
					}
					s.bn++
					s.left--
					p = p[1:]
				}
			}
			k := min(s.left, len(p))
			s.left -= k
			p = p[k:]
			if s.left == 0 {
				s.endTag(now)
			}
		case flvStatePrevSize:
			for s.left > 0 && len(p) > 0 {
				s.prev = s.prev<<8 | uint32(p[0])
				s.left--
				p = p[1:]
			}
			if s.left > 0 {
				return nil
			}
			if s.prev != 0 && s.prev != flv.TagHeaderLen+s.cur.DataSize {
				return fmt.Errorf("previous tag size %d after a %d-byte tag: %w", s.prev, s.cur.DataSize, errFLVDesync)
			}
			s.state = flvStateTagHeader
		}
	}
	return nil
}

// endTag reports the tag just completed and moves to its trailing
// previous-tag-size field.
func (s *flvScanner) endTag(now int64) {
	if s.cur.Type == media.TagVideo {
		s.sink.videoTag(s.cur.Timestamp, classifyVideo(s.b0, s.b1, s.bn), now)
	}
	s.state = flvStatePrevSize
	s.left = flv.PrevTagSizeLen
	s.prev = 0
}
