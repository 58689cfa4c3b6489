package hub

import (
	"sync"

	"roomcast/internal/media"
)

// Format names one output encoding of a packet. Each frame caches one
// encoding per format, computed once by the first viewer that needs it and
// shared by all the others.
type Format uint8

// Output encodings cached on frames.
const (
	FormatFLV  Format = iota // an FLV tag: header, body, previous tag size
	FormatRTMP               // RTMP chunks of a play stream (stream id 1)
	numFormats

	// FormatUncached encodes on every call, for a viewer whose encoding
	// cannot be shared.
	FormatUncached Format = 255
)

// Frame is a packet inside a stream: its position in the stream, the
// publisher session it came from, and its cached encodings. Frames are
// immutable except for the encodings, which are filled once.
type Frame struct {
	// Packet is the shared, immutable packet.
	Packet *media.Packet
	// Epoch counts publisher sessions of the stream: it changes when a
	// publisher reconnects within the grace period.
	Epoch uint32

	seq     uint64 // position in the stream, from 1
	arrival int64  // when the packet arrived, Unix nanoseconds
	end     uint64 // bytes of all packets up to and including this one
	// init is the configuration in effect at a keyframe (keyframes only).
	init *initSet
	enc  [numFormats]encoding
}

type encoding struct {
	once sync.Once
	b    []byte
}

// Seq returns the frame's position in the stream (the first frame is 1).
func (f *Frame) Seq() uint64 { return f.seq }

// Bytes returns the frame encoded in format, calling encode the first time
// the format is asked for. encode must be a pure function of the packet; the
// result is shared and must not be modified.
func (f *Frame) Bytes(format Format, encode func(*media.Packet) []byte) []byte {
	if format >= numFormats {
		return encode(f.Packet)
	}
	e := &f.enc[format]
	e.once.Do(func() { e.b = encode(f.Packet) })
	return e.b
}
