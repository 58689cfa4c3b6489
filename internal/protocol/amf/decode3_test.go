package amf

import (
	"errors"
	"math"
	"testing"
	"time"
)

// v3 prefixes AMF3 bytes with the AMF0 avmplus-object marker.
func v3(parts ...any) []byte { return cat(append([]any{0x11}, parts...)...) }

func TestDecodeAMF3(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		want any
	}{
		{"undefined", v3(0x00), Undefined{}},
		{"null", v3(0x01), nil},
		{"false", v3(0x02), false},
		{"true", v3(0x03), true},
		{"int 1 byte", v3(0x04, 0x05), 5.0},
		{"int 2 bytes", v3(0x04, 0x81, 0x00), 128.0},
		{"int 3 bytes", v3(0x04, 0xff, 0xff, 0x7f), 2097151.0},
		{"int 4 bytes max", v3(0x04, 0xbf, 0xff, 0xff, 0xff), 268435455.0},
		{"int -1", v3(0x04, 0xff, 0xff, 0xff, 0xff), -1.0},
		{"int min", v3(0x04, 0xc0, 0x80, 0x80, 0x00), -268435456.0},
		{"double", v3(0x05, num(2.25)[1:]), 2.25},
		{"double NaN", v3(0x05, num(math.NaN())[1:]), math.NaN()},
		{"string", v3(0x06, 0x07, "abc"), "abc"},
		{"empty string", v3(0x06, 0x01), ""},
		{"xml", v3(0x0b, 0x05, "<x"), "<x"},
		{"xml doc", v3(0x07, 0x03, "<"), "<"},
		{"bytearray", v3(0x0c, 0x07, 1, 2, 3), []byte{1, 2, 3}},
		{"date", v3(0x08, 0x01, num(1000)[1:]), time.UnixMilli(1000).UTC()},
		{"dense array", v3(0x09, 0x05, 0x01, 0x04, 0x01, 0x06, 0x03, "a"), StrictArray{1.0, "a"}},
		{"mixed array", v3(0x09, 0x03, 0x03, "k", 0x03, 0x01, 0x01),
			ECMAArray{{"k", true}, {"0", nil}}},
		{"string reference", v3(0x09, 0x05, 0x01, 0x06, 0x05, "hi", 0x06, 0x00), StrictArray{"hi", "hi"}},
		{"empty string not referenced", v3(0x09, 0x07, 0x01, 0x06, 0x01, 0x06, 0x03, "a", 0x06, 0x00),
			StrictArray{"", "a", "a"}},
		{"object reference", v3(0x09, 0x05, 0x01, 0x09, 0x01, 0x01, 0x09, 0x02), StrictArray{StrictArray{}, StrictArray{}}},
		{"date reference", v3(0x09, 0x05, 0x01, 0x08, 0x01, num(5)[1:], 0x08, 0x02),
			StrictArray{time.UnixMilli(5).UTC(), time.UnixMilli(5).UTC()}},
		{"anonymous dynamic object", v3(0x0a, 0x0b, 0x01, 0x07, "app", 0x06, 0x09, "live", 0x01),
			Object{{"app", "live"}}},
		{"sealed object", v3(0x0a, 0x23, 0x03, "C", 0x03, "a", 0x03, "b", 0x04, 0x01, 0x02),
			Object{{"a", 1.0}, {"b", false}}},
		{"sealed and dynamic", v3(0x0a, 0x1b, 0x01, 0x03, "a", 0x04, 0x01, 0x03, "z", 0x03, 0x01),
			Object{{"a", 1.0}, {"z", true}}},
		{"trait reference", v3(0x09, 0x05, 0x01,
			0x0a, 0x13, 0x03, "C", 0x03, "a", 0x04, 0x01,
			0x0a, 0x01, 0x04, 0x02),
			StrictArray{Object{{"a", 1.0}}, Object{{"a", 2.0}}}},
		{"array collection", v3(0x0a, 0x07, 0x43, "flex.messaging.io.ArrayCollection", 0x09, 0x03, 0x01, 0x03),
			StrictArray{true}},
		{"vector int", v3(0x0d, 0x05, 0x00, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 2), StrictArray{-1.0, 2.0}},
		{"vector uint", v3(0x0e, 0x03, 0x01, 0xff, 0xff, 0xff, 0xff), StrictArray{4294967295.0}},
		{"vector double", v3(0x0f, 0x03, 0x00, num(0.5)[1:]), StrictArray{0.5}},
		{"vector object", v3(0x10, 0x03, 0x00, 0x01, 0x06, 0x03, "s"), StrictArray{"s"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Decode(tt.in)
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if len(got) != 1 || !equalValue(got[0], tt.want) {
				t.Fatalf("Decode = %#v, want %#v", got, tt.want)
			}
		})
	}
}

func TestDecodeAMF3Errors(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		want error
	}{
		{"truncated int", v3(0x04, 0x81), ErrTruncated},
		{"truncated string", v3(0x06, 0x09, "ab"), ErrTruncated},
		{"truncated bytearray", v3(0x0c, 0xbf, 0xff, 0xff, 0xff), ErrTruncated},
		{"string reference out of range", v3(0x06, 0x00), ErrReference},
		{"object reference out of range", v3(0x0a, 0x02), ErrReference},
		{"trait reference out of range", v3(0x0a, 0x05), ErrReference},
		{"cyclic array", v3(0x09, 0x03, 0x01, 0x09, 0x00), ErrReference},
		{"externalizable", v3(0x0a, 0x07, 0x03, "X"), ErrUnknownMarker},
		{"huge dense count", v3(0x09, 0xbf, 0xff, 0xff, 0xff, 0x01), ErrTooLarge},
		{"huge vector", v3(0x0f, 0x7f, 0x00, 1, 2, 3), ErrTooLarge},
		{"huge sealed count", v3(0x0a, 0xbf, 0xff, 0xff, 0xf3, 0x01), ErrTooLarge},
		{"dictionary", v3(0x11, 0x03, 0x00), ErrUnknownMarker},
		{"unknown", v3(0x20), ErrUnknownMarker},
		{"fresh tables per switch", cat(v3(0x06, 0x03, "a"), v3(0x06, 0x00)), ErrReference},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Decode(tt.in)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Decode error = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestDecodeAMF3TooDeep(t *testing.T) {
	var b []byte
	b = append(b, 0x11)
	for range MaxDepth + 1 {
		b = append(b, 0x09, 0x03, 0x01) // array with one dense element
	}
	b = append(b, 0x01)
	if _, err := Decode(b); !errors.Is(err, ErrTooDeep) {
		t.Fatalf("Decode error = %v, want ErrTooDeep", err)
	}
}
