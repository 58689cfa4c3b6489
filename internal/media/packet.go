// Package media holds the codec-neutral packet type that flows from a
// publisher through the hub to every output, and small helpers to read the
// codec headers carried in FLV-style audio and video payloads.
package media

import (
	"errors"
	"fmt"
)

// TagType is the kind of a packet, numbered as FLV tag types and RTMP message
// types so that a packet body is both an FLV tag body and an RTMP payload.
type TagType uint8

// Packet kinds.
const (
	TagAudio  TagType = 8
	TagVideo  TagType = 9
	TagScript TagType = 18
)

// String returns a short name for the tag type.
func (t TagType) String() string {
	switch t {
	case TagAudio:
		return "audio"
	case TagVideo:
		return "video"
	case TagScript:
		return "script"
	default:
		return fmt.Sprintf("tag(%d)", uint8(t))
	}
}

// Codec identifies the codec of an audio or video packet.
type Codec uint8

// Known codecs. CodecOther passes through untouched.
const (
	CodecOther Codec = iota
	CodecH264
	CodecH265
	CodecAAC
)

// String returns the codec's common name.
func (c Codec) String() string {
	switch c {
	case CodecH264:
		return "H264"
	case CodecH265:
		return "H265"
	case CodecAAC:
		return "AAC"
	default:
		return "other"
	}
}

// Packet is one audio, video or script tag. Once a packet has been handed to
// the hub it is shared by every output and must never be modified.
type Packet struct {
	// Type says whether this is audio, video or script data.
	Type TagType
	// DTS is the decode timestamp in milliseconds (unwrapped, 64-bit).
	DTS int64
	// CTS is the composition time offset in milliseconds (video only):
	// PTS = DTS + CTS.
	CTS int32
	// Codec is the codec of an audio or video packet.
	Codec Codec
	// Keyframe is set on video packets that start a decodable picture
	// sequence (FLV frame type 1).
	Keyframe bool
	// SeqHeader is set on codec configuration packets: AVC/HEVC decoder
	// configuration records and AAC AudioSpecificConfig.
	SeqHeader bool
	// Data is the complete tag body (FLV codec header included).
	Data []byte
	// PayloadOffset is where the codec payload (AVCC NAL units, raw AAC,
	// decoder configuration record) starts within Data.
	PayloadOffset int
}

// Payload returns the codec payload following the FLV codec header.
func (p *Packet) Payload() []byte { return p.Data[p.PayloadOffset:] }

// PTS returns the presentation timestamp in milliseconds.
func (p *Packet) PTS() int64 { return p.DTS + int64(p.CTS) }

// ErrShortPayload is returned when a tag body is too short for its header.
var ErrShortPayload = errors.New("media: tag body too short")

// NewPacket builds a packet from a tag body, parsing the codec header to fill
// in Codec, Keyframe, SeqHeader, CTS and PayloadOffset. It keeps data without
// copying. Unknown codecs are passed through as CodecOther; an error is
// returned only when a known codec's header is truncated.
func NewPacket(t TagType, dts int64, data []byte) (*Packet, error) {
	p := &Packet{Type: t, DTS: dts, Data: data}
	var err error
	switch t {
	case TagVideo:
		err = p.parseVideo()
	case TagAudio:
		err = p.parseAudio()
	}
	if err != nil {
		return nil, err
	}
	return p, nil
}

// FLV video codec ids and enhanced RTMP constants.
const (
	flvCodecAVC  = 7
	flvCodecHEVC = 12 // legacy id used by Chinese CDNs and encoders

	exHeaderBit = 0x80

	exPacketSequenceStart = 0
	exPacketCodedFrames   = 1
	exPacketSequenceEnd   = 2
	exPacketCodedFramesX  = 3
)

func (p *Packet) parseVideo() error {
	d := p.Data
	if len(d) < 1 {
		return fmt.Errorf("video: %w", ErrShortPayload)
	}
	frameType := (d[0] >> 4) & 0x07
	p.Keyframe = frameType == 1
	if d[0]&exHeaderBit != 0 {
		return p.parseExVideo(d[0] & 0x0f)
	}
	switch d[0] & 0x0f {
	case flvCodecAVC:
		p.Codec = CodecH264
	case flvCodecHEVC:
		p.Codec = CodecH265
	default:
		p.PayloadOffset = 1
		return nil
	}
	if len(d) < 5 {
		return fmt.Errorf("%v video header: %w", p.Codec, ErrShortPayload)
	}
	p.SeqHeader = d[1] == 0
	p.CTS = int24(d[2:5])
	p.PayloadOffset = 5
	return nil
}

func (p *Packet) parseExVideo(packetType byte) error {
	d := p.Data
	if len(d) < 5 {
		return fmt.Errorf("enhanced video header: %w", ErrShortPayload)
	}
	switch string(d[1:5]) {
	case "hvc1":
		p.Codec = CodecH265
	case "avc1":
		p.Codec = CodecH264
	default:
		p.PayloadOffset = 5
		return nil
	}
	p.PayloadOffset = 5
	switch packetType {
	case exPacketSequenceStart:
		p.SeqHeader = true
	case exPacketCodedFrames:
		if len(d) < 8 {
			return fmt.Errorf("enhanced %v frame: %w", p.Codec, ErrShortPayload)
		}
		p.CTS = int24(d[5:8])
		p.PayloadOffset = 8
	}
	return nil
}

const flvSoundAAC = 10

func (p *Packet) parseAudio() error {
	d := p.Data
	if len(d) < 1 {
		return fmt.Errorf("audio: %w", ErrShortPayload)
	}
	if d[0]>>4 != flvSoundAAC {
		p.PayloadOffset = 1
		return nil
	}
	if len(d) < 2 {
		return fmt.Errorf("AAC header: %w", ErrShortPayload)
	}
	p.Codec = CodecAAC
	p.SeqHeader = d[1] == 0
	p.PayloadOffset = 2
	return nil
}

// int24 reads a big-endian signed 24-bit integer.
func int24(b []byte) int32 {
	v := int32(b[0])<<16 | int32(b[1])<<8 | int32(b[2])
	if v&0x800000 != 0 {
		v -= 1 << 24
	}
	return v
}
