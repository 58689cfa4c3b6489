package rtmp

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"testing"
)

// hdr builds chunk header bytes by hand: the basic header for format and
// csid, then the message header fields the format carries (timestamp or
// delta, length, type, stream ID) and an extended timestamp if ext >= 0.
type hdr struct {
	format   byte
	csid     uint32
	ts       uint32 // 3-byte field value (0xFFFFFF for extended)
	length   uint32
	typ      uint8
	streamID uint32
	ext      int64 // extended timestamp, or -1 for none
}

func (h hdr) bytes() []byte {
	b := appendBasicHeader(nil, h.format, h.csid)
	if h.format <= 2 {
		b = append(b, byte(h.ts>>16), byte(h.ts>>8), byte(h.ts))
	}
	if h.format <= 1 {
		b = append(b, byte(h.length>>16), byte(h.length>>8), byte(h.length), h.typ)
	}
	if h.format == 0 {
		b = binary.LittleEndian.AppendUint32(b, h.streamID)
	}
	if h.ext >= 0 {
		b = binary.BigEndian.AppendUint32(b, uint32(h.ext))
	}
	return b
}

func join(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

func readAll(t *testing.T, in []byte, lim Limits) []*Message {
	t.Helper()
	cr := NewChunkReader(bytes.NewReader(in), lim)
	var out []*Message
	for {
		m, err := cr.ReadMessage()
		if errors.Is(err, io.EOF) {
			if cr.BytesRead() != uint64(len(in)) {
				t.Fatalf("BytesRead = %d, want %d", cr.BytesRead(), len(in))
			}
			return out
		}
		if err != nil {
			t.Fatalf("ReadMessage after %d messages: %v", len(out), err)
		}
		out = append(out, m)
	}
}

type msgWant struct {
	typ  uint8
	csid uint32
	sid  uint32
	ts   uint32
	data string
}

func TestChunkReaderVectors(t *testing.T) {
	setChunk4 := join(hdr{0, 2, 0, 4, TypeSetChunkSize, 0, -1}.bytes(), []byte{0, 0, 0, 4})
	tests := []struct {
		name string
		in   []byte
		want []msgWant
	}{
		{
			name: "fmt 0 1 2 3 deltas accumulate",
			in: join(
				hdr{0, 4, 1000, 3, TypeAudio, 1, -1}.bytes(), []byte("abc"),
				hdr{1, 4, 20, 2, TypeVideo, 0, -1}.bytes(), []byte("de"),
				hdr{2, 4, 30, 0, 0, 0, -1}.bytes(), []byte("fg"),
				hdr{3, 4, 0, 0, 0, 0, -1}.bytes(), []byte("hi"),
			),
			want: []msgWant{
				{TypeAudio, 4, 1, 1000, "abc"},
				{TypeVideo, 4, 1, 1020, "de"},
				{TypeVideo, 4, 1, 1050, "fg"},
				{TypeVideo, 4, 1, 1080, "hi"},
			},
		},
		{
			name: "fmt 3 after fmt 0 uses the fmt 0 timestamp as delta",
			in: join(
				hdr{0, 5, 100, 1, TypeDataAMF0, 1, -1}.bytes(), []byte("x"),
				hdr{3, 5, 0, 0, 0, 0, -1}.bytes(), []byte("y"),
			),
			want: []msgWant{{TypeDataAMF0, 5, 1, 100, "x"}, {TypeDataAMF0, 5, 1, 200, "y"}},
		},
		{
			name: "multi-chunk message after set chunk size",
			in: join(setChunk4,
				hdr{0, 6, 7, 10, TypeVideo, 1, -1}.bytes(), []byte("0123"),
				hdr{3, 6, 0, 0, 0, 0, -1}.bytes(), []byte("4567"),
				hdr{3, 6, 0, 0, 0, 0, -1}.bytes(), []byte("89"),
			),
			want: []msgWant{{TypeSetChunkSize, 2, 0, 0, "\x00\x00\x00\x04"}, {TypeVideo, 6, 1, 7, "0123456789"}},
		},
		{
			name: "interleaved chunk streams",
			in: join(setChunk4,
				hdr{0, 4, 10, 6, TypeAudio, 1, -1}.bytes(), []byte("aaaa"),
				hdr{0, 6, 20, 2, TypeVideo, 1, -1}.bytes(), []byte("vv"),
				hdr{3, 4, 0, 0, 0, 0, -1}.bytes(), []byte("AA"),
			),
			want: []msgWant{
				{TypeSetChunkSize, 2, 0, 0, "\x00\x00\x00\x04"},
				{TypeVideo, 6, 1, 20, "vv"},
				{TypeAudio, 4, 1, 10, "aaaaAA"},
			},
		},
		{
			name: "extended timestamp repeated in continuation",
			in: join(setChunk4,
				hdr{0, 4, 0xffffff, 6, TypeAudio, 1, 0x01000000}.bytes(), []byte("abcd"),
				hdr{3, 4, 0, 0, 0, 0, 0x01000000}.bytes(), []byte("ef"),
			),
			want: []msgWant{{TypeSetChunkSize, 2, 0, 0, "\x00\x00\x00\x04"}, {TypeAudio, 4, 1, 0x01000000, "abcdef"}},
		},
		{
			name: "extended timestamp not repeated in continuation",
			in: join(setChunk4,
				hdr{0, 4, 0xffffff, 6, TypeAudio, 1, 0x01000000}.bytes(), []byte("abcd"),
				hdr{3, 4, 0, 0, 0, 0, -1}.bytes(), []byte("ef"),
			),
			want: []msgWant{{TypeSetChunkSize, 2, 0, 0, "\x00\x00\x00\x04"}, {TypeAudio, 4, 1, 0x01000000, "abcdef"}},
		},
		{
			name: "extended timestamp not repeated, short last chunk",
			in: join(setChunk4,
				hdr{0, 4, 0xffffff, 5, TypeAudio, 1, 0x01000000}.bytes(), []byte("abcd"),
				hdr{3, 4, 0, 0, 0, 0, -1}.bytes(), []byte("e"),
			),
			want: []msgWant{{TypeSetChunkSize, 2, 0, 0, "\x00\x00\x00\x04"}, {TypeAudio, 4, 1, 0x01000000, "abcde"}},
		},
		{
			name: "extended delta in fmt 1 and reused by fmt 3",
			in: join(
				hdr{0, 4, 5, 1, TypeAudio, 1, -1}.bytes(), []byte("a"),
				hdr{1, 4, 0xffffff, 1, TypeAudio, 0, 0x01000000}.bytes(), []byte("b"),
				hdr{3, 4, 0, 0, 0, 0, 0x01000000}.bytes(), []byte("c"),
			),
			want: []msgWant{
				{TypeAudio, 4, 1, 5, "a"},
				{TypeAudio, 4, 1, 0x01000005, "b"},
				{TypeAudio, 4, 1, 0x02000005, "c"},
			},
		},
		{
			name: "timestamp wraps",
			in: join(
				hdr{0, 4, 0xffffff, 1, TypeAudio, 1, 0xfffffff0}.bytes(), []byte("a"),
				hdr{2, 4, 0x20, 0, 0, 0, -1}.bytes(), []byte("b"),
			),
			want: []msgWant{{TypeAudio, 4, 1, 0xfffffff0, "a"}, {TypeAudio, 4, 1, 0x10, "b"}},
		},
		{
			name: "two and three byte chunk stream IDs",
			in: join(
				hdr{0, 64, 1, 1, TypeAudio, 1, -1}.bytes(), []byte("a"),
				hdr{0, 319, 2, 1, TypeAudio, 1, -1}.bytes(), []byte("b"),
				hdr{0, 320, 3, 1, TypeAudio, 1, -1}.bytes(), []byte("c"),
				hdr{0, 65599, 4, 1, TypeAudio, 1, -1}.bytes(), []byte("d"),
				hdr{1, 65599, 1, 1, TypeVideo, 0, -1}.bytes(), []byte("e"),
			),
			want: []msgWant{
				{TypeAudio, 64, 1, 1, "a"},
				{TypeAudio, 319, 1, 2, "b"},
				{TypeAudio, 320, 1, 3, "c"},
				{TypeAudio, 65599, 1, 4, "d"},
				{TypeVideo, 65599, 1, 5, "e"},
			},
		},
		{
			name: "empty message",
			in:   join(hdr{0, 3, 9, 0, TypeCommandAMF0, 0, -1}.bytes(), hdr{2, 3, 1, 0, 0, 0, -1}.bytes()),
			want: []msgWant{{TypeCommandAMF0, 3, 0, 9, ""}, {TypeCommandAMF0, 3, 0, 10, ""}},
		},
		{
			name: "type 1 header on a fresh stream (librtmp ping)",
			in:   join(hdr{1, 2, 0, 6, TypeUserControl, 0, -1}.bytes(), []byte{0, 6, 0, 0, 0, 1}),
			want: []msgWant{{TypeUserControl, 2, 0, 0, "\x00\x06\x00\x00\x00\x01"}},
		},
		{
			name: "abort drops the partial message",
			in: join(setChunk4,
				hdr{0, 4, 1, 8, TypeAudio, 1, -1}.bytes(), []byte("xxxx"),
				hdr{0, 2, 0, 4, TypeAbort, 0, -1}.bytes(), []byte{0, 0, 0, 4},
				hdr{0, 4, 2, 2, TypeAudio, 1, -1}.bytes(), []byte("ok"),
			),
			want: []msgWant{
				{TypeSetChunkSize, 2, 0, 0, "\x00\x00\x00\x04"},
				{TypeAbort, 2, 0, 0, "\x00\x00\x00\x04"},
				{TypeAudio, 4, 1, 2, "ok"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := readAll(t, tt.in, Limits{})
			if len(got) != len(tt.want) {
				t.Fatalf("got %d messages, want %d", len(got), len(tt.want))
			}
			for i, w := range tt.want {
				g := got[i]
				if g.Type != w.typ || g.ChunkStreamID != w.csid || g.StreamID != w.sid || g.Timestamp != w.ts || string(g.Data) != w.data {
					t.Errorf("message %d = {type %d csid %d sid %d ts %#x %q}, want {type %d csid %d sid %d ts %#x %q}",
						i, g.Type, g.ChunkStreamID, g.StreamID, g.Timestamp, g.Data, w.typ, w.csid, w.sid, w.ts, w.data)
				}
			}
		})
	}
}

func TestChunkReaderErrors(t *testing.T) {
	setChunk := func(v uint32) []byte {
		return join(hdr{0, 2, 0, 4, TypeSetChunkSize, 0, -1}.bytes(), binary.BigEndian.AppendUint32(nil, v))
	}
	tests := []struct {
		name string
		in   []byte
		lim  Limits
		want error
	}{
		{"message too large", hdr{0, 4, 0, 100, TypeAudio, 1, -1}.bytes(), Limits{MaxMessageSize: 50}, ErrMessageTooLarge},
		{"large declared length", hdr{0, 4, 0, 0xffffff, TypeAudio, 1, 0}.bytes(), Limits{MaxMessageSize: 1 << 20}, ErrMessageTooLarge},
		{"too many chunk streams", join(
			hdr{0, 3, 0, 0, TypeAudio, 1, -1}.bytes(),
			hdr{0, 4, 0, 0, TypeAudio, 1, -1}.bytes(),
			hdr{0, 5, 0, 0, TypeAudio, 1, -1}.bytes()), Limits{MaxChunkStreams: 2}, ErrTooManyChunkStreams},
		{"pending limit", join(
			hdr{0, 3, 0, 600, TypeAudio, 1, -1}.bytes(), make([]byte, 128),
			hdr{0, 4, 0, 600, TypeAudio, 1, -1}.bytes()), Limits{MaxPendingBytes: 1000}, ErrPendingLimit},
		{"chunk size zero", setChunk(0), Limits{}, ErrChunkSize},
		{"chunk size top bit", setChunk(0x80000010), Limits{}, ErrChunkSize},
		{"chunk size over limit", setChunk(5000), Limits{MaxChunkSize: 4096}, ErrChunkSize},
		{"short set chunk size", join(hdr{0, 2, 0, 2, TypeSetChunkSize, 0, -1}.bytes(), []byte{0, 1}), Limits{}, ErrProtocol},
		{"fmt 2 on fresh stream", hdr{2, 4, 0, 0, 0, 0, -1}.bytes(), Limits{}, ErrProtocol},
		{"fmt 3 on fresh stream", hdr{3, 4, 0, 0, 0, 0, -1}.bytes(), Limits{}, ErrProtocol},
		{"new header inside a message", join(
			hdr{0, 4, 0, 200, TypeAudio, 1, -1}.bytes(), make([]byte, 128),
			hdr{0, 4, 0, 1, TypeAudio, 1, -1}.bytes(), []byte("x")), Limits{}, ErrProtocol},
		{"cut inside header", hdr{0, 4, 0, 1, TypeAudio, 1, -1}.bytes()[:5], Limits{}, io.ErrUnexpectedEOF},
		{"cut inside payload", join(hdr{0, 4, 0, 4, TypeAudio, 1, -1}.bytes(), []byte("ab")), Limits{}, io.ErrUnexpectedEOF},
		{"cut inside extended timestamp", join(hdr{0, 4, 0xffffff, 4, TypeAudio, 1, -1}.bytes(), []byte{1}), Limits{}, io.ErrUnexpectedEOF},
		{"cut inside 3-byte basic header", []byte{0x01, 0x05}, Limits{}, io.ErrUnexpectedEOF},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cr := NewChunkReader(bytes.NewReader(tt.in), tt.lim)
			var err error
			for err == nil {
				_, err = cr.ReadMessage()
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("ReadMessage error = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestChunkReaderCleanEOF(t *testing.T) {
	cr := NewChunkReader(bytes.NewReader(nil), Limits{})
	if _, err := cr.ReadMessage(); err != io.EOF {
		t.Fatalf("ReadMessage on empty input = %v, want io.EOF", err)
	}
}

func TestChunkReaderOwnsData(t *testing.T) {
	in := join(
		hdr{0, 4, 0, 3, TypeAudio, 1, -1}.bytes(), []byte("abc"),
		hdr{2, 4, 1, 0, 0, 0, -1}.bytes(), []byte("def"),
	)
	got := readAll(t, in, Limits{})
	got[0].Data[0] = 'X'
	if string(got[1].Data) != "def" {
		t.Fatalf("second message data changed: %q", got[1].Data)
	}
	in[len(in)-1] = 'Z'
	if string(got[1].Data) != "def" {
		t.Fatalf("message data aliases the input: %q", got[1].Data)
	}
}

func TestChunkReaderPendingReleased(t *testing.T) {
	// Messages of 600 bytes one after another stay within a 1000-byte
	// pending limit: completed and aborted messages release their bytes.
	var in []byte
	for i := range 5 {
		in = append(in, hdr{0, 4, uint32(i), 600, TypeAudio, 1, -1}.bytes()...)
		in = append(in, make([]byte, 128)...)
		if i%2 == 0 {
			in = append(in, hdr{0, 2, 0, 4, TypeAbort, 0, -1}.bytes()...)
			in = append(in, 0, 0, 0, 4)
			continue
		}
		for rest := 600 - 128; rest > 0; rest -= 128 {
			in = append(in, hdr{3, 4, 0, 0, 0, 0, -1}.bytes()...)
			in = append(in, make([]byte, min(128, rest))...)
		}
	}
	got := readAll(t, in, Limits{MaxPendingBytes: 1000})
	if len(got) != 5 { // 3 aborts + 2 audio
		t.Fatalf("got %d messages, want 5", len(got))
	}
}
