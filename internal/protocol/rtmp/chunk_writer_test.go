package rtmp

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"testing"
)

func TestAppendChunksVectors(t *testing.T) {
	tests := []struct {
		name      string
		m         Message
		chunkSize int
		want      []byte
	}{
		{
			name:      "single chunk",
			m:         Message{Type: TypeAudio, ChunkStreamID: 4, StreamID: 1, Timestamp: 0x010203, Data: []byte("abc")},
			chunkSize: 128,
			want:      join([]byte{0x04, 1, 2, 3, 0, 0, 3, 8, 1, 0, 0, 0}, []byte("abc")),
		},
		{
			name:      "continuation chunks",
			m:         Message{Type: TypeVideo, ChunkStreamID: 6, StreamID: 1, Timestamp: 40, Data: []byte("abcdefghij")},
			chunkSize: 4,
			want: join([]byte{0x06, 0, 0, 40, 0, 0, 10, 9, 1, 0, 0, 0}, []byte("abcd"),
				[]byte{0xc6}, []byte("efgh"), []byte{0xc6}, []byte("ij")),
		},
		{
			name:      "extended timestamp repeated",
			m:         Message{Type: TypeVideo, ChunkStreamID: 6, StreamID: 1, Timestamp: 0x12345678, Data: []byte("abcdef")},
			chunkSize: 4,
			want: join([]byte{0x06, 0xff, 0xff, 0xff, 0, 0, 6, 9, 1, 0, 0, 0, 0x12, 0x34, 0x56, 0x78}, []byte("abcd"),
				[]byte{0xc6, 0x12, 0x34, 0x56, 0x78}, []byte("ef")),
		},
		{
			name:      "timestamp 0xFFFFFF is extended",
			m:         Message{Type: TypeAudio, ChunkStreamID: 4, Timestamp: 0xffffff},
			chunkSize: 128,
			want:      []byte{0x04, 0xff, 0xff, 0xff, 0, 0, 0, 8, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff},
		},
		{
			name:      "two byte csid",
			m:         Message{Type: TypeAudio, ChunkStreamID: 300, Data: []byte("ab")},
			chunkSize: 1,
			want:      join([]byte{0x00, 236, 0, 0, 0, 0, 0, 2, 8, 0, 0, 0, 0}, []byte("a"), []byte{0xc0, 236}, []byte("b")),
		},
		{
			name:      "three byte csid",
			m:         Message{Type: TypeAudio, ChunkStreamID: 65599, Data: []byte("ab")},
			chunkSize: 1,
			want: join([]byte{0x01, 0xff, 0xff, 0, 0, 0, 0, 0, 2, 8, 0, 0, 0, 0}, []byte("a"),
				[]byte{0xc1, 0xff, 0xff}, []byte("b")),
		},
		{
			name:      "bad chunk size and csid are clamped",
			m:         Message{Type: TypeAudio, ChunkStreamID: 0, Data: []byte("a")},
			chunkSize: 0,
			want:      join([]byte{0x02, 0, 0, 0, 0, 0, 1, 8, 0, 0, 0, 0}, []byte("a")),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := AppendChunks([]byte{0xaa}, &tt.m, tt.chunkSize)
			if !bytes.Equal(got[1:], tt.want) || got[0] != 0xaa {
				t.Fatalf("AppendChunks =\n% x\nwant\n% x", got[1:], tt.want)
			}
			if n := ChunksLen(&tt.m, tt.chunkSize); n != len(tt.want) {
				t.Fatalf("ChunksLen = %d, want %d", n, len(tt.want))
			}
		})
	}
}

// splitChunks cuts the output of AppendChunks into its chunks.
func splitChunks(enc []byte, m *Message, chunkSize int) [][]byte {
	basic := basicHeaderLen(clampCSID(m.ChunkStreamID))
	ext := 0
	if m.Timestamp >= maxTimestampField {
		ext = 4
	}
	rest := len(m.Data)
	n := basic + 11 + ext + min(chunkSize, rest)
	chunks := [][]byte{enc[:n]}
	enc, rest = enc[n:], rest-min(chunkSize, rest)
	for rest > 0 {
		n = basic + ext + min(chunkSize, rest)
		chunks = append(chunks, enc[:n])
		enc, rest = enc[n:], rest-min(chunkSize, rest)
	}
	return chunks
}

