package bench

import (
	"errors"
	"testing"

	"roomcast/internal/media"
	"roomcast/internal/protocol/flv"
)

type seenTag struct {
	ts   uint32
	kind videoKind
	now  int64
}

type tagRecorder struct{ tags []seenTag }

func (r *tagRecorder) videoTag(ts uint32, kind videoKind, now int64) {
	r.tags = append(r.tags, seenTag{ts, kind, now})
}

// testFLV returns an FLV stream: metadata, AVC sequence header, AAC header,
// a keyframe, audio, inter frames, an empty tag and a big frame.
func testFLV() ([]byte, []seenTag) {
	b := flv.AppendHeader(nil, true, true)
	b = flv.AppendTag(b, media.TagScript, 0, []byte{2, 0, 10, 'o', 'n', 'M', 'e', 't', 'a', 'D', 'a', 't', 'a'})
	b = flv.AppendTag(b, media.TagVideo, 0, []byte{0x17, 0, 0, 0, 0, 1, 0x64})
	b = flv.AppendTag(b, media.TagAudio, 0, []byte{0xAF, 0, 0x12, 0x10})
	b = flv.AppendTag(b, media.TagVideo, 0, []byte{0x17, 1, 0, 0, 0, 0, 0, 0, 1, 0x65})
	b = flv.AppendTag(b, media.TagAudio, 21, []byte{0xAF, 1, 0x21})
	b = flv.AppendTag(b, media.TagVideo, 40, []byte{0x27, 1, 0, 0, 0, 0, 0, 0, 1, 0x41})
	b = flv.AppendTag(b, media.TagVideo, 80, nil)
	b = flv.AppendTag(b, media.TagVideo, 0x01000078, append([]byte{0x27, 1, 0, 0, 0}, make([]byte, 5000)...))
	want := []seenTag{
		{0, videoOther, 0},
		{0, videoKeyframe, 0},
		{40, videoInter, 0},
		{80, videoOther, 0},
		{0x01000078, videoInter, 0},
	}
	return b, want
}

func TestFLVScannerSplits(t *testing.T) {
	in, want := testFLV()
	for _, step := range []int{1, 2, 5, 11, 13, 15, 100, 4096, len(in)} {
		rec := &tagRecorder{}
		s := flvScanner{sink: rec}
		for i := 0; i < len(in); i += step {
			if err := s.feed(in[i:min(i+step, len(in))], int64(i)); err != nil {
				t.Fatalf("step %d at %d: %v", step, i, err)
			}
		}
		if len(rec.tags) != len(want) {
			t.Fatalf("step %d: %d tags, want %d: %+v", step, len(rec.tags), len(want), rec.tags)
		}
		for i, w := range want {
			if g := rec.tags[i]; g.ts != w.ts || g.kind != w.kind {
				t.Fatalf("step %d tag %d: %+v, want %+v", step, i, g, w)
			}
		}
		if s.state != flvStateTagHeader || s.hn != 0 {
			t.Fatalf("step %d: scanner not at a tag boundary at the end", step)
		}
	}
}

func TestFLVScannerArrivalIsCompletion(t *testing.T) {
	in, _ := testFLV()
	rec := &tagRecorder{}
	s := flvScanner{sink: rec}
	last := len(in) - 4 - 1 // the last body byte
	if err := s.feed(in[:last], 1); err != nil {
		t.Fatal(err)
	}
	if err := s.feed(in[last:], 2); err != nil {
		t.Fatal(err)
	}
	if got := rec.tags[len(rec.tags)-1].now; got != 2 {
		t.Fatalf("big frame arrival %d, want the read that completed it (2)", got)
	}
}

func TestFLVScannerErrors(t *testing.T) {
	in, _ := testFLV()
	bad := func(i int, v byte) []byte {
		c := append([]byte(nil), in...)
		c[i] = v
		return c
	}
	for name, b := range map[string][]byte{
		"signature":     bad(0, 'X'),
		"tag type":      bad(flv.HeaderLen, 7),
		"prev tag size": bad(flv.HeaderLen+11+13+3, 99),
	} {
		s := flvScanner{sink: &tagRecorder{}}
		if err := s.feed(b, 0); !errors.Is(err, errFLVDesync) {
			t.Errorf("%s: err %v, want errFLVDesync", name, err)
		}
	}
}

func TestFLVScannerNoAlloc(t *testing.T) {
	in, _ := testFLV()
	s := flvScanner{sink: nopSink{}}
	if err := s.feed(in, 0); err != nil {
		t.Fatal(err)
	}
	body := in[flv.HeaderLen:]
	allocs := testing.AllocsPerRun(100, func() {
		if err := s.feed(body, 0); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per feed", allocs)
	}
}

type nopSink struct{}

func (nopSink) videoTag(uint32, videoKind, int64) {}

func TestClassifyVideo(t *testing.T) {
	tests := []struct {
		name   string
		b0, b1 byte
		n      int
		want   videoKind
	}{
		{"empty", 0, 0, 0, videoOther},
		{"avc seq header", 0x17, 0, 2, videoOther},
		{"avc keyframe", 0x17, 1, 2, videoKeyframe},
		{"avc inter", 0x27, 1, 2, videoInter},
		{"avc end of sequence", 0x17, 2, 2, videoOther},
		{"avc truncated", 0x17, 0, 1, videoOther},
		{"hevc legacy keyframe", 0x1C, 1, 2, videoKeyframe},
		{"ex seq start", 0x90, 0, 1, videoOther},
		{"ex coded keyframe", 0x91, 0, 1, videoKeyframe},
		{"ex codedX inter", 0xA3, 0, 1, videoInter},
		{"ex seq end", 0x92, 0, 1, videoOther},
		{"vp6 keyframe", 0x14, 0, 1, videoKeyframe},
		{"command frame", 0x57, 1, 2, videoOther},
	}
	for _, tt := range tests {
		if got := classifyVideo(tt.b0, tt.b1, tt.n); got != tt.want {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
		}
	}
}

func BenchmarkFLVScanner(b *testing.B) {
	in, _ := testFLV()
	s := flvScanner{sink: nopSink{}}
	_ = s.feed(in[:flv.HeaderLen], 0)
	body := in[flv.HeaderLen:]
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		_ = s.feed(body, 0)
	}
}
