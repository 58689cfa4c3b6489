// Package ogg reads the packets of one logical Ogg bitstream (RFC 3533), as
// ffmpeg writes Ogg Opus to a pipe. It is a wire format only: it reads from
// an io.Reader and opens nothing.
package ogg

import (
	"bufio"
	"errors"
	"fmt"
	"io"
)

// ErrMalformed is returned for a page that does not parse.
var ErrMalformed = errors.New("ogg: malformed page")

// DefaultMaxPacket bounds one packet when Reader.MaxPacket is zero.
const DefaultMaxPacket = 1 << 20

// Packet is one packet and the granule position of the page it ends on
// (-1 when the page ends no packet, which cannot be the case here).
type Packet struct {
	Data []byte
	// Granule is the granule position of the page on which the packet
	// ends: for Opus, the 48 kHz sample count at the end of the last
	// packet completed on that page.
	Granule int64
	// Index is the packet's position among the packets completed on its
	// page, and PageCount how many that page completed.
	Index, PageCount int
}

// Reader reads packets. Page checksums are not verified: the input is a
// local pipe, not a lossy medium.
type Reader struct {
	// MaxPacket bounds one packet (DefaultMaxPacket when zero).
	MaxPacket int

	r       *bufio.Reader
	queue   []Packet
	partial []byte
	hdr     [27]byte
	lacing  [255]byte
}

// NewReader returns a reader of r.
func NewReader(r io.Reader) *Reader {
	return &Reader{r: bufio.NewReaderSize(r, 64<<10)}
}

// ReadPacket returns the next packet. It returns io.EOF at a clean end of
// input, io.ErrUnexpectedEOF inside a page, and ErrMalformed (wrapped) for
// input that is not Ogg.
func (r *Reader) ReadPacket() (Packet, error) {
	for len(r.queue) == 0 {
		if err := r.readPage(); err != nil {
			return Packet{}, err
		}
	}
	p := r.queue[0]
	r.queue = r.queue[1:]
	return p, nil
}

func (r *Reader) maxPacket() int {
	if r.MaxPacket > 0 {
		return r.MaxPacket
	}
	return DefaultMaxPacket
}

// readPage reads one page and queues the packets it completes.
func (r *Reader) readPage() error {
	if _, err := io.ReadFull(r.r, r.hdr[:]); err != nil {
		if errors.Is(err, io.EOF) {
			return io.EOF
		}
		return fmt.Errorf("ogg page header: %w", err)
	}
	h := r.hdr[:]
	if string(h[:4]) != "OggS" || h[4] != 0 {
		return fmt.Errorf("%w: bad capture pattern or version", ErrMalformed)
	}
	continued := h[5]&0x01 != 0
	granule := int64(uint64(h[6]) | uint64(h[7])<<8 | uint64(h[8])<<16 | uint64(h[9])<<24 |
		uint64(h[10])<<32 | uint64(h[11])<<40 | uint64(h[12])<<48 | uint64(h[13])<<56)
	segments := int(h[26])
	lacing := r.lacing[:segments]
	if _, err := io.ReadFull(r.r, lacing); err != nil {
		return fmt.Errorf("ogg lacing values: %w", noEOF(err))
	}
	if !continued {
		r.partial = r.partial[:0]
	}
	var done [][]byte
	cur := r.partial
	for _, l := range lacing {
		start := len(cur)
		if start+int(l) > r.maxPacket() {
			return fmt.Errorf("%w: packet over %d bytes", ErrMalformed, r.maxPacket())
		}
		cur = append(cur, make([]byte, l)...)
		if _, err := io.ReadFull(r.r, cur[start:]); err != nil {
			return fmt.Errorf("ogg page body: %w", noEOF(err))
		}
		if l < 255 {
			done = append(done, cur)
			cur = nil
		}
	}
	r.partial = cur
	for i, d := range done {
		r.queue = append(r.queue, Packet{Data: d, Granule: granule, Index: i, PageCount: len(done)})
	}
	return nil
}

func noEOF(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}