// TestChunkRoundTrip encodes random messages on several chunk streams,
// interleaves their chunks, and checks that ChunkReader restores them, with
// and without extended timestamps repeated in continuation chunks.
func TestChunkRoundTrip(t *testing.T) {
	csids := []uint32{2, 3, 4, 6, 63, 64, 200, 319, 320, 5000, 65599}
	for seed := range uint64(24) {
		for _, repeatExt := range []bool{true, false} {
			t.Run(fmt.Sprintf("seed%d/repeat=%v", seed, repeatExt), func(t *testing.T) {
				rng := rand.New(rand.NewPCG(seed, 7))
				chunkSize, count := 1+rng.IntN(300), 200
				if seed%5 == 0 {
					chunkSize, count = 60000, 8
				}
				// Per chunk stream, a queue of messages whose chunks are
				// emitted in order; streams are interleaved at random.
				sent := map[uint32][]*Message{}
				queues := map[uint32][][]byte{}
				for range count {
					csid := csids[rng.IntN(len(csids))]
					data := make([]byte, rng.IntN(3*chunkSize+10))
					for i := range data {
						data[i] = byte(rng.Uint32())
					}
					ts := rng.Uint32() >> uint(rng.IntN(33))
					if !repeatExt && ts >= maxTimestampField {
						// Without the repeated field the reader must guess
						// from the payload; keep chunk starts unambiguous.
						for i := 0; i < len(data); i += chunkSize {
							data[i] = byte(ts>>24) ^ 0xff
						}
					}
					m := &Message{Type: uint8(8 + rng.IntN(2)), ChunkStreamID: csid, StreamID: rng.Uint32N(3), Timestamp: ts, Data: data}
					sent[csid] = append(sent[csid], m)
					enc := AppendChunks(nil, m, chunkSize)
					for i, c := range splitChunks(enc, m, chunkSize) {
						if i > 0 && !repeatExt && ts >= maxTimestampField {
							basic := basicHeaderLen(csid)
							c = append(c[:basic:basic], c[basic+4:]...)
						}
						queues[csid] = append(queues[csid], c)
					}
				}
				stream := AppendChunks(nil, NewSetChunkSize(uint32(chunkSize)), DefaultChunkSize)
				for len(queues) > 0 {
					keys := make([]uint32, 0, len(queues))
					for _, k := range csids {
						if len(queues[k]) > 0 {
							keys = append(keys, k)
						}
					}
					k := keys[rng.IntN(len(keys))]
					stream = append(stream, queues[k][0]...)
					if queues[k] = queues[k][1:]; len(queues[k]) == 0 {
						delete(queues, k)
					}
				}

				got := readAll(t, stream, Limits{})
				if got[0].Type != TypeSetChunkSize {
					t.Fatalf("first message type %d", got[0].Type)
				}
				for _, m := range got[1:] {
					want := sent[m.ChunkStreamID][0]
					sent[m.ChunkStreamID] = sent[m.ChunkStreamID][1:]
					if m.Type != want.Type || m.StreamID != want.StreamID || m.Timestamp != want.Timestamp || !bytes.Equal(m.Data, want.Data) {
						t.Fatalf("csid %d: got {type %d sid %d ts %#x len %d}, want {type %d sid %d ts %#x len %d}",
							m.ChunkStreamID, m.Type, m.StreamID, m.Timestamp, len(m.Data), want.Type, want.StreamID, want.Timestamp, len(want.Data))
					}
				}
				for csid, rest := range sent {
					if len(rest) > 0 {
						t.Fatalf("csid %d: %d messages not read", csid, len(rest))
					}
				}
			})
		}
	}
}

// failWriter fails every write.
type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, io.ErrClosedPipe }

