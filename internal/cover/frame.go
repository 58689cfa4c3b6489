package cover

import (
	"errors"
	"fmt"

	"roomcast/internal/media"
)

// ErrUnsupported means a stream's video cannot be grabbed (not H.264 or
// H.265, or no decoder configuration yet).
var ErrUnsupported = errors.New("cover: unsupported video")

// maxJPEG bounds a grabbed JPEG (a 4K picture at the quality used is far
// below it).
const maxJPEG = 8 << 20

// grabArgs are ffmpeg's arguments to turn one picture of an elementary
// stream of format ("h264" or "hevc") on stdin into a JPEG on stdout at the
// picture's size. Only constants: nothing of the stream's name or of any
// request goes into them.
func grabArgs(format string) []string {
	return []string{
		"-f", format, "-i", "pipe:0",
		"-frames:v", "1", "-an",
		"-c:v", "mjpeg", "-q:v", "4", "-pix_fmt", "yuvj420p",
		"-f", "image2pipe", "pipe:1",
	}
}

var startCode = []byte{0, 0, 0, 1}

// keyframeAnnexB returns the keyframe key as an Annex B elementary stream
// that a decoder can start from: the parameter sets of the decoder
// configuration conf, then the keyframe's NAL units, each after a start
// code. It also returns ffmpeg's name of the format.
func keyframeAnnexB(conf, key *media.Packet) ([]byte, string, error) {
	if conf == nil || key == nil || conf.Codec != key.Codec {
		return nil, "", fmt.Errorf("%w: no decoder configuration for the keyframe", ErrUnsupported)
	}
	var sets [][]byte
	var lengthSize int
	var format string
	switch conf.Codec {
	case media.CodecH264:
		c, err := media.ParseAVCConfig(conf.Payload())
		if err != nil {
			return nil, "", fmt.Errorf("%w: %w", ErrUnsupported, err)
		}
		sets, lengthSize, format = append(append(sets, c.SPS...), c.PPS...), c.LengthSize, "h264"
	case media.CodecH265:
		c, err := media.ParseHEVCConfig(conf.Payload())
		if err != nil {
			return nil, "", fmt.Errorf("%w: %w", ErrUnsupported, err)
		}
		sets, lengthSize, format = append(append(append(sets, c.VPS...), c.SPS...), c.PPS...), c.LengthSize, "hevc"
	default:
		return nil, "", fmt.Errorf("%w: codec %s", ErrUnsupported, conf.Codec)
	}
	nalus, err := media.SplitAVCC(key.Payload(), lengthSize)
	if err != nil {
		return nil, "", fmt.Errorf("keyframe: %w", err)
	}
	n := 0
	for _, u := range append(sets, nalus...) {
		n += len(startCode) + len(u)
	}
	out := make([]byte, 0, n)
	for _, u := range sets {
		out = append(append(out, startCode...), u...)
	}
	for _, u := range nalus {
		out = append(append(out, startCode...), u...)
	}
	return out, format, nil
}
