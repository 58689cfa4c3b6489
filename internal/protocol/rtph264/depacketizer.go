package rtph264

import (
	"errors"
	"fmt"

	"github.com/pion/rtp"
)

// Depacketizer defaults.
const (
	// DefaultMaxAccessUnit bounds the bytes of one access unit.
	DefaultMaxAccessUnit = 8 << 20
	// DefaultWindow is how many packets may arrive ahead of a missing one
	// before it is given up as lost.
	DefaultWindow = 128
)

// Errors describing why data was dropped; Push reports them after it
// dropped an access unit, and the caller should ask the sender for a
// keyframe (PLI).
var (
	// ErrLost: packets were lost, so the access unit being assembled was
	// dropped, and access units up to the next keyframe are dropped too.
	ErrLost = errors.New("rtph264: packets lost")
	// ErrMalformed: a packet could not be parsed (truncated STAP-A, a
	// fragment without its start, an unsupported packet type).
	ErrMalformed = errors.New("rtph264: malformed packet")
	// ErrTooLarge: an access unit exceeded MaxAccessUnit bytes.
	ErrTooLarge = errors.New("rtph264: access unit too large")
)

// AccessUnit is one picture: its NAL units in decoding order (without start
// codes or length prefixes, owned by the access unit), its RTP timestamp and
// whether it holds an IDR slice.
type AccessUnit struct {
	NALUs     [][]byte
	Timestamp uint32
	Keyframe  bool
}

// Depacketizer reassembles access units from RTP packets of one SSRC in
// packetization-mode 1 (single NAL unit, STAP-A and FU-A packets). Packets
// may arrive out of order within Window packets; later ones wait for a
// missing packet until Window packets have passed it. After a loss it
// drops access units until the next keyframe. It is not safe for
// concurrent use; the zero value is ready to use.
type Depacketizer struct {
	// MaxAccessUnit bounds one access unit (DefaultMaxAccessUnit when 0).
	MaxAccessUnit int
	// Window is the reorder window in packets (DefaultWindow when 0).
	Window int

	started bool
	next    uint16
	pending map[uint16]*rtp.Packet

	ts      uint32
	nalus   [][]byte
	size    int
	fu      []byte
	inFU    bool
	broken  error // the access unit being assembled is dropped for this
	needKey bool
	lastErr error
	out     []AccessUnit
}

// Push adds one packet and returns the access units it completed, in order.
// The returned error, if not nil, says why data was dropped since the last
// call (ErrLost, ErrMalformed or ErrTooLarge, wrapped): the caller should
// request a keyframe. The access units returned alongside are still valid.
func (d *Depacketizer) Push(pkt *rtp.Packet) ([]AccessUnit, error) {
	d.out, d.lastErr = d.out[:0], nil
	window := d.Window
	if window <= 0 {
		window = DefaultWindow
	}
	if !d.started {
		d.started, d.next = true, pkt.SequenceNumber
		d.needKey = true
	}
	diff := int16(pkt.SequenceNumber - d.next)
	switch {
	case diff < 0:
		// Late or duplicate: already given up or delivered.
	case diff == 0:
		d.process(pkt)
		d.next++
		d.drain()
	case int(diff) >= window:
		// Far ahead: everything in between is lost.
		d.lose(pkt.SequenceNumber)
		clear(d.pending)
		d.process(pkt)
		d.next = pkt.SequenceNumber + 1
	default:
		if d.pending == nil {
			d.pending = make(map[uint16]*rtp.Packet)
		}
		if _, dup := d.pending[pkt.SequenceNumber]; !dup {
			d.pending[pkt.SequenceNumber] = pkt
		}
		if len(d.pending) >= window/2 {
			// The missing packet is not coming: continue at the
			// oldest pending one.
			oldest := pkt.SequenceNumber
			for seq := range d.pending {
				if int16(seq-oldest) < 0 {
					oldest = seq
				}
			}
			d.lose(oldest)
			d.next = oldest
			d.drain()
		}
	}
	out := d.out
	if d.lastErr != nil {
		return out, d.lastErr
	}
	return out, nil
}

// drain processes the pending packets that are now in order.
func (d *Depacketizer) drain() {
	for len(d.pending) > 0 {
		p, ok := d.pending[d.next]
		if !ok {
			return
		}
		delete(d.pending, d.next)
		d.process(p)
		d.next++
	}
}

// lose records that the packets before seq are lost.
func (d *Depacketizer) lose(seq uint16) {
	d.fail(fmt.Errorf("%w: %d packet(s) before sequence number %d", ErrLost, int16(seq-d.next), seq))
}

