package rtph264

import (
	"errors"
	"fmt"
)

// ErrNoParameterSets is returned by ConfigRecord without an SPS or a PPS.
var ErrNoParameterSets = errors.New("rtph264: an SPS and a PPS are needed")

// AppendAVCC appends nalus to dst in AVCC form: each NAL unit prefixed with
// its 4-byte big-endian length.
func AppendAVCC(dst []byte, nalus [][]byte) []byte {
	for _, n := range nalus {
		l := len(n)
		dst = append(dst, byte(l>>24), byte(l>>16), byte(l>>8), byte(l))
		dst = append(dst, n...)
	}
	return dst
}

// ConfigRecord returns the AVCDecoderConfigurationRecord (ISO/IEC 14496-15
// 5.2.4.1) of one SPS and one PPS, with 4-byte NAL unit lengths.
func ConfigRecord(sps, pps []byte) ([]byte, error) {
	if len(sps) < 4 || len(pps) == 0 {
		return nil, ErrNoParameterSets
	}
	if len(sps) > 0xffff || len(pps) > 0xffff {
		return nil, fmt.Errorf("rtph264: parameter set of %d/%d bytes is too large", len(sps), len(pps))
	}
	b := make([]byte, 0, 11+len(sps)+len(pps))
	b = append(b, 1, sps[1], sps[2], sps[3], 0xff, 0xe1)
	b = append(b, byte(len(sps)>>8), byte(len(sps)))
	b = append(b, sps...)
	b = append(b, 1, byte(len(pps)>>8), byte(len(pps)))
	b = append(b, pps...)
	return b, nil
}

// ProfileLevelID returns the profile-level-id SDP parameter of an SPS
// ("64001f"), or "42e01f" (constrained baseline 3.1) when sps is too short.
func ProfileLevelID(sps []byte) string {
	if len(sps) < 4 {
		return "42e01f"
	}
	return fmt.Sprintf("%02x%02x%02x", sps[1], sps[2], sps[3])
}
