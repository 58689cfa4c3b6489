// Package flv encodes and decodes the FLV container as it is used for live
// streaming: a file header followed by an endless sequence of tags whose
// bodies are exactly the media.Packet bodies (and RTMP message payloads).
//
// The encoder is allocation-free given a buffer (AppendHeader, AppendTag) or
// makes exactly one allocation per packet (EncodeTag), which the hub caches
// and shares between all FLV viewers of a packet. The Reader parses untrusted
// input from publishers and is fuzzed (FuzzReader).
package flv

import (
	"encoding/binary"
	"errors"

	"roomcast/internal/media"
)

// Sizes of the fixed parts of an FLV stream.
const (
	// HeaderLen is the length of the file header (9 bytes) plus
	// PreviousTagSize0 (4 bytes): what AppendHeader writes.
	HeaderLen = 13
	// TagHeaderLen is the length of a tag header.
	TagHeaderLen = 11
	// PrevTagSizeLen is the length of the previous-tag-size field that
	// follows every tag.
	PrevTagSizeLen = 4
	// MaxDataSize is the largest tag body the 24-bit size field can express.
	MaxDataSize = 1<<24 - 1

	fileHeaderLen = 9
	flagAudio     = 0x04
	flagVideo     = 0x01
	filterBit     = 0x20
	tagTypeMask   = 0x1f
)

// Errors returned (wrapped) by the Reader; test with errors.Is.
var (
	// ErrBadHeader reports an FLV file header that is not one.
	ErrBadHeader = errors.New("flv: bad file header")
	// ErrTagTooLarge reports a tag body larger than the reader's limit.
	ErrTagTooLarge = errors.New("flv: tag too large")
	// ErrBadPrevTagSize reports a previous-tag-size field that matches
	// neither the tag it follows nor 0: the stream is corrupt or out of sync.
	ErrBadPrevTagSize = errors.New("flv: previous tag size mismatch")
	// ErrEncrypted reports a tag with the filter (encryption) bit set, which
	// is not supported.
	ErrEncrypted = errors.New("flv: encrypted tags are not supported")
)

// TagHeader is a decoded 11-byte tag header.
type TagHeader struct {
	// Type is the tag type (the low 5 bits of the first byte).
	Type media.TagType
	// Filter is the encryption bit.
	Filter bool
	// DataSize is the length of the tag body.
	DataSize uint32
	// Timestamp is the 32-bit timestamp in milliseconds (24 low bits plus
	// the extension byte).
	Timestamp uint32
}

// DecodeTagHeader decodes a tag header; b must hold at least TagHeaderLen
// bytes. It does not validate anything and does not allocate.
func DecodeTagHeader(b []byte) TagHeader {
	_ = b[TagHeaderLen-1]
	return TagHeader{
		Type:      media.TagType(b[0] & tagTypeMask),
		Filter:    b[0]&filterBit != 0,
		DataSize:  uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3]),
		Timestamp: uint32(b[7])<<24 | uint32(b[4])<<16 | uint32(b[5])<<8 | uint32(b[6]),
	}
}

// AppendHeader appends the 9-byte FLV file header (signature "FLV",
// version 1, the audio/video flags, header size 9) and the 4 zero bytes of
// PreviousTagSize0 to dst.
func AppendHeader(dst []byte, hasAudio, hasVideo bool) []byte {
	var flags byte
	if hasAudio {
		flags |= flagAudio
	}
	if hasVideo {
		flags |= flagVideo
	}
	return append(dst, 'F', 'L', 'V', 1, flags, 0, 0, 0, fileHeaderLen, 0, 0, 0, 0)
}

// AppendTag appends one tag to dst: the 11-byte header (type t, body size,
// the low 32 bits of ts as 24 low bits plus an 8-bit extension, stream id 0),
// body, and the 4-byte previous tag size (11+len(body)).
//
// len(body) must not exceed MaxDataSize; every ingest path (RTMP message
// lengths, FLV tag sizes) is bounded by 24 bits, so a larger body is a
// programming error and AppendTag panics.
func AppendTag(dst []byte, t media.TagType, ts int64, body []byte) []byte {
	if len(body) > MaxDataSize {
		panic("flv: tag body larger than 24-bit size field")
	}
	n := uint32(len(body))
	u := uint32(ts)
	dst = append(dst,
		byte(t),
		byte(n>>16), byte(n>>8), byte(n),
		byte(u>>16), byte(u>>8), byte(u), byte(u>>24),
		0, 0, 0)
	dst = append(dst, body...)
	return binary.BigEndian.AppendUint32(dst, TagHeaderLen+n)
}

// EncodeTag returns p encoded as one FLV tag (see AppendTag) in a buffer of
// exactly the right size: one allocation. The result is what the hub caches
// as a frame's FormatFLV encoding and shares between viewers.
func EncodeTag(p *media.Packet) []byte {
	return AppendTag(make([]byte, 0, TagHeaderLen+len(p.Data)+PrevTagSizeLen), p.Type, p.DTS, p.Data)
}
