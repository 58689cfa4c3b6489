package amf

import (
	"encoding/binary"
	"fmt"
	"math"
	"time"
)

// AMF0 type markers.
const (
	marker0Number      = 0x00
	marker0Boolean     = 0x01
	marker0String      = 0x02
	marker0Object      = 0x03
	marker0MovieClip   = 0x04
	marker0Null        = 0x05
	marker0Undefined   = 0x06
	marker0Reference   = 0x07
	marker0ECMAArray   = 0x08
	marker0ObjectEnd   = 0x09
	marker0StrictArray = 0x0a
	marker0Date        = 0x0b
	marker0LongString  = 0x0c
	marker0Unsupported = 0x0d
	marker0RecordSet   = 0x0e
	marker0XMLDocument = 0x0f
	marker0TypedObject = 0x10
	marker0AVMPlus     = 0x11
)

// Decode decodes every AMF0 value in b, in order. The AMF0 reference table
// spans the whole of b, as it spans one RTMP message. On error it returns the
// values decoded before the bad one together with the error.
func Decode(b []byte) ([]any, error) {
	d := decoder{b: b}
	var vals []any
	for d.off < len(b) {
		start := d.off
		v, err := d.value0(0)
		if err != nil {
			return vals, fmt.Errorf("decode value %d at offset %d: %w", len(vals), start, err)
		}
		vals = append(vals, v)
	}
	return vals, nil
}

// DecodeValue decodes the first AMF0 value in b and reports how many bytes it
// used.
func DecodeValue(b []byte) (v any, n int, err error) {
	d := decoder{b: b}
	v, err = d.value0(0)
	if err != nil {
		return nil, 0, fmt.Errorf("decode value: %w", err)
	}
	return v, d.off, nil
}

// decoder reads values from b. It is shared by the AMF0 and AMF3 readers so
// that offsets and the expansion budget are common to both.
type decoder struct {
	b    []byte
	off  int
	refs []refEntry // AMF0 object reference table
	// extra counts bytes that references add to the decoded value beyond the
	// bytes of the input, bounded by maxExpanded.
	extra int
}

// refEntry is one slot of a reference table. done is false while the value
// is still being decoded, so references to it (cycles) are refused.
type refEntry struct {
	v    any
	cost int
	done bool
}

// mark returns the position used to compute a value's expanded cost.
func (d *decoder) mark() int { return d.off + d.extra }

// useRef resolves a reference to table entry e, charging its cost.
func (d *decoder) useRef(e *refEntry) (any, error) {
	if !e.done {
		return nil, fmt.Errorf("%w: reference to a value being decoded", ErrReference)
	}
	return e.v, d.charge(e.cost)
}

// charge adds n expanded bytes to the budget.
func (d *decoder) charge(n int) error {
	d.extra += n
	if d.extra > maxExpanded {
		return fmt.Errorf("%w: references expand beyond %d bytes", ErrTooLarge, maxExpanded)
	}
	return nil
}

func (d *decoder) remaining() int { return len(d.b) - d.off }

func (d *decoder) need(n int) error {
	if n < 0 || n > d.remaining() {
		return fmt.Errorf("%w: need %d bytes at offset %d, have %d", ErrTruncated, n, d.off, d.remaining())
	}
	return nil
}

func (d *decoder) u8() (byte, error) {
	if err := d.need(1); err != nil {
		return 0, err
	}
	c := d.b[d.off]
	d.off++
	return c, nil
}

func (d *decoder) u16() (uint16, error) {
	if err := d.need(2); err != nil {
		return 0, err
	}
	v := binary.BigEndian.Uint16(d.b[d.off:])
	d.off += 2
	return v, nil
}

func (d *decoder) u32() (uint32, error) {
	if err := d.need(4); err != nil {
		return 0, err
	}
	v := binary.BigEndian.Uint32(d.b[d.off:])
	d.off += 4
	return v, nil
}

func (d *decoder) float() (float64, error) {
	if err := d.need(8); err != nil {
		return 0, err
	}
	v := math.Float64frombits(binary.BigEndian.Uint64(d.b[d.off:]))
	d.off += 8
	return v, nil
}

func (d *decoder) bytes(n int) ([]byte, error) {
	if err := d.need(n); err != nil {
		return nil, err
	}
	p := d.b[d.off : d.off+n]
	d.off += n
	return p, nil
}

func (d *decoder) str16() (string, error) {
	n, err := d.u16()
	if err != nil {
		return "", err
	}
	p, err := d.bytes(int(n))
	return string(p), err
}

func (d *decoder) str32() (string, error) {
	n, err := d.u32()
	if err != nil {
		return "", err
	}
	if uint64(n) > uint64(d.remaining()) {
		return "", fmt.Errorf("%w: string of %d bytes at offset %d, have %d", ErrTruncated, n, d.off, d.remaining())
	}
	p, err := d.bytes(int(n))
	return string(p), err
}

