// Package amf encodes and decodes Action Message Format values as carried in
// RTMP command and data messages.
//
// Values are plain Go types:
//
//	float64      number (AMF0 number, AMF3 integer and double)
//	bool         boolean
//	string       string, long string, XML document
//	nil          null
//	Undefined    undefined
//	Object       object, typed object (class name dropped)
//	ECMAArray    ECMA (associative) array
//	StrictArray  strict (dense) array
//	time.Time    date (UTC, millisecond precision)
//	[]byte       AMF3 ByteArray (decode only)
//
// Decoding understands every AMF0 marker that RTMP peers send, including the
// avmplus-object marker (0x11) that switches one value to AMF3. Encoding
// always produces AMF0. The package holds no state; all functions are safe
// for concurrent use.
package amf

import "errors"

// Errors returned (wrapped) by the decoder and encoder. Use errors.Is.
var (
	// ErrTruncated means the input ended inside a value.
	ErrTruncated = errors.New("amf: truncated input")
	// ErrUnknownMarker means a type marker is unknown or unsupported
	// (movieclip, recordset, unsupported, AMF3 externalizable objects, ...).
	ErrUnknownMarker = errors.New("amf: unknown or unsupported type marker")
	// ErrReference means a reference points outside its table or at a value
	// that is still being decoded (a cycle).
	ErrReference = errors.New("amf: bad reference")
	// ErrTooDeep means values are nested deeper than MaxDepth.
	ErrTooDeep = errors.New("amf: nesting too deep")
	// ErrTooLarge means a count or the total size implied by references is
	// larger than the input can hold or than the decoder accepts.
	ErrTooLarge = errors.New("amf: value too large")
	// ErrUnexpectedObjectEnd means an object-end marker appeared where a value
	// was expected.
	ErrUnexpectedObjectEnd = errors.New("amf: unexpected object end marker")
	// ErrUnsupportedType means Append was given a Go value it cannot encode.
	ErrUnsupportedType = errors.New("amf: unsupported Go type")
)

// MaxDepth is the deepest nesting of objects and arrays the decoder accepts.
const MaxDepth = 64

// maxExpanded bounds the total size of a decoded value counting every
// reference as a full copy, so that a few bytes of references cannot expand
// into a value that is exponentially expensive to walk or re-encode.
const maxExpanded = 8 << 20

// Undefined is the AMF undefined value.
type Undefined struct{}

// Property is one named member of an Object or ECMAArray.
type Property struct {
	Key   string
	Value any
}

// Object is an AMF object: named properties in wire order.
type Object []Property

// ECMAArray is an AMF ECMA (associative) array: named properties in wire order.
type ECMAArray []Property

// StrictArray is an AMF strict (dense) array.
type StrictArray []any

// Get returns the value of the first property named key.
func (o Object) Get(key string) (any, bool) { return get(o, key) }

// String returns the property named key if it is a string, else "".
func (o Object) String(key string) string { return getString(o, key) }

// Number returns the property named key if it is a number, else 0.
func (o Object) Number(key string) float64 { return getNumber(o, key) }

// Get returns the value of the first property named key.
func (a ECMAArray) Get(key string) (any, bool) { return get(a, key) }

// String returns the property named key if it is a string, else "".
func (a ECMAArray) String(key string) string { return getString(a, key) }

// Number returns the property named key if it is a number, else 0.
func (a ECMAArray) Number(key string) float64 { return getNumber(a, key) }

func get(props []Property, key string) (any, bool) {
	for _, p := range props {
		if p.Key == key {
			return p.Value, true
		}
	}
	return nil, false
}

func getString(props []Property, key string) string {
	v, _ := get(props, key)
	s, _ := v.(string)
	return s
}

func getNumber(props []Property, key string) float64 {
	v, _ := get(props, key)
	f, _ := v.(float64)
	return f
}

// Properties returns the named members of an Object or ECMAArray value, so a
// caller can treat both alike (metadata arrives as either). It returns nil,
// false for any other value.
func Properties(v any) ([]Property, bool) {
	switch t := v.(type) {
	case Object:
		return t, true
	case ECMAArray:
		return t, true
	}
	return nil, false
}
