package amf

import (
	"bytes"
	"errors"
	"math"
	"strings"
	"testing"
	"time"
)

// cat concatenates test bytes: byte, int (one byte), string (raw bytes) or []byte.
func cat(parts ...any) []byte {
	var b []byte
	for _, p := range parts {
		switch t := p.(type) {
		case byte:
			b = append(b, t)
		case int:
			b = append(b, byte(t))
		case string:
			b = append(b, t...)
		case []byte:
			b = append(b, t...)
		default:
			panic("cat: bad part")
		}
	}
	return b
}

func num(f float64) []byte {
	b, _ := Append(nil, f)
	return b
}

func str(s string) []byte {
	b, _ := Append(nil, s)
	return b
}

func TestDecodeAMF0(t *testing.T) {
	date := time.UnixMilli(1700000000123).UTC()
	tests := []struct {
		name string
		in   []byte
		want []any
	}{
		{"number", num(1.5), []any{1.5}},
		{"bools", cat(0x01, 0x00, 0x01, 0x07), []any{false, true}},
		{"string", str("connect"), []any{"connect"}},
		{"empty string", cat(0x02, 0, 0), []any{""}},
		{"null undefined", cat(0x05, 0x06), []any{nil, Undefined{}}},
		{"long string", cat(0x0c, 0, 0, 0, 3, "abc"), []any{"abc"}},
		{"xml document", cat(0x0f, 0, 0, 0, 2, "<a"), []any{"<a"}},
		{"date", cat(0x0b, num(1700000000123)[1:], 0, 0), []any{date}},
		{"date NaN is zero time", cat(0x0b, num(math.NaN())[1:], 0, 0), []any{time.Time{}}},
		{"object", cat(0x03, 0, 3, "app", str("live"), 0, 1, "n", num(2), 0, 0, 0x09),
			[]any{Object{{"app", "live"}, {"n", 2.0}}}},
		{"empty object", cat(0x03, 0, 0, 0x09), []any{Object(nil)}},
		{"typed object", cat(0x10, 0, 2, "Cl", 0, 1, "a", 0x05, 0, 0, 0x09), []any{Object{{"a", nil}}}},
		{"ecma array", cat(0x08, 0, 0, 0, 9, 0, 8, "duration", num(0), 0, 0, 0x09),
			[]any{ECMAArray{{"duration", 0.0}}}},
		{"ecma array without end marker", cat(0x08, 0, 0, 0, 1, 0, 1, "w", num(640)),
			[]any{ECMAArray{{"w", 640.0}}}},
		{"strict array", cat(0x0a, 0, 0, 0, 2, num(1), 0x05), []any{StrictArray{1.0, nil}}},
		{"object in array", cat(0x0a, 0, 0, 0, 1, 0x03, 0, 1, "k", 0x06, 0, 0, 0x09),
			[]any{StrictArray{Object{{"k", Undefined{}}}}}},
		{"reference", cat(0x03, 0, 1, "a", num(1), 0, 0, 0x09, 0x0a, 0, 0, 0, 0, 0x07, 0, 0, 0x07, 0, 1),
			[]any{Object{{"a", 1.0}}, StrictArray{}, Object{{"a", 1.0}}, StrictArray{}}},
		{"empty key property", cat(0x03, 0, 0, num(7), 0, 0, 0x09), []any{Object{{"", 7.0}}}},
		{"amf3 switch", cat(0x11, 0x04, 0x7f, 0x11, 0x06, 0x05, "hi"), []any{127.0, "hi"}},
		{"empty input", nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Decode(tt.in)
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if !equalValues(got, tt.want) {
				t.Fatalf("Decode = %#v, want %#v", got, tt.want)
			}
		})
	}
}

