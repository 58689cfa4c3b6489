package rtmp

import (
	"bytes"
	"errors"
	"io"
	"testing"
)

// fuzzLimits keep fuzzing memory small while still exercising the limits.
var fuzzLimits = Limits{MaxChunkSize: 1 << 16, MaxMessageSize: 1 << 16, MaxChunkStreams: 8, MaxPendingBytes: 1 << 17}

// FuzzChunkReader checks that ChunkReader never panics or over-reads on any
// input, and that every message it returns survives AppendChunks and a
// second ChunkReader unchanged.
func FuzzChunkReader(f *testing.F) {
	f.Add(join(
		hdr{0, 2, 0, 4, TypeSetChunkSize, 0, -1}.bytes(), []byte{0, 0, 0, 4},
		hdr{0, 4, 1000, 6, TypeAudio, 1, -1}.bytes(), []byte("abcd"),
		hdr{1, 6, 20, 2, TypeVideo, 0, -1}.bytes(), []byte("vv"),
		hdr{3, 4, 0, 0, 0, 0, -1}.bytes(), []byte("ef"),
		hdr{2, 4, 30, 0, 0, 0, -1}.bytes(), []byte("gh"),
	))
	f.Add(join(
		hdr{0, 2, 0, 4, TypeSetChunkSize, 0, -1}.bytes(), []byte{0, 0, 0, 4},
		hdr{0, 4, 0xffffff, 6, TypeAudio, 1, 0x01000000}.bytes(), []byte("abcd"),
		hdr{3, 4, 0, 0, 0, 0, 0x01000000}.bytes(), []byte("ef"),
		hdr{3, 4, 0, 0, 0, 0, -1}.bytes(), []byte("gh"),
	))
	f.Add(join(
		hdr{0, 320, 5, 3, TypeVideo, 1, -1}.bytes(), []byte("abc"),
		hdr{0, 2, 0, 4, TypeAbort, 0, -1}.bytes(), []byte{0, 0, 1, 64},
		hdr{1, 2, 0, 6, TypeUserControl, 0, -1}.bytes(), []byte{0, 6, 0, 0, 0, 1},
	))
	f.Add(AppendChunks(nil, &Message{Type: TypeCommandAMF0, ChunkStreamID: 3, Data: mustAMF("connect", 1, nil)}, 128))
	f.Fuzz(func(t *testing.T, in []byte) {
		cr := NewChunkReader(bytes.NewReader(in), fuzzLimits)
		var msgs []*Message
		for {
			m, err := cr.ReadMessage()
			if cr.BytesRead() > uint64(len(in)) {
				t.Fatalf("BytesRead %d > input %d", cr.BytesRead(), len(in))
			}
			if err != nil {
				if errors.Is(err, io.EOF) && cr.BytesRead() != uint64(len(in)) {
					t.Fatalf("clean EOF after %d of %d bytes", cr.BytesRead(), len(in))
				}
				break
			}
			if len(m.Data) > fuzzLimits.MaxMessageSize {
				t.Fatalf("message of %d bytes over the limit", len(m.Data))
			}
			if m.Type != TypeSetChunkSize && m.Type != TypeAbort {
				msgs = append(msgs, m)
			}
		}

		var enc []byte
		for _, m := range msgs {
			enc = AppendChunks(enc, m, DefaultChunkSize)
		}
		cr2 := NewChunkReader(bytes.NewReader(enc), Limits{})
		for i, want := range msgs {
			got, err := cr2.ReadMessage()
			if err != nil {
				t.Fatalf("re-read message %d: %v", i, err)
			}
			if got.Type != want.Type || got.ChunkStreamID != want.ChunkStreamID || got.StreamID != want.StreamID ||
				got.Timestamp != want.Timestamp || !bytes.Equal(got.Data, want.Data) {
				t.Fatalf("message %d changed in re-encoding: %+v != %+v", i, got, want)
			}
		}
	})
}

// FuzzSplitAggregate checks that SplitAggregate never panics and that what
// it returns lies within the aggregate body.
func FuzzSplitAggregate(f *testing.F) {
	f.Add(join(tag(TypeVideo, 1000, "v1"), tag(TypeAudio, 1010, "a1")), uint32(5000))
	f.Add(join(tag(TypeAudio, 0x01000000, "a"), tag(TypeDataAMF0, 0x01000020, "d")[:13]), uint32(0xfffffff0))
	f.Add(tag(TypeAggregate, 0, "x"), uint32(0))
	f.Fuzz(func(t *testing.T, body []byte, ts uint32) {
		m := &Message{Type: TypeAggregate, ChunkStreamID: 4, StreamID: 1, Timestamp: ts, Data: body}
		subs, err := SplitAggregate(m)
		if err != nil {
			return
		}
		total := 0
		for i, s := range subs {
			switch s.Type {
			case TypeAudio, TypeVideo, TypeDataAMF0, TypeDataAMF3:
			default:
				t.Fatalf("sub-message %d has type %d", i, s.Type)
			}
			if i == 0 && s.Timestamp != ts {
				t.Fatalf("first sub-message timestamp %d, want %d", s.Timestamp, ts)
			}
			total += aggregateTagHeader + len(s.Data)
		}
		if total > len(body) {
			t.Fatalf("sub-messages cover %d bytes of a %d-byte body", total, len(body))
		}
	})
}
