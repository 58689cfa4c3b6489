package amf

import (
	"math"
	"testing"
)

// FuzzDecode checks that Decode never panics and that any decoded value
// re-encodes (as AMF0) to bytes that decode to an equal value. Only values
// that AMF0 cannot express (AMF3 byte arrays, property names over 64 KiB)
// are exempt.
func FuzzDecode(f *testing.F) {
	seeds := [][]byte{
		cat(str("connect"), num(1), 0x03, 0, 3, "app", str("live"), 0, 0, 0x09),
		cat(0x08, 0, 0, 0, 1, 0, 5, "width", num(1280), 0, 0, 0x09),
		cat(0x0a, 0, 0, 0, 2, 0x05, 0x06, 0x07, 0, 0),
		cat(0x0b, num(1e12)[1:], 0, 0, 0x0c, 0, 0, 0, 1, "x", 0x10, 0, 1, "C", 0, 0, 0x09),
		v3(0x0a, 0x0b, 0x01, 0x07, "app", 0x06, 0x09, "live", 0x01),
		v3(0x09, 0x05, 0x03, "k", 0x03, 0x01, 0x06, 0x05, "hi", 0x06, 0x00),
	}
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		vals, err := Decode(b)
		if err != nil {
			return
		}
		enc, err := Append(nil, vals...)
		if err != nil {
			if !amf0Inexpressible(vals) {
				t.Fatalf("Append(%#v): %v", vals, err)
			}
			return
		}
		again, err := Decode(enc)
		if err != nil {
			t.Fatalf("Decode(Append(%#v)) = % x: %v", vals, enc, err)
		}
		if !equalValues(vals, again) {
			t.Fatalf("round trip mismatch:\n first %#v\nsecond %#v", vals, again)
		}
	})
}

// amf0Inexpressible reports whether vals hold something only AMF3 can carry.
func amf0Inexpressible(vals []any) bool {
	for _, v := range vals {
		switch t := v.(type) {
		case []byte:
			return true
		case StrictArray:
			if amf0Inexpressible(t) {
				return true
			}
		case Object, ECMAArray:
			props, _ := Properties(t)
			for _, p := range props {
				if len(p.Key) > math.MaxUint16 || amf0Inexpressible([]any{p.Value}) {
					return true
				}
			}
		}
	}
	return false
}