func TestChunkWriter(t *testing.T) {
	var buf bytes.Buffer
	cw := NewChunkWriter(&buf, 0)
	if cw.ChunkSize() != DefaultChunkSize {
		t.Fatalf("ChunkSize = %d", cw.ChunkSize())
	}
	big := bytes.Repeat([]byte("x"), 5000)
	if err := cw.WriteMessage(&Message{Type: TypeVideo, ChunkStreamID: CSIDVideo, StreamID: 1, Data: big}); err != nil {
		t.Fatal(err)
	}
	if err := cw.SetChunkSize(4096); err != nil {
		t.Fatal(err)
	}
	if cw.ChunkSize() != 4096 {
		t.Fatalf("ChunkSize after SetChunkSize = %d", cw.ChunkSize())
	}
	if err := cw.WriteMessage(&Message{Type: TypeVideo, ChunkStreamID: CSIDVideo, StreamID: 1, Timestamp: 40, Data: big}); err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{0, -1, MaxChunkSizeValue + 1} {
		if err := cw.SetChunkSize(n); !errors.Is(err, ErrChunkSize) {
			t.Fatalf("SetChunkSize(%d) = %v, want ErrChunkSize", n, err)
		}
	}
	got := readAll(t, buf.Bytes(), Limits{})
	if len(got) != 3 || got[1].Type != TypeSetChunkSize || !bytes.Equal(got[2].Data, big) || got[2].Timestamp != 40 {
		t.Fatalf("read back %d messages", len(got))
	}
	if err := NewChunkWriter(failWriter{}, 128).WriteMessage(NewAck(1)); !errors.Is(err, io.ErrClosedPipe) {
		t.Fatalf("WriteMessage to failing writer = %v", err)
	}
}

func TestAppendChunksAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts differ under the race detector")
	}
	m := &Message{Type: TypeVideo, ChunkStreamID: CSIDVideo, StreamID: 1, Timestamp: 0x1000000, Data: make([]byte, 20000)}
	dst := make([]byte, 0, ChunksLen(m, 4096))
	if n := testing.AllocsPerRun(100, func() { dst = AppendChunks(dst[:0], m, 4096) }); n != 0 {
		t.Fatalf("AppendChunks with room allocates %v times", n)
	}
	if n := testing.AllocsPerRun(100, func() { _ = AppendChunks(nil, m, 4096) }); n != 1 {
		t.Fatalf("AppendChunks(nil) allocates %v times, want 1", n)
	}
}

func BenchmarkAppendChunks(b *testing.B) {
	for _, size := range []int{200, 5000, 60000} {
		b.Run(fmt.Sprintf("%dB", size), func(b *testing.B) {
			m := &Message{Type: TypeVideo, ChunkStreamID: CSIDVideo, StreamID: 1, Timestamp: 123456, Data: make([]byte, size)}
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				_ = AppendChunks(nil, m, 4096)
			}
		})
		b.Run(fmt.Sprintf("%dB/reuse", size), func(b *testing.B) {
			m := &Message{Type: TypeVideo, ChunkStreamID: CSIDVideo, StreamID: 1, Timestamp: 123456, Data: make([]byte, size)}
			dst := make([]byte, 0, ChunksLen(m, 4096))
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				dst = AppendChunks(dst[:0], m, 4096)
			}
		})
	}
}

func BenchmarkChunkReader(b *testing.B) {
	m := &Message{Type: TypeVideo, ChunkStreamID: CSIDVideo, StreamID: 1, Timestamp: 40, Data: make([]byte, 5000)}
	one := AppendChunks(nil, m, DefaultChunkSize)
	stream := bytes.Repeat(one, 200)
	b.SetBytes(int64(len(m.Data)))
	b.ReportAllocs()
	r := bytes.NewReader(stream)
	cr := NewChunkReader(r, Limits{})
	for b.Loop() {
		if _, err := cr.ReadMessage(); err != nil {
			r.Reset(stream)
			cr = NewChunkReader(r, Limits{})
		}
	}
}
