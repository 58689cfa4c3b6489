package amf

import (
	"encoding/binary"
	"fmt"
	"math"
	"strconv"
)

// AMF3 type markers.
const (
	marker3Undefined    = 0x00
	marker3Null         = 0x01
	marker3False        = 0x02
	marker3True         = 0x03
	marker3Integer      = 0x04
	marker3Double       = 0x05
	marker3String       = 0x06
	marker3XMLDoc       = 0x07
	marker3Date         = 0x08
	marker3Array        = 0x09
	marker3Object       = 0x0a
	marker3XML          = 0x0b
	marker3ByteArray    = 0x0c
	marker3VectorInt    = 0x0d
	marker3VectorUint   = 0x0e
	marker3VectorDouble = 0x0f
	marker3VectorObject = 0x10
	marker3Dictionary   = 0x11
)

// amf3 decodes one AMF3 value (the value after an AMF0 avmplus-object
// marker). Each switch to AMF3 starts with empty reference tables.
type amf3 struct {
	d       *decoder
	strings []string
	objects []refEntry
	traits  []traits3
}

// traits3 describes the members of an AMF3 object class.
type traits3 struct {
	className string
	sealed    []string
	dynamic   bool
	external  bool
}

// u29 reads a variable-length unsigned 29-bit integer.
func (a *amf3) u29() (uint32, error) {
	var v uint32
	for i := range 4 {
		c, err := a.d.u8()
		if err != nil {
			return 0, err
		}
		if i == 3 {
			return v<<8 | uint32(c), nil
		}
		v = v<<7 | uint32(c&0x7f)
		if c&0x80 == 0 {
			return v, nil
		}
	}
	return v, nil // not reached
}

// header reads a U29 that is either a reference (low bit 0) into table of
// size n or an inline value (low bit 1); it returns the value shifted right
// by one and whether it is inline.
func (a *amf3) header(n int) (v uint32, inline bool, err error) {
	h, err := a.u29()
	if err != nil {
		return 0, false, err
	}
	if h&1 == 0 && int(h>>1) >= n {
		return 0, false, fmt.Errorf("%w: AMF3 reference %d of %d", ErrReference, h>>1, n)
	}
	return h >> 1, h&1 == 1, nil
}

// length checks that an inline length fits in the remaining input given
// that each element takes at least size bytes.
func (a *amf3) length(n uint32, size int) (int, error) {
	if uint64(n)*uint64(size) > uint64(a.d.remaining()) {
		return 0, fmt.Errorf("%w: %d elements of %d bytes at offset %d, have %d", ErrTooLarge, n, size, a.d.off, a.d.remaining())
	}
	return int(n), nil
}

// string reads an AMF3 string (inline or by reference) without a marker.
func (a *amf3) string() (string, error) {
	v, inline, err := a.header(len(a.strings))
	if err != nil {
		return "", err
	}
	if !inline {
		s := a.strings[v]
		return s, a.d.charge(len(s))
	}
	p, err := a.d.bytes(int(v)) // v < 2^28
	if err != nil {
		return "", err
	}
	s := string(p)
	if s != "" {
		a.strings = append(a.strings, s)
	}
	return s, nil
}

// objectRef resolves an object-table reference.
func (a *amf3) objectRef(idx uint32) (any, error) {
	return a.d.useRef(&a.objects[idx])
}

// begin reserves an object-table slot for a value being decoded.
func (a *amf3) begin() (slot, mark int) {
	a.objects = append(a.objects, refEntry{})
	return len(a.objects) - 1, a.d.mark()
}

// end completes the object-table slot reserved by begin.
func (a *amf3) end(slot, mark int, v any) any {
	a.objects[slot] = refEntry{v: v, cost: a.d.mark() - mark, done: true}
	return v
}

// value decodes one AMF3 value at nesting depth depth.
func (a *amf3) value(depth int) (any, error) {
	start := a.d.off
	m, err := a.d.u8()
	if err != nil {
		return nil, err
	}
	switch m {
	case marker3Undefined:
		return Undefined{}, nil
	case marker3Null:
		return nil, nil
	case marker3False:
		return false, nil
	case marker3True:
		return true, nil
	case marker3Integer:
		v, err := a.u29()
		if err != nil {
			return nil, err
		}
		i := int32(v<<3) >> 3 // sign-extend 29 bits
		return float64(i), nil
	case marker3Double:
		return a.d.float()
	case marker3String:
		return a.string()
	case marker3XMLDoc, marker3XML, marker3ByteArray:
		return a.blob(m)
	case marker3Date:
		v, inline, err := a.header(len(a.objects))
		if err != nil || !inline {
			if err != nil {
				return nil, err
			}
			return a.objectRef(v)
		}
		slot, mark := a.begin()
		ms, err := a.d.float()
		if err != nil {
			return nil, err
		}
		return a.end(slot, mark, msToTime(ms)), nil
	case marker3Array, marker3Object, marker3VectorInt, marker3VectorUint, marker3VectorDouble, marker3VectorObject:
		if depth >= MaxDepth {
			return nil, fmt.Errorf("%w: more than %d levels", ErrTooDeep, MaxDepth)
		}
		v, inline, err := a.header(len(a.objects))
		if err != nil {
			return nil, err
		}
		if !inline {
			return a.objectRef(v)
		}
		switch m {
		case marker3Array:
			return a.array(v, depth+1)
		case marker3Object:
			return a.object(v, depth+1)
		default:
			return a.vector(m, v, depth+1)
		}
	default: // dictionary and unknown markers
		return nil, fmt.Errorf("%w: AMF3 marker 0x%02x at offset %d", ErrUnknownMarker, m, start)
	}
}

