package flv

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"roomcast/internal/media"
)

func TestAppendHeader(t *testing.T) {
	tests := []struct {
		audio, video bool
		flags        byte
	}{
		{false, false, 0},
		{true, false, 4},
		{false, true, 1},
		{true, true, 5},
	}
	for _, tt := range tests {
		got := AppendHeader([]byte{0xAA}, tt.audio, tt.video)
		want := []byte{0xAA, 'F', 'L', 'V', 1, tt.flags, 0, 0, 0, 9, 0, 0, 0, 0}
		if !bytes.Equal(got, want) {
			t.Errorf("AppendHeader(%v, %v) = % x, want % x", tt.audio, tt.video, got, want)
		}
		if len(got)-1 != HeaderLen {
			t.Errorf("header length %d, want HeaderLen %d", len(got)-1, HeaderLen)
		}
	}
}

func TestAppendTag(t *testing.T) {
	tests := []struct {
		name string
		typ  media.TagType
		ts   int64
		body []byte
		want []byte
	}{
		{
			name: "empty script",
			typ:  media.TagScript, ts: 0, body: nil,
			want: []byte{18, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 11},
		},
		{
			name: "video 24-bit ts",
			typ:  media.TagVideo, ts: 0x123456, body: []byte{0x17, 1},
			want: []byte{9, 0, 0, 2, 0x12, 0x34, 0x56, 0, 0, 0, 0, 0x17, 1, 0, 0, 0, 13},
		},
		{
			name: "audio extended ts",
			typ:  media.TagAudio, ts: 0xAB123456, body: []byte{0xAF},
			want: []byte{8, 0, 0, 1, 0x12, 0x34, 0x56, 0xAB, 0, 0, 0, 0xAF, 0, 0, 0, 12},
		},
		{
			name: "ts above 32 bits keeps the low 32",
			typ:  media.TagAudio, ts: 0x1_0000_0001, body: []byte{0xAF},
			want: []byte{8, 0, 0, 1, 0, 0, 1, 0, 0, 0, 0, 0xAF, 0, 0, 0, 12},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := AppendTag(nil, tt.typ, tt.ts, tt.body)
			if !bytes.Equal(got, tt.want) {
				t.Errorf("got  % x\nwant % x", got, tt.want)
			}
			h := DecodeTagHeader(got)
			if h.Type != tt.typ || h.DataSize != uint32(len(tt.body)) || h.Timestamp != uint32(tt.ts) || h.Filter {
				t.Errorf("DecodeTagHeader = %+v", h)
			}
		})
	}
}

func TestAppendTagPanicsOnHugeBody(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("no panic for a body over 24 bits")
		}
	}()
	AppendTag(nil, media.TagVideo, 0, make([]byte, MaxDataSize+1))
}

func TestEncodeTag(t *testing.T) {
	p, err := media.NewPacket(media.TagVideo, 40, []byte{0x27, 1, 0, 0, 0, 0, 0, 0, 1, 0x41})
	if err != nil {
		t.Fatal(err)
	}
	b := EncodeTag(p)
	if want := AppendTag(nil, p.Type, p.DTS, p.Data); !bytes.Equal(b, want) {
		t.Fatalf("EncodeTag = % x, want % x", b, want)
	}
	if cap(b) != len(b) {
		t.Errorf("cap %d != len %d: not exact", cap(b), len(b))
	}
	if n := testing.AllocsPerRun(100, func() { EncodeTag(p) }); n != 1 {
		t.Errorf("EncodeTag allocates %v times, want 1", n)
	}
}

func TestRoundTrip(t *testing.T) {
	type in struct {
		typ  media.TagType
		ts   int64
		body []byte
	}
	big := bytes.Repeat([]byte{0x5A}, 3*bodyChunk+17) // exercises the growing body path
	tags := []in{
		{media.TagScript, 0, []byte{2, 0, 10, 'o', 'n', 'M', 'e', 't', 'a', 'D', 'a', 't', 'a'}},
		{media.TagVideo, 0, []byte{0x17, 0, 0, 0, 0, 1, 2, 3}},
		{media.TagAudio, 0, []byte{0xAF, 0, 0x12, 0x10}},
		{media.TagVideo, 40, big},
		{media.TagAudio, 0xFFFFFFFF, nil},
	}
	var buf []byte
	buf = AppendHeader(buf, true, true)
	for _, tg := range tags {
		buf = AppendTag(buf, tg.typ, tg.ts, tg.body)
	}
	r := NewReader(bytes.NewReader(buf), 0)
	a, v, err := r.ReadHeader()
	if err != nil || !a || !v {
		t.Fatalf("ReadHeader = %v, %v, %v", a, v, err)
	}
	for i, want := range tags {
		got, err := r.ReadTag()
		if err != nil {
			t.Fatalf("tag %d: %v", i, err)
		}
		if got.Type != want.typ || got.Timestamp != uint32(want.ts) || !bytes.Equal(got.Data, want.body) {
			t.Fatalf("tag %d: got %v ts %d len %d", i, got.Type, got.Timestamp, len(got.Data))
		}
	}
	if _, err := r.ReadTag(); err != io.EOF {
		t.Fatalf("after last tag: %v, want io.EOF", err)
	}
}

