package media

import (
	"errors"
	"fmt"
)

// ErrBadConfig is returned for a malformed decoder configuration record.
var ErrBadConfig = errors.New("media: malformed decoder configuration record")

// AVCConfig is the content of an AVCDecoderConfigurationRecord
// (ISO/IEC 14496-15 5.2.4.1), as carried in an H.264 sequence header.
type AVCConfig struct {
	// LengthSize is the size in bytes of the NAL unit length prefix (1, 2 or 4).
	LengthSize int
	SPS        [][]byte
	PPS        [][]byte
}

// ParseAVCConfig parses an AVCDecoderConfigurationRecord. The returned
// parameter sets alias b.
func ParseAVCConfig(b []byte) (*AVCConfig, error) {
	if len(b) < 6 || b[0] != 1 {
		return nil, fmt.Errorf("avc: %w", ErrBadConfig)
	}
	c := &AVCConfig{LengthSize: int(b[4]&0x03) + 1}
	if c.LengthSize == 3 {
		return nil, fmt.Errorf("avc: length size 3: %w", ErrBadConfig)
	}
	pos := 5
	var err error
	if c.SPS, pos, err = readParamSets(b, pos, int(b[pos]&0x1f), 1); err != nil {
		return nil, fmt.Errorf("avc sps: %w", err)
	}
	if pos >= len(b) {
		return nil, fmt.Errorf("avc pps count: %w", ErrBadConfig)
	}
	if c.PPS, _, err = readParamSets(b, pos, int(b[pos]), 1); err != nil {
		return nil, fmt.Errorf("avc pps: %w", err)
	}
	if len(c.SPS) == 0 {
		return nil, fmt.Errorf("avc: no SPS: %w", ErrBadConfig)
	}
	return c, nil
}

// readParamSets reads n 16-bit-length-prefixed units after skip count bytes
// at pos.
func readParamSets(b []byte, pos, n, skip int) ([][]byte, int, error) {
	pos += skip
	out := make([][]byte, 0, n)
	for range n {
		if pos+2 > len(b) {
			return nil, pos, ErrBadConfig
		}
		l := int(b[pos])<<8 | int(b[pos+1])
		pos += 2
		if pos+l > len(b) || l == 0 {
			return nil, pos, ErrBadConfig
		}
		out = append(out, b[pos:pos+l])
		pos += l
	}
	return out, pos, nil
}

// HEVCConfig is the content of an HEVCDecoderConfigurationRecord
// (ISO/IEC 14496-15 8.3.3.1).
type HEVCConfig struct {
	// LengthSize is the size in bytes of the NAL unit length prefix.
	LengthSize int
	VPS        [][]byte
	SPS        [][]byte
	PPS        [][]byte
}

// HEVC NAL unit types of parameter sets.
const (
	hevcNALVPS = 32
	hevcNALSPS = 33
	hevcNALPPS = 34
)

// ParseHEVCConfig parses an HEVCDecoderConfigurationRecord. The returned
// parameter sets alias b.
func ParseHEVCConfig(b []byte) (*HEVCConfig, error) {
	const fixed = 23
	if len(b) < fixed || b[0] != 1 {
		return nil, fmt.Errorf("hevc: %w", ErrBadConfig)
	}
	c := &HEVCConfig{LengthSize: int(b[21]&0x03) + 1}
	if c.LengthSize == 3 {
		return nil, fmt.Errorf("hevc: length size 3: %w", ErrBadConfig)
	}
	arrays := int(b[22])
	pos := fixed
	for range arrays {
		if pos+3 > len(b) {
			return nil, fmt.Errorf("hevc array: %w", ErrBadConfig)
		}
		typ := b[pos] & 0x3f
		n := int(b[pos+1])<<8 | int(b[pos+2])
		units, next, err := readParamSets(b, pos, n, 3)
		if err != nil {
			return nil, fmt.Errorf("hevc nal array %d: %w", typ, err)
		}
		pos = next
		switch typ {
		case hevcNALVPS:
			c.VPS = append(c.VPS, units...)
		case hevcNALSPS:
			c.SPS = append(c.SPS, units...)
		case hevcNALPPS:
			c.PPS = append(c.PPS, units...)
		}
	}
	if len(c.SPS) == 0 {
		return nil, fmt.Errorf("hevc: no SPS: %w", ErrBadConfig)
	}
	return c, nil
}

// SplitAVCC splits length-prefixed NAL units (AVCC form) into a slice of NAL
// units that alias b. lengthSize is 1, 2 or 4.
func SplitAVCC(b []byte, lengthSize int) ([][]byte, error) {
	var out [][]byte
	for len(b) > 0 {
		if len(b) < lengthSize {
			return nil, fmt.Errorf("avcc: truncated length: %w", ErrShortPayload)
		}
		var l int
		for i := range lengthSize {
			l = l<<8 | int(b[i])
		}
		b = b[lengthSize:]
		if l > len(b) {
			return nil, fmt.Errorf("avcc: NAL unit of %d bytes, %d left: %w", l, len(b), ErrShortPayload)
		}
		if l > 0 {
			out = append(out, b[:l])
		}
		b = b[l:]
	}
	return out, nil
}