// blob reads XML (as a string) or a ByteArray (as a fresh []byte).
func (a *amf3) blob(m byte) (any, error) {
	v, inline, err := a.header(len(a.objects))
	if err != nil {
		return nil, err
	}
	if !inline {
		return a.objectRef(v)
	}
	slot, mark := a.begin()
	p, err := a.d.bytes(int(v)) // v < 2^28
	if err != nil {
		return nil, err
	}
	if m == marker3ByteArray {
		return a.end(slot, mark, append([]byte(nil), p...)), nil
	}
	return a.end(slot, mark, string(p)), nil
}

// array reads an AMF3 array with dense elements and an associative part.
// Without associative members it is a StrictArray; otherwise an ECMAArray
// whose dense elements follow under the keys "0", "1", ...
func (a *amf3) array(denseCount uint32, depth int) (any, error) {
	slot, mark := a.begin()
	assoc, err := a.members(nil, depth, "array member")
	if err != nil {
		return nil, err
	}
	n, err := a.length(denseCount, 1)
	if err != nil {
		return nil, err
	}
	dense := make(StrictArray, 0, n)
	for i := range n {
		v, err := a.value(depth)
		if err != nil {
			return nil, fmt.Errorf("array element %d: %w", i, err)
		}
		dense = append(dense, v)
	}
	if assoc == nil {
		return a.end(slot, mark, dense), nil
	}
	for i, v := range dense {
		assoc = append(assoc, Property{Key: strconv.Itoa(i), Value: v})
	}
	return a.end(slot, mark, ECMAArray(assoc)), nil
}

// object reads an AMF3 object whose U29O header (shifted right by one) is h.
func (a *amf3) object(h uint32, depth int) (any, error) {
	slot, mark := a.begin()
	var t traits3
	switch {
	case h&1 == 0: // trait reference
		idx := h >> 1
		if int(idx) >= len(a.traits) {
			return nil, fmt.Errorf("%w: AMF3 trait reference %d of %d", ErrReference, idx, len(a.traits))
		}
		t = a.traits[idx]
	case h&2 != 0: // externalizable
		name, err := a.string()
		if err != nil {
			return nil, err
		}
		t = traits3{className: name, external: true}
		a.traits = append(a.traits, t)
	default:
		t.dynamic = h&4 != 0
		name, err := a.string()
		if err != nil {
			return nil, err
		}
		t.className = name
		n, err := a.length(h>>3, 1)
		if err != nil {
			return nil, err
		}
		t.sealed = make([]string, 0, n)
		for range n {
			s, err := a.string()
			if err != nil {
				return nil, err
			}
			t.sealed = append(t.sealed, s)
		}
		a.traits = append(a.traits, t)
	}
	if t.external {
		switch t.className {
		case "flex.messaging.io.ArrayCollection", "flex.messaging.io.ObjectProxy":
			// Their external form is a single AMF3 value.
			v, err := a.value(depth)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", t.className, err)
			}
			return a.end(slot, mark, v), nil
		}
		return nil, fmt.Errorf("%w: AMF3 externalizable class %q", ErrUnknownMarker, t.className)
	}
	if _, err := a.length(uint32(len(t.sealed)), 1); err != nil {
		return nil, err
	}
	obj := make(Object, 0, len(t.sealed))
	for _, key := range t.sealed {
		v, err := a.value(depth)
		if err != nil {
			return nil, fmt.Errorf("member %q: %w", key, err)
		}
		obj = append(obj, Property{Key: key, Value: v})
	}
	if t.dynamic {
		var err error
		if obj, err = a.members(obj, depth, "member"); err != nil {
			return nil, err
		}
	}
	return a.end(slot, mark, obj), nil
}

// vector reads a Vector.<int>, Vector.<uint>, Vector.<Number> (as a
// StrictArray of float64) or Vector.<Object> (as a StrictArray).
func (a *amf3) vector(m byte, count uint32, depth int) (any, error) {
	slot, mark := a.begin()
	if _, err := a.d.u8(); err != nil { // fixed-length flag
		return nil, err
	}
	size := 4
	switch m {
	case marker3VectorDouble:
		size = 8
	case marker3VectorObject:
		size = 1
		if _, err := a.string(); err != nil { // element type name
			return nil, err
		}
	}
	n, err := a.length(count, size)
	if err != nil {
		return nil, err
	}
	arr := make(StrictArray, 0, n)
	for i := range n {
		var v any
		switch m {
		case marker3VectorInt, marker3VectorUint:
			p, _ := a.d.bytes(4) // length checked above
			u := binary.BigEndian.Uint32(p)
			if m == marker3VectorInt {
				v = float64(int32(u))
			} else {
				v = float64(u)
			}
		case marker3VectorDouble:
			p, _ := a.d.bytes(8)
			v = math.Float64frombits(binary.BigEndian.Uint64(p))
		default:
			v, err = a.value(depth)
			if err != nil {
				return nil, fmt.Errorf("vector element %d: %w", i, err)
			}
		}
		arr = append(arr, v)
	}
	return a.end(slot, mark, arr), nil
}

// members appends name/value pairs up to the empty name that ends them: the
// associative part of an array, the dynamic members of an object.
func (a *amf3) members(dst []Property, depth int, what string) ([]Property, error) {
	for {
		key, err := a.string()
		if err != nil {
			return nil, err
		}
		if key == "" {
			return dst, nil
		}
		v, err := a.value(depth)
		if err != nil {
			return nil, fmt.Errorf("%s %q: %w", what, key, err)
		}
		dst = append(dst, Property{Key: key, Value: v})
	}
}
