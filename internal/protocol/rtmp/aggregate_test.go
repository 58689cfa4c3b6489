package rtmp

import (
	"encoding/binary"
	"errors"
	"testing"
)

// tag builds one aggregate sub-message with its back pointer.
func tag(typ uint8, ts uint32, body string) []byte {
	b := []byte{typ, byte(len(body) >> 16), byte(len(body) >> 8), byte(len(body)),
		byte(ts >> 16), byte(ts >> 8), byte(ts), byte(ts >> 24), 0, 0, 0}
	b = append(b, body...)
	return binary.BigEndian.AppendUint32(b, uint32(11+len(body)))
}

func TestSplitAggregate(t *testing.T) {
	type sub struct {
		typ  uint8
		ts   uint32
		data string
	}
	tests := []struct {
		name string
		ts   uint32
		body []byte
		want []sub
		err  error
	}{
		{
			name: "rebased timestamps",
			ts:   5000,
			body: join(tag(TypeVideo, 1000, "v1"), tag(TypeAudio, 1010, "a1"), tag(TypeVideo, 1040, "v2")),
			want: []sub{{TypeVideo, 5000, "v1"}, {TypeAudio, 5010, "a1"}, {TypeVideo, 5040, "v2"}},
		},
		{
			name: "extended timestamp byte and wrap",
			ts:   0xfffffff0,
			body: join(tag(TypeAudio, 0x01000000, "a"), tag(TypeAudio, 0x01000020, "b")),
			want: []sub{{TypeAudio, 0xfffffff0, "a"}, {TypeAudio, 0x10, "b"}},
		},
		{
			name: "missing last back pointer",
			ts:   1,
			body: join(tag(TypeDataAMF0, 0, "d"), tag(TypeAudio, 3, "x")[:12]),
			want: []sub{{TypeDataAMF0, 1, "d"}, {TypeAudio, 4, "x"}},
		},
		{name: "empty", ts: 1, body: nil, want: nil},
		{name: "empty body tag", ts: 1, body: tag(TypeVideo, 0, ""), want: []sub{{TypeVideo, 1, ""}}},
		{name: "short header", body: join(tag(TypeVideo, 0, "v"), []byte{9, 0, 0}), err: ErrProtocol},
		{name: "overrun", body: tag(TypeVideo, 0, "vv")[:12], err: ErrProtocol},
		{name: "nested aggregate", body: tag(TypeAggregate, 0, "x"), err: ErrProtocol},
		{name: "command inside", body: tag(TypeCommandAMF0, 0, "x"), err: ErrProtocol},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := &Message{Type: TypeAggregate, ChunkStreamID: 7, StreamID: 1, Timestamp: tt.ts, Data: tt.body}
			got, err := SplitAggregate(m)
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Fatalf("error = %v, want %v", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %d sub-messages, want %d", len(got), len(tt.want))
			}
			for i, w := range tt.want {
				g := got[i]
				if g.Type != w.typ || g.Timestamp != w.ts || string(g.Data) != w.data || g.ChunkStreamID != 7 || g.StreamID != 1 {
					t.Errorf("sub %d = %+v, want %+v", i, g, w)
				}
				if cap(g.Data) != len(g.Data) {
					t.Errorf("sub %d data capacity not capped", i)
				}
			}
		})
	}
	if _, err := SplitAggregate(&Message{Type: TypeVideo}); !errors.Is(err, ErrProtocol) {
		t.Fatalf("SplitAggregate(video) = %v", err)
	}
}