// fail drops the access unit being assembled and the ones up to the next
// keyframe.
func (d *Depacketizer) fail(err error) {
	if d.broken == nil {
		d.broken = err
	}
	d.inFU, d.fu = false, nil
	d.needKey = true
	d.lastErr = err
}

func (d *Depacketizer) process(pkt *rtp.Packet) {
	if len(d.nalus) > 0 || d.inFU || d.broken != nil {
		if pkt.Timestamp != d.ts {
			// A new picture began without the previous one's marker.
			d.finish()
		}
	}
	d.ts = pkt.Timestamp
	if d.broken == nil {
		if err := d.parse(pkt.Payload); err != nil {
			d.fail(err)
		}
	}
	if pkt.Marker {
		d.finish()
	}
}

func (d *Depacketizer) parse(b []byte) error {
	if len(b) == 0 {
		return nil // padding-only packets carry nothing
	}
	switch typ := b[0] & 0x1f; {
	case typ >= 1 && typ <= 23:
		if d.inFU {
			return fmt.Errorf("%w: NAL unit inside an unfinished FU-A", ErrMalformed)
		}
		return d.add(append([]byte(nil), b...))
	case typ == nalTypeSTAPA:
		if d.inFU {
			return fmt.Errorf("%w: STAP-A inside an unfinished FU-A", ErrMalformed)
		}
		b = b[1:]
		for len(b) > 0 {
			if len(b) < 2 {
				return fmt.Errorf("%w: truncated STAP-A size", ErrMalformed)
			}
			n := int(b[0])<<8 | int(b[1])
			b = b[2:]
			if n == 0 || n > len(b) {
				return fmt.Errorf("%w: STAP-A unit of %d bytes, %d left", ErrMalformed, n, len(b))
			}
			if err := d.add(append([]byte(nil), b[:n]...)); err != nil {
				return err
			}
			b = b[n:]
		}
		return nil
	case typ == nalTypeFUA:
		return d.fragment(b)
	default:
		return fmt.Errorf("%w: packet type %d (packetization-mode 1 carries 1-23, 24 and 28)", ErrMalformed, typ)
	}
}

func (d *Depacketizer) fragment(b []byte) error {
	if len(b) < 2 {
		return fmt.Errorf("%w: truncated FU-A header", ErrMalformed)
	}
	start, end := b[1]&0x80 != 0, b[1]&0x40 != 0
	switch {
	case start && d.inFU:
		return fmt.Errorf("%w: FU-A start inside an unfinished FU-A", ErrMalformed)
	case start:
		d.inFU = true
		d.fu = append(make([]byte, 0, 4*len(b)), b[0]&0xe0|b[1]&0x1f)
	case !d.inFU:
		return fmt.Errorf("%w: FU-A fragment without its start", ErrMalformed)
	}
	if d.size+len(d.fu)+len(b)-2 > d.maxAU() {
		return fmt.Errorf("%w: more than %d bytes", ErrTooLarge, d.maxAU())
	}
	d.fu = append(d.fu, b[2:]...)
	if end {
		nal := d.fu
		d.inFU, d.fu = false, nil
		return d.add(nal)
	}
	return nil
}

func (d *Depacketizer) maxAU() int {
	if d.MaxAccessUnit > 0 {
		return d.MaxAccessUnit
	}
	return DefaultMaxAccessUnit
}

func (d *Depacketizer) add(nal []byte) error {
	if d.size+len(nal) > d.maxAU() {
		return fmt.Errorf("%w: more than %d bytes", ErrTooLarge, d.maxAU())
	}
	d.size += len(nal)
	d.nalus = append(d.nalus, nal)
	return nil
}

// finish ends the access unit being assembled and emits it if whole.
func (d *Depacketizer) finish() {
	nalus, broken := d.nalus, d.broken
	if d.inFU && broken == nil {
		// The marker (or a new timestamp) came inside a fragment.
		broken = fmt.Errorf("%w: access unit ended inside an FU-A", ErrMalformed)
		d.fail(broken)
	}
	d.nalus, d.size, d.broken, d.inFU, d.fu = nil, 0, nil, false, nil
	if broken != nil || len(nalus) == 0 {
		return
	}
	key := false
	for _, n := range nalus {
		if n[0]&0x1f == NALTypeIDR {
			key = true
		}
	}
	if d.needKey && !key {
		return
	}
	d.needKey = false
	d.out = append(d.out, AccessUnit{NALUs: nalus, Timestamp: d.ts, Keyframe: key})
}