// value0 decodes one AMF0 value at nesting depth depth.
func (d *decoder) value0(depth int) (any, error) {
	start := d.off
	m, err := d.u8()
	if err != nil {
		return nil, err
	}
	switch m {
	case marker0Number:
		return d.float()
	case marker0Boolean:
		c, err := d.u8()
		return c != 0, err
	case marker0String:
		return d.str16()
	case marker0LongString, marker0XMLDocument:
		return d.str32()
	case marker0Null:
		return nil, nil
	case marker0Undefined:
		return Undefined{}, nil
	case marker0Date:
		ms, err := d.float()
		if err != nil {
			return nil, err
		}
		if _, err := d.u16(); err != nil { // time zone, reserved: always 0
			return nil, err
		}
		return msToTime(ms), nil
	case marker0Reference:
		idx, err := d.u16()
		if err != nil {
			return nil, err
		}
		if int(idx) >= len(d.refs) {
			return nil, fmt.Errorf("%w: AMF0 reference %d of %d", ErrReference, idx, len(d.refs))
		}
		return d.useRef(&d.refs[idx])
	case marker0Object, marker0TypedObject, marker0ECMAArray, marker0StrictArray:
		return d.complex0(m, depth)
	case marker0ObjectEnd:
		return nil, fmt.Errorf("%w at offset %d", ErrUnexpectedObjectEnd, start)
	case marker0AVMPlus:
		a := amf3{d: d}
		return a.value(depth)
	default: // movieclip, unsupported, recordset and unknown markers
		return nil, fmt.Errorf("%w: AMF0 marker 0x%02x at offset %d", ErrUnknownMarker, m, start)
	}
}

// complex0 decodes the body of an AMF0 object, typed object, ECMA array or
// strict array whose marker m has been read, registering it in the
// reference table first as the specification requires.
func (d *decoder) complex0(m byte, depth int) (any, error) {
	if depth >= MaxDepth {
		return nil, fmt.Errorf("%w: more than %d levels", ErrTooDeep, MaxDepth)
	}
	begin := d.mark()
	slot := len(d.refs)
	d.refs = append(d.refs, refEntry{})
	var (
		v   any
		err error
	)
	switch m {
	case marker0Object:
		var props []Property
		props, err = d.props0(depth+1, false)
		v = Object(props)
	case marker0TypedObject:
		if _, err = d.str16(); err != nil { // class name, dropped
			break
		}
		var props []Property
		props, err = d.props0(depth+1, false)
		v = Object(props)
	case marker0ECMAArray:
		if _, err = d.u32(); err != nil { // advisory count, often wrong
			break
		}
		var props []Property
		props, err = d.props0(depth+1, true)
		v = ECMAArray(props)
	case marker0StrictArray:
		v, err = d.strictArray0(depth + 1)
	}
	if err != nil {
		return nil, err
	}
	d.refs[slot] = refEntry{v: v, cost: d.mark() - begin, done: true}
	return v, nil
}

// props0 reads properties up to the object-end marker. An ECMA array may
// also end with the input, which some encoders rely on.
func (d *decoder) props0(depth int, lenientEnd bool) ([]Property, error) {
	var props []Property
	for {
		if lenientEnd && d.remaining() == 0 {
			return props, nil
		}
		key, err := d.str16()
		if err != nil {
			return nil, err
		}
		if key == "" && d.remaining() > 0 && d.b[d.off] == marker0ObjectEnd {
			d.off++
			return props, nil
		}
		v, err := d.value0(depth)
		if err != nil {
			return nil, fmt.Errorf("property %q: %w", key, err)
		}
		props = append(props, Property{Key: key, Value: v})
	}
}

func (d *decoder) strictArray0(depth int) (StrictArray, error) {
	n, err := d.u32()
	if err != nil {
		return nil, err
	}
	if uint64(n) > uint64(d.remaining()) { // every value takes at least one byte
		return nil, fmt.Errorf("%w: strict array of %d values in %d bytes", ErrTooLarge, n, d.remaining())
	}
	arr := make(StrictArray, 0, n)
	for i := range int(n) {
		v, err := d.value0(depth)
		if err != nil {
			return nil, fmt.Errorf("element %d: %w", i, err)
		}
		arr = append(arr, v)
	}
	return arr, nil
}

// maxDateMs is the ECMAScript limit on a date's distance from the epoch.
const maxDateMs = 8.64e15

// msToTime converts milliseconds since the epoch to a UTC time, truncating
// to whole milliseconds. Dates that are not finite or out of ECMAScript's
// range decode as the zero time.
func msToTime(ms float64) time.Time {
	if math.IsNaN(ms) || ms > maxDateMs || ms < -maxDateMs {
		return time.Time{}
	}
	return time.UnixMilli(int64(ms)).UTC()
}