func TestDecodeErrors(t *testing.T) {
	deep := bytes.Repeat([]byte{0x0a, 0, 0, 0, 1}, MaxDepth+1)
	deep = append(deep, 0x05)
	tests := []struct {
		name string
		in   []byte
		want error
	}{
		{"truncated number", cat(0x00, 1, 2), ErrTruncated},
		{"truncated string", cat(0x02, 0, 5, "ab"), ErrTruncated},
		{"truncated long string", cat(0x0c, 0xff, 0xff, 0xff, 0xff, "ab"), ErrTruncated},
		{"truncated object", cat(0x03, 0, 1, "a"), ErrTruncated},
		{"movieclip", cat(0x04), ErrUnknownMarker},
		{"recordset", cat(0x0e), ErrUnknownMarker},
		{"unknown", cat(0x42), ErrUnknownMarker},
		{"object end", cat(0x09), ErrUnexpectedObjectEnd},
		{"bad reference", cat(0x07, 0, 0), ErrReference},
		{"cyclic reference", cat(0x03, 0, 1, "a", 0x07, 0, 0, 0, 0, 0x09), ErrReference},
		{"huge strict array", cat(0x0a, 0xff, 0xff, 0xff, 0xff, 0x05), ErrTooLarge},
		{"too deep", deep, ErrTooDeep},
		{"amf3 dictionary", cat(0x11, 0x11, 0x01), ErrUnknownMarker},
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

func TestDecodePartial(t *testing.T) {
	vals, err := Decode(cat(str("play"), num(0), 0x42))
	if err == nil {
		t.Fatal("want error")
	}
	if !equalValues(vals, []any{"play", 0.0}) {
		t.Fatalf("partial values = %#v", vals)
	}
}

func TestReferenceExpansionBounded(t *testing.T) {
	// Each strict array holds two references to the previous one: the value
	// doubles at every level, so the budget must stop it.
	b := cat(0x0a, 0, 0, 0, 1, str(strings.Repeat("x", 1000)))
	for i := range 60 {
		b = append(b, 0x0a, 0, 0, 0, 2, 0x07, 0, byte(i), 0x07, 0, byte(i))
	}
	if _, err := Decode(b); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("Decode error = %v, want ErrTooLarge", err)
	}
}

func TestDecodeValue(t *testing.T) {
	in := cat(str("onStatus"), num(0))
	v, n, err := DecodeValue(in)
	if err != nil || v != "onStatus" || n != 11 {
		t.Fatalf("DecodeValue = %v, %d, %v", v, n, err)
	}
	if _, _, err := DecodeValue(nil); !errors.Is(err, ErrTruncated) {
		t.Fatalf("DecodeValue(nil) error = %v", err)
	}
}

func TestAppend(t *testing.T) {
	long := strings.Repeat("z", 70000)
	date := time.UnixMilli(86400000).UTC()
	tests := []struct {
		name string
		in   []any
		want []byte
	}{
		{"int", []any{3}, num(3)},
		{"int64 uint32 float32", []any{int64(-1), uint32(7), float32(0.5)}, cat(num(-1), num(7), num(0.5))},
		{"bool", []any{true, false}, cat(0x01, 1, 0x01, 0)},
		{"string", []any{"ab"}, cat(0x02, 0, 2, "ab")},
		{"long string", []any{long}, cat(0x0c, 0, 1, 0x11, 0x70, long)},
		{"null undefined", []any{nil, Undefined{}}, cat(0x05, 0x06)},
		{"date", []any{date}, cat(0x0b, num(86400000)[1:], 0, 0)},
		{"object", []any{Object{{"a", 1}}}, cat(0x03, 0, 1, "a", num(1), 0, 0, 0x09)},
		{"ecma", []any{ECMAArray{{"a", nil}}}, cat(0x08, 0, 0, 0, 1, 0, 1, "a", 0x05, 0, 0, 0x09)},
		{"map sorted", []any{map[string]any{"b": true, "a": "x"}},
			cat(0x03, 0, 1, "a", str("x"), 0, 1, "b", 0x01, 1, 0, 0, 0x09)},
		{"strict", []any{StrictArray{1, "a"}}, cat(0x0a, 0, 0, 0, 2, num(1), str("a"))},
		{"slice", []any{[]any{nil}}, cat(0x0a, 0, 0, 0, 1, 0x05)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Append([]byte{0xee}, tt.in...)
			if err != nil {
				t.Fatalf("Append: %v", err)
			}
			if !bytes.Equal(got, append([]byte{0xee}, tt.want...)) {
				t.Fatalf("Append = % x\nwant     % x", got[1:], tt.want)
			}
		})
	}
}

