// Package adts reads and writes AAC frames in ADTS framing (ISO/IEC
// 13818-7 6.2), the form ffmpeg reads and writes AAC on a pipe. It is a wire
// format only: it reads from an io.Reader and opens nothing.
package adts

import (
	"bufio"
	"errors"
	"fmt"
	"io"
)

// Errors.
var (
	// ErrMalformed is returned for a header that does not parse.
	ErrMalformed = errors.New("adts: malformed header")
	// ErrUnsupported is returned by AppendFrame for a configuration ADTS
	// cannot carry.
	ErrUnsupported = errors.New("adts: unsupported configuration")
)

// headerSize is the size of a header without CRC; protected headers carry
// two more bytes.
const headerSize = 7

// Config is the part of an AudioSpecificConfig an ADTS header carries.
type Config struct {
	// ObjectType is the MPEG-4 audio object type (2: AAC-LC).
	ObjectType int
	// SampleRateIndex indexes the standard sample rates (3: 48000 Hz).
	SampleRateIndex int
	// Channels is the channel configuration (1: mono, 2: stereo).
	Channels int
}

// sampleRates are the rates of the sampling frequency indexes.
func sampleRate(i int) int {
	rates := [...]int{96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350}
	if i < 0 || i >= len(rates) {
		return 0
	}
	return rates[i]
}

// SampleRate returns the configuration's sample rate in Hz (0 if unknown).
func (c Config) SampleRate() int { return sampleRate(c.SampleRateIndex) }

// AudioSpecificConfig returns the two-byte AudioSpecificConfig of c, as an
// FLV/RTMP AAC sequence header carries it.
func (c Config) AudioSpecificConfig() []byte {
	return []byte{byte(c.ObjectType<<3 | c.SampleRateIndex>>1), byte(c.SampleRateIndex&1<<7 | c.Channels<<3)}
}

// ParseAudioSpecificConfig reads the fields of an AudioSpecificConfig that
// ADTS can carry: AAC object types 1-4, a sample rate index (not an
// explicit rate) and a channel configuration 1-7.
func ParseAudioSpecificConfig(b []byte) (Config, error) {
	if len(b) < 2 {
		return Config{}, fmt.Errorf("%w: AudioSpecificConfig of %d bytes", ErrUnsupported, len(b))
	}
	c := Config{ObjectType: int(b[0] >> 3), SampleRateIndex: int(b[0]&7)<<1 | int(b[1]>>7), Channels: int(b[1]>>3) & 0x0f}
	if c.ObjectType < 1 || c.ObjectType > 4 || sampleRate(c.SampleRateIndex) == 0 || c.Channels < 1 || c.Channels > 7 {
		return Config{}, fmt.Errorf("%w: object type %d, rate index %d, %d channels", ErrUnsupported, c.ObjectType, c.SampleRateIndex, c.Channels)
	}
	return c, nil
}

// AppendFrame appends one raw AAC frame with its ADTS header to dst.
func AppendFrame(dst []byte, c Config, frame []byte) ([]byte, error) {
	n := headerSize + len(frame)
	if n > 0x1fff {
		return dst, fmt.Errorf("%w: frame of %d bytes", ErrUnsupported, len(frame))
	}
	if c.ObjectType < 1 || c.ObjectType > 4 || sampleRate(c.SampleRateIndex) == 0 || c.Channels < 1 || c.Channels > 7 {
		return dst, fmt.Errorf("%w: %+v", ErrUnsupported, c)
	}
	dst = append(dst,
		0xff, 0xf1, // sync, MPEG-4, layer 0, no CRC
		byte((c.ObjectType-1)<<6|c.SampleRateIndex<<2|c.Channels>>2),
		byte(c.Channels&3<<6|n>>11),
		byte(n>>3),
		byte(n&7<<5|0x1f),
		0xfc, // buffer fullness 0x7ff, one raw data block
	)
	return append(dst, frame...), nil
}

// Frame is one AAC frame read from an ADTS stream.
type Frame struct {
	Config Config
	// Data is the raw AAC frame (one raw data block), owned by the caller.
	Data []byte
}

// Reader reads ADTS frames.
type Reader struct {
	r   *bufio.Reader
	hdr [headerSize + 2]byte
}

// NewReader returns a reader of r.
func NewReader(r io.Reader) *Reader {
	return &Reader{r: bufio.NewReaderSize(r, 16<<10)}
}

// ReadFrame returns the next frame: io.EOF at a clean end of input,
// io.ErrUnexpectedEOF inside a frame, ErrMalformed (wrapped) for input that
// is not ADTS. Frames with several raw data blocks are refused as
// malformed (encoders write one per frame).
func (r *Reader) ReadFrame() (Frame, error) {
	h := r.hdr[:headerSize]
	if _, err := io.ReadFull(r.r, h); err != nil {
		if errors.Is(err, io.EOF) {
			return Frame{}, io.EOF
		}
		return Frame{}, fmt.Errorf("adts header: %w", err)
	}
	if h[0] != 0xff || h[1]&0xf6 != 0xf0 {
		return Frame{}, fmt.Errorf("%w: no sync word", ErrMalformed)
	}
	protected := h[1]&1 == 0
	c := Config{
		ObjectType:      int(h[2]>>6) + 1,
		SampleRateIndex: int(h[2]>>2) & 0x0f,
		Channels:        int(h[2]&1)<<2 | int(h[3]>>6),
	}
	if sampleRate(c.SampleRateIndex) == 0 || c.Channels == 0 {
		return Frame{}, fmt.Errorf("%w: rate index %d, channel configuration %d", ErrMalformed, c.SampleRateIndex, c.Channels)
	}
	length := int(h[3]&3)<<11 | int(h[4])<<3 | int(h[5]>>5)
	if h[6]&3 != 0 {
		return Frame{}, fmt.Errorf("%w: %d raw data blocks in one frame", ErrMalformed, h[6]&3+1)
	}
	hl := headerSize
	if protected {
		hl += 2
		if _, err := io.ReadFull(r.r, r.hdr[headerSize:]); err != nil {
			return Frame{}, fmt.Errorf("adts crc: %w", noEOF(err))
		}
	}
	if length <= hl {
		return Frame{}, fmt.Errorf("%w: frame length %d", ErrMalformed, length)
	}
	data := make([]byte, length-hl)
	if _, err := io.ReadFull(r.r, data); err != nil {
		return Frame{}, fmt.Errorf("adts frame: %w", noEOF(err))
	}
	return Frame{Config: c, Data: data}, nil
}

func noEOF(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}
