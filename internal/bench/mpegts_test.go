package bench

import (
	"bytes"
	"testing"

	"github.com/bluenviron/mediacommon/v2/pkg/formats/mpegts"
	mcodecs "github.com/bluenviron/mediacommon/v2/pkg/formats/mpegts/codecs"
)

type frameRecorder struct{ ts []int64 }

func (r *frameRecorder) frame(tsUS, now int64) { r.ts = append(r.ts, tsUS) }

// makeSegment muxes an MPEG-TS segment with an AAC track and an H.264
// track (the video track second, so the PMT has to be walked) holding
// frames at the given DTS values in milliseconds; the first is a keyframe.
// With bframes, PTS is DTS + 80 ms.
func makeSegment(t testing.TB, dtsMS []int64, bframes bool) []byte {
	t.Helper()
	var buf bytes.Buffer
	audio := &mpegts.Track{Codec: &mcodecs.MPEG4Audio{}}
	video := &mpegts.Track{Codec: &mcodecs.H264{}}
	w := &mpegts.Writer{W: &buf, Tracks: []*mpegts.Track{audio, video}}
	if err := w.Initialize(); err != nil {
		t.Fatal(err)
	}
	for i, ms := range dtsMS {
		au := [][]byte{{0x41, 0x9a, 0x00}}
		if i == 0 {
			au = [][]byte{{0x67, 0x42, 0xc0, 0x1f}, {0x68, 0xce, 0x3c, 0x80}, {0x65, 0x88, 0x84, 0x00}}
		}
		au = append(au, make([]byte, 3000)) // spans many TS packets
		pts := ms * 90
		if bframes {
			pts += 80 * 90
		}
		if err := w.WriteH264(video, pts, ms*90, au); err != nil {
			t.Fatal(err)
		}
	}
	return buf.Bytes()
}

func TestTSScanner(t *testing.T) {
	for _, bframes := range []bool{false, true} {
		seg := makeSegment(t, []int64{1000, 1040, 1080, 1120}, bframes)
		for _, step := range []int{1, 100, 188, 1000, len(seg)} {
			rec := &frameRecorder{}
			s := newTSScanner(rec)
			for i := 0; i < len(seg); i += step {
				if err := s.feed(seg[i:min(i+step, len(seg))], 0); err != nil {
					t.Fatalf("step %d: %v", step, err)
				}
			}
			want := []int64{1_000_000, 1_040_000, 1_080_000, 1_120_000}
			if len(rec.ts) != len(want) {
				t.Fatalf("bframes %v step %d: timestamps %v, want %v (%v)", bframes, step, rec.ts, want, s)
			}
			for i := range want {
				if rec.ts[i] != want[i] {
					t.Fatalf("bframes %v step %d: timestamps %v, want %v", bframes, step, rec.ts, want)
				}
			}
		}
	}
}

func TestTSScannerSync(t *testing.T) {
	s := newTSScanner(&frameRecorder{})
	if err := s.feed(make([]byte, 188), 0); err != errTSSync {
		t.Fatalf("err %v, want errTSSync", err)
	}
}

func TestDecodeTS(t *testing.T) {
	// PTS 0x1_2345_6789 with marker bits, as muxers write it.
	v := int64(0x123456789)
	b := []byte{
		0x21 | byte(v>>29)&0x0e,
		byte(v >> 22),
		byte(v>>14) | 1,
		byte(v >> 7),
		byte(v<<1) | 1,
	}
	if got := decodeTS(b); got != v {
		t.Fatalf("decodeTS = %#x, want %#x", got, v)
	}
}
