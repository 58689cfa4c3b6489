package hls

import (
	"errors"
	"fmt"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h265"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/mpeg4audio"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/mpegts"
	tscodecs "github.com/bluenviron/mediacommon/v2/pkg/formats/mpegts/codecs"

	"roomcast/internal/media"
)

// ErrUnsupported is returned for a codec configuration that MPEG-TS cannot
// carry (an AAC object type or sample rate that ADTS cannot signal).
var ErrUnsupported = errors.New("hls: unsupported codec configuration")

// maxADTSPayload is the largest AAC access unit an ADTS header can frame
// (13-bit frame length including the 7-byte header).
const maxADTSPayload = 1<<13 - 1 - 7

// videoConfig is the H.264 or H.265 decoder configuration in effect.
type videoConfig struct {
	codec media.Codec
	// raw is the decoder configuration record, to recognise a resent one.
	raw        []byte
	lengthSize int
	// params are the parameter sets in decoding order (VPS, SPS, PPS),
	// inserted before every keyframe that does not carry its own.
	params [][]byte
}

// parseVideoConfig reads the decoder configuration record of a video
// sequence header. The result aliases the packet, which is immutable.
func parseVideoConfig(pkt *media.Packet) (*videoConfig, error) {
	raw := pkt.Payload()
	v := &videoConfig{codec: pkt.Codec, raw: raw}
	switch pkt.Codec {
	case media.CodecH264:
		c, err := media.ParseAVCConfig(raw)
		if err != nil {
			return nil, err
		}
		v.lengthSize = c.LengthSize
		v.params = append(append(v.params, c.SPS...), c.PPS...)
	case media.CodecH265:
		c, err := media.ParseHEVCConfig(raw)
		if err != nil {
			return nil, err
		}
		v.lengthSize = c.LengthSize
		v.params = append(append(append(v.params, c.VPS...), c.SPS...), c.PPS...)
	default:
		return nil, fmt.Errorf("video codec %v: %w", pkt.Codec, ErrUnsupported)
	}
	return v, nil
}

// nalType returns the NAL unit type of n (non-empty).
func (v *videoConfig) nalType(n []byte) byte {
	if v.codec == media.CodecH265 {
		return (n[0] >> 1) & 0x3f
	}
	return n[0] & 0x1f
}

// isAUD and isSPS report NAL unit kinds for the configured codec.
func (v *videoConfig) isAUD(n []byte) bool {
	if v.codec == media.CodecH265 {
		return v.nalType(n) == byte(h265.NALUType_AUD_NUT)
	}
	return v.nalType(n) == byte(h264.NALUTypeAccessUnitDelimiter)
}

func (v *videoConfig) isSPS(n []byte) bool {
	if v.codec == media.CodecH265 {
		return v.nalType(n) == byte(h265.NALUType_SPS_NUT)
	}
	return v.nalType(n) == byte(h264.NALUTypeSPS)
}

// withParams returns the keyframe access unit au with the parameter sets
// inserted in front (after an access unit delimiter, if any), unless au
// already carries an SPS. MPEG-TS has no out-of-band configuration, so
// every keyframe must bring its own. au is not modified.
func (v *videoConfig) withParams(au [][]byte) [][]byte {
	for _, n := range au {
		if v.isSPS(n) {
			return au
		}
	}
	out := make([][]byte, 0, len(au)+len(v.params))
	if v.isAUD(au[0]) {
		out = append(out, au[0])
		au = au[1:]
	}
	out = append(out, v.params...)
	return append(out, au...)
}

// randomAccess reports whether au holds an IDR (or, for H.265, an IRAP
// CRA) picture: the mpegts writer then writes PAT/PMT before it itself.
func (v *videoConfig) randomAccess(au [][]byte) bool {
	if v.codec == media.CodecH265 {
		return h265.IsRandomAccess(au)
	}
	return h264.IsRandomAccess(au)
}

// track returns a new MPEG-TS track for the codec.
func (v *videoConfig) track() *mpegts.Track {
	if v.codec == media.CodecH265 {
		return &mpegts.Track{Codec: &tscodecs.H265{}}
	}
	return &mpegts.Track{Codec: &tscodecs.H264{}}
}

// audioConfig is the AAC configuration in effect.
type audioConfig struct {
	raw []byte
	asc mpeg4audio.AudioSpecificConfig
	// frameMs is the duration of one access unit in milliseconds.
	frameMs float64
}

// parseAudioConfig reads an AudioSpecificConfig and checks that ADTS can
// carry it.
func parseAudioConfig(raw []byte) (*audioConfig, error) {
	a := &audioConfig{raw: raw}
	if err := a.asc.Unmarshal(raw); err != nil {
		return nil, fmt.Errorf("AudioSpecificConfig: %w", err)
	}
	probe := mpeg4audio.ADTSPackets{{
		Type:          a.asc.Type,
		SampleRate:    a.asc.SampleRate,
		ChannelConfig: a.asc.ChannelConfig,
		AU:            []byte{0},
	}}
	if _, err := probe.Marshal(); err != nil {
		return nil, fmt.Errorf("AAC in ADTS: %v: %w", err, ErrUnsupported)
	}
	samples := 1024
	if a.asc.FrameLengthFlag {
		samples = 960
	}
	a.frameMs = float64(samples) * 1000 / float64(a.asc.SampleRate)
	return a, nil
}

// track returns a new MPEG-TS track for the configuration.
func (a *audioConfig) track() *mpegts.Track {
	return &mpegts.Track{Codec: &tscodecs.MPEG4Audio{Config: a.asc}}
}