func TestAppendErrors(t *testing.T) {
	cyclic := StrictArray{nil}
	cyclic[0] = cyclic
	tests := []struct {
		name string
		in   any
		want error
	}{
		{"chan", make(chan int), ErrUnsupportedType},
		{"bytes", []byte{1}, ErrUnsupportedType},
		{"nested unsupported", Object{{"x", struct{}{}}}, ErrUnsupportedType},
		{"cyclic", cyclic, ErrTooDeep},
		{"long key", Object{{strings.Repeat("k", 70000), nil}}, ErrTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Append([]byte{1, 2}, tt.in)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Append error = %v, want %v", err, tt.want)
			}
			if !bytes.Equal(got, []byte{1, 2}) {
				t.Fatalf("Append on error returned % x, want dst unchanged", got)
			}
		})
	}
}

func TestObjectAccessors(t *testing.T) {
	o := Object{{"app", "live"}, {"n", 2.0}, {"app", "second"}}
	if v, ok := o.Get("app"); !ok || v != "live" {
		t.Fatalf("Get(app) = %v, %v", v, ok)
	}
	if _, ok := o.Get("missing"); ok {
		t.Fatal("Get(missing) found")
	}
	if o.String("app") != "live" || o.String("n") != "" || o.String("x") != "" {
		t.Fatal("String accessor")
	}
	if o.Number("n") != 2 || o.Number("app") != 0 {
		t.Fatal("Number accessor")
	}
	a := ECMAArray(o)
	if a.String("app") != "live" || a.Number("n") != 2 {
		t.Fatal("ECMAArray accessors")
	}
	if _, ok := a.Get("n"); !ok {
		t.Fatal("ECMAArray Get")
	}
	if p, ok := Properties(a); !ok || len(p) != 3 {
		t.Fatal("Properties(ECMAArray)")
	}
	if _, ok := Properties("x"); ok {
		t.Fatal("Properties(string)")
	}
}

func TestRoundTrip(t *testing.T) {
	vals := []any{
		"connect", 1.0,
		Object{{"app", "live"}, {"flashVer", "FMLE/3.0"}, {"tcUrl", "rtmp://h/live"}, {"fpad", false},
			{"capabilities", 239.0}, {"audioCodecs", 3575.0}, {"objectEncoding", 0.0}},
		nil, Undefined{}, ECMAArray{{"width", 1280.0}, {"nested", StrictArray{Object{}, "x", true}}},
		time.UnixMilli(-5).UTC(), strings.Repeat("L", 65536), math.Inf(-1),
	}
	b, err := Append(nil, vals...)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	want := vals
	want[2] = Object(want[2].(Object)) // same types
	if !equalValues(got, want) {
		t.Fatalf("round trip:\n got %#v\nwant %#v", got, want)
	}
}

// equalValues compares decoded values, treating numbers bitwise (NaN == NaN)
// and nil and empty containers alike.
func equalValues(a, b []any) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !equalValue(a[i], b[i]) {
			return false
		}
	}
	return true
}

func equalValue(a, b any) bool {
	switch x := a.(type) {
	case float64:
		y, ok := b.(float64)
		return ok && math.Float64bits(x) == math.Float64bits(y)
	case Object:
		y, ok := b.(Object)
		return ok && equalProps(x, y)
	case ECMAArray:
		y, ok := b.(ECMAArray)
		return ok && equalProps(x, y)
	case StrictArray:
		y, ok := b.(StrictArray)
		return ok && equalValues(x, y)
	case []byte:
		y, ok := b.([]byte)
		return ok && bytes.Equal(x, y)
	case time.Time:
		y, ok := b.(time.Time)
		return ok && x.Equal(y)
	default:
		return a == b
	}
}

func equalProps(a, b []Property) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Key != b[i].Key || !equalValue(a[i].Value, b[i].Value) {
			return false
		}
	}
	return true
}