func TestReaderDataIsFresh(t *testing.T) {
	buf := AppendHeader(nil, false, true)
	buf = AppendTag(buf, media.TagVideo, 1, []byte{1, 2, 3})
	buf = AppendTag(buf, media.TagVideo, 2, []byte{4, 5, 6})
	r := NewReader(bytes.NewReader(buf), 0)
	if _, _, err := r.ReadHeader(); err != nil {
		t.Fatal(err)
	}
	t1, _ := r.ReadTag()
	t2, _ := r.ReadTag()
	if !bytes.Equal(t1.Data, []byte{1, 2, 3}) || !bytes.Equal(t2.Data, []byte{4, 5, 6}) {
		t.Fatalf("data overwritten: % x, % x", t1.Data, t2.Data)
	}
}

func TestReaderErrors(t *testing.T) {
	hdr := AppendHeader(nil, true, true)
	tag := AppendTag(nil, media.TagAudio, 5, []byte{0xAF, 1, 2})
	with := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	mod := func(b []byte, i int, v byte) []byte {
		c := bytes.Clone(b)
		c[i] = v
		return c
	}
	zeroPrev := bytes.Clone(tag)
	copy(zeroPrev[len(zeroPrev)-4:], []byte{0, 0, 0, 0})

	tests := []struct {
		name    string
		in      []byte
		max     int
		wantErr error // nil: a tag is read successfully
		header  bool  // error expected from ReadHeader
	}{
		{"ok", with(hdr, tag), 0, nil, false},
		{"prev tag size 0 tolerated", with(hdr, zeroPrev), 0, nil, false},
		{"empty input", nil, 0, io.ErrUnexpectedEOF, true},
		{"short header", hdr[:5], 0, io.ErrUnexpectedEOF, true},
		{"bad signature", mod(hdr, 0, 'G'), 0, ErrBadHeader, true},
		{"bad version", mod(hdr, 3, 2), 0, ErrBadHeader, true},
		{"data offset too small", mod(hdr, 8, 8), 0, ErrBadHeader, true},
		{"data offset too large", mod(hdr, 5, 1), 0, ErrBadHeader, true},
		{"no prev tag size 0", hdr[:9], 0, io.ErrUnexpectedEOF, true},
		{"clean EOF", hdr, 0, io.EOF, false},
		{"truncated tag header", with(hdr, tag[:5]), 0, io.ErrUnexpectedEOF, false},
		{"truncated body", with(hdr, tag[:12]), 0, io.ErrUnexpectedEOF, false},
		{"truncated prev size", with(hdr, tag[:len(tag)-2]), 0, io.ErrUnexpectedEOF, false},
		{"bad prev size", with(hdr, mod(tag, len(tag)-1, 99)), 0, ErrBadPrevTagSize, false},
		{"too large", with(hdr, tag), 2, ErrTagTooLarge, false},
		{"encrypted", with(hdr, mod(tag, 0, 8|0x20)), 0, ErrEncrypted, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := NewReader(bytes.NewReader(tt.in), tt.max)
			_, _, err := r.ReadHeader()
			if tt.header {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("ReadHeader error %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ReadHeader: %v", err)
			}
			tg, err := r.ReadTag()
			if tt.wantErr == nil {
				if err != nil || tg.Type != media.TagAudio || tg.Timestamp != 5 {
					t.Fatalf("ReadTag = %+v, %v", tg, err)
				}
				return
			}
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("ReadTag error %v, want %v", err, tt.wantErr)
			}
			if tt.wantErr == io.EOF && err != io.EOF {
				t.Fatalf("clean EOF is wrapped: %v", err)
			}
		})
	}
}

func TestReaderSkipsExtendedHeader(t *testing.T) {
	hdr := []byte{'F', 'L', 'V', 1, 5, 0, 0, 0, 12, 0xEE, 0xEE, 0xEE, 0, 0, 0, 0}
	in := AppendTag(hdr, media.TagVideo, 7, []byte{0x17})
	r := NewReader(bytes.NewReader(in), 0)
	if _, _, err := r.ReadHeader(); err != nil {
		t.Fatal(err)
	}
	tg, err := r.ReadTag()
	if err != nil || tg.Timestamp != 7 {
		t.Fatalf("ReadTag = %+v, %v", tg, err)
	}
}

func BenchmarkEncodeTag(b *testing.B) {
	p, _ := media.NewPacket(media.TagVideo, 123456, append([]byte{0x27, 1, 0, 0, 0}, make([]byte, 12000)...))
	b.SetBytes(int64(len(p.Data)))
	b.ReportAllocs()
	for b.Loop() {
		EncodeTag(p)
	}
}

func BenchmarkReadTag(b *testing.B) {
	var buf []byte
	buf = AppendHeader(buf, true, true)
	for i := range 100 {
		buf = AppendTag(buf, media.TagVideo, int64(i*40), make([]byte, 12000))
	}
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	rd := bytes.NewReader(buf)
	for b.Loop() {
		rd.Reset(buf)
		r := NewReader(rd, 0)
		if _, _, err := r.ReadHeader(); err != nil {
			b.Fatal(err)
		}
		for {
			if _, err := r.ReadTag(); err != nil {
				if err != io.EOF {
					b.Fatal(err)
				}
				break
			}
		}
	}
}
