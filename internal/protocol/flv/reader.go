package flv

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"roomcast/internal/media"
)

// DefaultMaxTagSize is the tag body limit of a Reader made with
// maxTagSize 0.
const DefaultMaxTagSize = 16 << 20

// maxHeaderSkip bounds the extra file header bytes (a data offset above 9)
// a Reader skips.
const maxHeaderSkip = 1 << 16

// bodyChunk is the step by which the body buffer of a large tag grows as its
// bytes arrive, so that a header claiming megabytes costs nothing until the
// bytes are actually sent.
const bodyChunk = 64 << 10

// Tag is one tag read from an FLV stream.
type Tag struct {
	// Type is the tag type (8 audio, 9 video, 18 script; others are
	// returned as they are).
	Type media.TagType
	// Timestamp is the 32-bit millisecond timestamp.
	Timestamp uint32
	// Data is the tag body, freshly allocated for each tag.
	Data []byte
}

// Reader reads an FLV stream: ReadHeader once, then ReadTag until it returns
// an error. It is not safe for concurrent use.
type Reader struct {
	br      *bufio.Reader
	max     int
	off     int64 // stream offset of the next byte to read, for errors
	scratch [TagHeaderLen]byte
}

// NewReader returns a Reader of r that rejects tag bodies larger than
// maxTagSize bytes (0 means DefaultMaxTagSize). Reads from r are buffered.
func NewReader(r io.Reader, maxTagSize int) *Reader {
	if maxTagSize <= 0 {
		maxTagSize = DefaultMaxTagSize
	}
	br, ok := r.(*bufio.Reader)
	if !ok {
		br = bufio.NewReaderSize(r, 4096)
	}
	return &Reader{br: br, max: maxTagSize}
}

// ReadHeader reads the FLV file header and PreviousTagSize0, returning the
// header's audio and video flags (which encoders do not always set
// truthfully). The value of PreviousTagSize0 is not checked: it should be 0
// but nothing depends on it.
func (r *Reader) ReadHeader() (hasAudio, hasVideo bool, err error) {
	h := r.scratch[:fileHeaderLen]
	if err := r.readFull(h); err != nil {
		return false, false, fmt.Errorf("flv: file header: %w", noEOF(err))
	}
	if h[0] != 'F' || h[1] != 'L' || h[2] != 'V' {
		return false, false, fmt.Errorf("flv: signature %q: %w", h[:3], ErrBadHeader)
	}
	if h[3] != 1 {
		return false, false, fmt.Errorf("flv: version %d: %w", h[3], ErrBadHeader)
	}
	hasAudio, hasVideo = h[4]&flagAudio != 0, h[4]&flagVideo != 0
	dataOffset := binary.BigEndian.Uint32(h[5:9])
	if dataOffset < fileHeaderLen || dataOffset > fileHeaderLen+maxHeaderSkip {
		return false, false, fmt.Errorf("flv: data offset %d: %w", dataOffset, ErrBadHeader)
	}
	if skip := int64(dataOffset - fileHeaderLen); skip > 0 {
		n, err := r.br.Discard(int(skip))
		r.off += int64(n)
		if err != nil {
			return false, false, fmt.Errorf("flv: file header: %w", noEOF(err))
		}
	}
	if err := r.readFull(r.scratch[:PrevTagSizeLen]); err != nil {
		return false, false, fmt.Errorf("flv: previous tag size 0: %w", noEOF(err))
	}
	return hasAudio, hasVideo, nil
}

// ReadTag reads the next tag and the previous-tag-size field that follows
// it. The field must equal 11 plus the body size, or 0, which some muxers
// write. At a clean end of stream (no byte of a new tag) it returns io.EOF
// itself; other errors are wrapped: io.ErrUnexpectedEOF for a truncated tag,
// ErrTagTooLarge, ErrBadPrevTagSize, ErrEncrypted, or the underlying read
// error.
func (r *Reader) ReadTag() (*Tag, error) {
	start := r.off
	h := r.scratch[:TagHeaderLen]
	if err := r.readFull(h); err != nil {
		if err == io.EOF {
			return nil, io.EOF
		}
		return nil, fmt.Errorf("flv: tag header at offset %d: %w", start, noEOF(err))
	}
	th := DecodeTagHeader(h)
	if th.Filter {
		return nil, fmt.Errorf("flv: tag at offset %d: %w", start, ErrEncrypted)
	}
	if int64(th.DataSize) > int64(r.max) {
		return nil, fmt.Errorf("flv: tag at offset %d: body of %d bytes exceeds %d: %w",
			start, th.DataSize, r.max, ErrTagTooLarge)
	}
	data, err := r.readBody(int(th.DataSize))
	if err != nil {
		return nil, fmt.Errorf("flv: %v tag body at offset %d: %w", th.Type, start, noEOF(err))
	}
	ps := r.scratch[:PrevTagSizeLen]
	if err := r.readFull(ps); err != nil {
		return nil, fmt.Errorf("flv: previous tag size at offset %d: %w", r.off, noEOF(err))
	}
	if prev := binary.BigEndian.Uint32(ps); prev != 0 && prev != TagHeaderLen+th.DataSize {
		return nil, fmt.Errorf("flv: tag at offset %d: previous tag size %d, want %d: %w",
			start, prev, TagHeaderLen+th.DataSize, ErrBadPrevTagSize)
	}
	return &Tag{Type: th.Type, Timestamp: th.Timestamp, Data: data}, nil
}

// readBody reads n bytes into a new slice. Bodies above bodyChunk are grown
// as the bytes arrive rather than allocated up front from the untrusted size.
func (r *Reader) readBody(n int) ([]byte, error) {
	if n <= bodyChunk {
		b := make([]byte, n)
		return b, r.readFull(b)
	}
	b := make([]byte, 0, bodyChunk)
	for len(b) < n {
		if len(b) == cap(b) {
			nb := make([]byte, len(b), min(2*cap(b), n))
			copy(nb, b)
			b = nb
		}
		k, err := io.ReadFull(r.br, b[len(b):cap(b)])
		b = b[:len(b)+k]
		r.off += int64(k)
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return nil, err
		}
	}
	return b, nil
}

func (r *Reader) readFull(b []byte) error {
	n, err := io.ReadFull(r.br, b)
	r.off += int64(n)
	return err
}

// noEOF turns io.EOF into io.ErrUnexpectedEOF, for reads that must not end
// the stream.
func noEOF(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}
