package hls

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/formats/mpegts"
	tscodecs "github.com/bluenviron/mediacommon/v2/pkg/formats/mpegts/codecs"

	"roomcast/internal/media"
)

// cutSummary renders segments as "start+duration" in ms, with a "|" before
// a discontinuity, for compact comparisons.
func cutSummary(segs []*Segment) string {
	var b bytes.Buffer
	for i, s := range segs {
		if i > 0 {
			b.WriteByte(' ')
		}
		if s.Discontinuity {
			b.WriteString("| ")
		}
		fmt.Fprintf(&b, "%d+%d", s.Start.Milliseconds(), s.Duration.Milliseconds())
	}
	return b.String()
}

func TestSegmenterCuts(t *testing.T) {
	// Audio-only streams cut at the first frame at or after 2 s.
	var audioOnly []string
	start, last := int64(0), int64(0)
	for j := 0; audioFrameDTS(0, j) < 7000; j++ {
		if dts := audioFrameDTS(0, j); dts-start >= 2000 {
			audioOnly = append(audioOnly, fmt.Sprintf("%d+%d", start, dts-start))
			start = dts
		}
		last = audioFrameDTS(0, j)
	}
	audioOnly = append(audioOnly, fmt.Sprintf("%d+%d", start, last+23-start))
	tests := []struct {
		name   string
		target time.Duration
		spec   streamSpec
		want   string
	}{
		{"1s GOP, 2s target", 2 * time.Second,
			streamSpec{fps: 25, gopMs: 1000, audio: true, durMs: 10000},
			"0+2000 2000+2000 4000+2000 6000+2000 8000+2008"}, // audio runs 8 ms past the last video frame
		{"3s GOP, 2s target: cut only on keyframes", 2 * time.Second,
			streamSpec{fps: 25, gopMs: 3000, audio: true, durMs: 10000},
			"0+3000 3000+3000 6000+3000 9000+1008"},
		{"GOP a little under the target is within tolerance", 2 * time.Second,
			streamSpec{fps: 50, gopMs: 1980, durMs: 7920},
			"0+1980 1980+1980 3960+1980 5940+1980"},
		{"GOP well under the target", 2 * time.Second,
			streamSpec{fps: 50, gopMs: 1500, durMs: 9000},
			"0+3000 3000+3000 6000+3000"},
		{"video only, 4s target, late start", 4 * time.Second,
			streamSpec{fps: 30, gopMs: 2000, startMs: 5000, durMs: 12000},
			"5000+4000 9000+4000 13000+3999"}, // 30 fps in whole ms
		{"audio only", 2 * time.Second,
			streamSpec{audio: true, durMs: 7000},
			strings.Join(audioOnly, " ")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := newCollect(SegmenterConfig{TargetDuration: tc.target, FirstSeq: 7})
			c.feed(t, tc.spec.packets(t))
			if err := c.Flush(); err != nil {
				t.Fatal(err)
			}
			if got := cutSummary(c.segs); got != tc.want {
				t.Errorf("cuts:\n got %s\nwant %s", got, tc.want)
			}
			for i, s := range c.segs {
				if s.Seq != uint64(7+i) {
					t.Errorf("segment %d: seq %d", i, s.Seq)
				}
				checkTSStart(t, s)
			}
		})
	}
}

// checkTSStart checks that a segment is whole TS packets starting with the
// PAT and the PMT.
func checkTSStart(t *testing.T, s *Segment) {
	t.Helper()
	d := s.Data
	if len(d) < 3*188 || len(d)%188 != 0 {
		t.Fatalf("segment %d: %d bytes", s.Seq, len(d))
	}
	pid := func(p []byte) int { return int(p[1]&0x1f)<<8 | int(p[2]) }
	if d[0] != 0x47 || pid(d) != 0 || d[188] != 0x47 || pid(d[188:]) != 0x1000 {
		t.Errorf("segment %d does not start with PAT, PMT: pids %d, %d", s.Seq, pid(d), pid(d[188:]))
	}
}

func TestSegmenterDiscontinuity(t *testing.T) {
	c := newCollect(SegmenterConfig{})
	pkts := streamSpec{fps: 25, gopMs: 1000, audio: true, durMs: 5000}.packets(t)
	c.feed(t, pkts)
	if err := c.Discontinuity(); err != nil {
		t.Fatal(err)
	}
	// The publisher comes back mid-GOP: frames before its first keyframe
	// are dropped.
	after := streamSpec{fps: 25, gopMs: 1000, audio: true, startMs: 5000, durMs: 5000}.packets(t)
	for _, p := range after {
		if p.Type == media.TagVideo && p.Keyframe && !p.SeqHeader && p.DTS == 5000 {
			p.Keyframe = false // first keyframe lost: next at 6000
		}
	}
	c.feed(t, after)
	_ = c.Discontinuity() // twice in a row and with nothing open: harmless
	_ = c.Discontinuity()
	c.feed(t, streamSpec{fps: 25, gopMs: 1000, audio: true, startMs: 10000, durMs: 2000, noHeader: true}.packets(t))
	if err := c.Flush(); err != nil {
		t.Fatal(err)
	}
	want := "0+2000 2000+2000 4000+1015 | 6000+2000 8000+2015 | 10000+2020"
	if got := cutSummary(c.segs); got != want {
		t.Errorf("cuts:\n got %s\nwant %s", got, want)
	}
	for i, wantDisc := range []uint64{0, 0, 0, 1, 1, 2} {
		if c.segs[i].DiscontinuitySeq != wantDisc {
			t.Errorf("segment %d: discontinuity seq %d, want %d", i, c.segs[i].DiscontinuitySeq, wantDisc)
		}
	}
}

func TestSegmenterCodecChange(t *testing.T) {
	c := newCollect(SegmenterConfig{})
	c.feed(t, streamSpec{fps: 25, gopMs: 1000, audio: true, durMs: 3000}.packets(t))
	// The same configuration sent again changes nothing.
	c.feed(t, []*media.Packet{avcSeqPacket(t, 3000, testSPS, testPPS), aacSeqPacket(t, 3000)})
	c.feed(t, streamSpec{fps: 25, gopMs: 1000, audio: true, startMs: 3000, durMs: 2000, noHeader: true}.packets(t))
	if got, want := cutSummary(c.segs), "0+2000 2000+2000"; got != want {
		t.Fatalf("after resent headers: %s, want %s", got, want)
	}
	// A new SPS (another resolution) mid-GOP ends the segment.
	sps2 := slices.Clone(testSPS)
	sps2[len(sps2)-1] ^= 0x10
	c.feed(t, []*media.Packet{avcSeqPacket(t, 5500, sps2, testPPS)})
	c.feed(t, streamSpec{fps: 25, gopMs: 1000, audio: true, startMs: 5500, durMs: 2500, noHeader: true}.packets(t))
	if err := c.Flush(); err != nil {
		t.Fatal(err)
	}
	if got, want := cutSummary(c.segs), "0+2000 2000+2000 4000+1020 | 5500+2000 7500+520"; got != want {
		t.Errorf("cuts:\n got %s\nwant %s", got, want)
	}
	// The new segment carries the new SPS.
	frames := decodeSegment(t, c.segs[3])
	if !slices.ContainsFunc(frames.video[0].au, func(n []byte) bool { return bytes.Equal(n, sps2) }) {
		t.Error("first access unit after the change lacks the new SPS")
	}
}

func TestSegmenterProbe(t *testing.T) {
	t.Run("late audio header joins before the first segment", func(t *testing.T) {
		c := newCollect(SegmenterConfig{})
		pkts := streamSpec{fps: 25, gopMs: 1000, durMs: 3000}.packets(t)
		// The AAC header comes 400 ms in, audio from then on.
		var in []*media.Packet
		for _, p := range pkts {
			if p.DTS == 400 && p.Type == media.TagVideo {
				in = append(in, aacSeqPacket(t, 400))
			}
			in = append(in, p)
			if p.DTS >= 400 && p.Type == media.TagVideo {
				in = append(in, newPacket(t, media.TagAudio, p.DTS, audioBody(false, testAAC)))
			}
		}
		c.feed(t, in)
		_ = c.Flush()
		if got, want := cutSummary(c.segs), "0+2000 2000+1000"; got != want {
			t.Fatalf("cuts: %s, want %s", got, want)
		}
		f := decodeSegment(t, c.segs[0])
		if len(f.audio) == 0 || len(f.video) != 50 {
			t.Errorf("first segment: %d audio PES, %d video frames", len(f.audio), len(f.video))
		}
	})
	t.Run("audio header after the probe makes a discontinuity", func(t *testing.T) {
		c := newCollect(SegmenterConfig{})
		c.feed(t, streamSpec{fps: 25, gopMs: 1000, durMs: 2500}.packets(t))
		c.feed(t, []*media.Packet{aacSeqPacket(t, 2500)})
		c.feed(t, streamSpec{fps: 25, gopMs: 1000, audio: true, startMs: 2500, durMs: 1500, noHeader: true}.packets(t))
		_ = c.Flush()
		if got, want := cutSummary(c.segs), "0+2000 2000+520 | 2500+1520"; got != want {
			t.Errorf("cuts: %s, want %s", got, want)
		}
	})
	t.Run("no configuration, no segments", func(t *testing.T) {
		c := newCollect(SegmenterConfig{})
		c.feed(t, streamSpec{fps: 25, gopMs: 1000, audio: true, durMs: 3000, noHeader: true}.packets(t))
		_ = c.Flush()
		if len(c.segs) != 0 {
			t.Errorf("%d segments", len(c.segs))
		}
	})
}

// escapedRateASC is an AAC-LC AudioSpecificConfig with an explicit sample
// rate of 12345 Hz, which ADTS cannot signal.
var escapedRateASC = func() []byte {
	v := uint64(2)<<35 | uint64(15)<<31 | uint64(12345)<<7 | uint64(2)<<3
	return []byte{byte(v >> 32), byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}
}()

func TestSegmenterBadInput(t *testing.T) {
	tests := []struct {
		name    string
		pkt     []byte
		typ     media.TagType
		wantErr error // nil: no error expected
	}{
		{"truncated NAL unit", videoBody(7, false, false, 0, []byte{0, 0, 0, 9, 1}), media.TagVideo, media.ErrShortPayload},
		{"bad AVC config", videoBody(7, true, true, 0, []byte{1, 2}), media.TagVideo, media.ErrBadConfig},
		{"bad HEVC config", videoBody(12, true, true, 0, []byte{1, 2}), media.TagVideo, media.ErrBadConfig},
		{"AAC Main", audioBody(true, []byte{0x0a, 0x10}), media.TagAudio, errAny},
		{"AAC at 12345 Hz", audioBody(true, escapedRateASC), media.TagAudio, ErrUnsupported},
		{"AAC frame too big", audioBody(false, make([]byte, maxADTSPayload+1)), media.TagAudio, ErrUnsupported},
		{"HEVC frame with AVC config", videoBody(12, true, false, 0, avcc(testHIDR)), media.TagVideo, nil},
		{"empty AVC frame", videoBody(7, false, false, 0, nil), media.TagVideo, nil},
		{"zero-length NAL unit", videoBody(7, false, false, 0, []byte{0, 0, 0, 0}), media.TagVideo, nil},
		{"empty AAC frame", audioBody(false, nil), media.TagAudio, nil},
		{"MP3", []byte{0x2f, 0xff, 0xfb}, media.TagAudio, nil},
		{"script", []byte{2, 0, 10, 'o', 'n', 'M', 'e', 't', 'a', 'D'}, media.TagScript, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := newCollect(SegmenterConfig{})
			c.feed(t, streamSpec{fps: 25, gopMs: 1000, audio: true, durMs: 1000}.packets(t))
			err := c.WritePacket(newPacket(t, tc.typ, 1000, tc.pkt))
			switch {
			case tc.wantErr == nil && err != nil:
				t.Errorf("error %v", err)
			case tc.wantErr == errAny && err == nil, tc.wantErr != nil && tc.wantErr != errAny && !errors.Is(err, tc.wantErr):
				t.Errorf("error %v, want %v", err, tc.wantErr)
			}
			// The segmenter keeps working once valid headers come again.
			c.feed(t, streamSpec{fps: 25, gopMs: 1000, audio: true, startMs: 1000, durMs: 3000}.packets(t))
			_ = c.Flush()
			if len(c.segs) < 2 {
				t.Errorf("%d segments: %s", len(c.segs), cutSummary(c.segs))
			}
		})
	}
}

var errAny = errors.New("any error")

// decoded is what mediacommon's reader finds in a segment.
type decoded struct {
	videoCodec tscodecs.Codec
	audioCodec *tscodecs.MPEG4Audio
	video      []decodedAU
	audio      []decodedAU
}

type decodedAU struct {
	pts, dts int64
	au       [][]byte
}

func decodeSegment(t *testing.T, s *Segment) decoded {
	t.Helper()
	r := &mpegts.Reader{R: bytes.NewReader(s.Data)}
	if err := r.Initialize(); err != nil {
		t.Fatalf("segment %d: %v", s.Seq, err)
	}
	r.OnDecodeError(func(err error) { t.Errorf("segment %d: decode: %v", s.Seq, err) })
	var d decoded
	for _, tr := range r.Tracks() {
		switch c := tr.Codec.(type) {
		case *tscodecs.H264:
			d.videoCodec = c
			r.OnDataH264(tr, func(pts, dts int64, au [][]byte) error {
				d.video = append(d.video, decodedAU{pts, dts, au})
				return nil
			})
		case *tscodecs.H265:
			d.videoCodec = c
			r.OnDataH265(tr, func(pts, dts int64, au [][]byte) error {
				d.video = append(d.video, decodedAU{pts, dts, au})
				return nil
			})
		case *tscodecs.MPEG4Audio:
			d.audioCodec = c
			r.OnDataMPEG4Audio(tr, func(pts int64, aus [][]byte) error {
				d.audio = append(d.audio, decodedAU{pts, pts, aus})
				return nil
			})
		default:
			t.Fatalf("unexpected track %T", c)
		}
	}
	for {
		if err := r.Read(); err != nil {
			if !errors.Is(err, io.EOF) {
				t.Fatalf("segment %d: read: %v", s.Seq, err)
			}
			return d
		}
	}
}

func TestSegmentDecodes(t *testing.T) {
	for _, hevc := range []bool{false, true} {
		t.Run(fmt.Sprintf("hevc=%v", hevc), func(t *testing.T) {
			c := newCollect(SegmenterConfig{})
			spec := streamSpec{fps: 25, gopMs: 1000, audio: true, startMs: 1000, durMs: 4000, bframes: true, hevc: hevc}
			c.feed(t, spec.packets(t))
			_ = c.Flush()
			if len(c.segs) != 2 {
				t.Fatalf("%d segments", len(c.segs))
			}
			ts := func(ms int64) int64 { return (ms-1000)*90 + clockOffset }
			audioIdx := 0
			for i, s := range c.segs {
				d := decodeSegment(t, s)
				switch d.videoCodec.(type) {
				case *tscodecs.H264:
					if hevc {
						t.Error("H.264 track, want H.265")
					}
				case *tscodecs.H265:
					if !hevc {
						t.Error("H.265 track, want H.264")
					}
				default:
					t.Fatalf("video codec %T", d.videoCodec)
				}
				if d.audioCodec == nil || d.audioCodec.Config.SampleRate != 44100 || d.audioCodec.Config.ChannelConfig != 2 {
					t.Fatalf("audio codec %+v", d.audioCodec)
				}
				if len(d.video) != 50 {
					t.Fatalf("segment %d: %d video frames", i, len(d.video))
				}
				start := int64(1000 + 2000*i)
				for k, v := range d.video {
					dts := start + int64(k)*40
					pts := dts
					if k%25 != 0 {
						pts += 80
					}
					if v.dts != ts(dts) || v.pts != ts(pts) {
						t.Fatalf("segment %d frame %d: pts/dts %d/%d, want %d/%d", i, k, v.pts, v.dts, ts(pts), ts(dts))
					}
				}
				// The keyframe carries its parameter sets.
				var types []int
				for _, n := range d.video[0].au {
					if hevc {
						types = append(types, int(n[0]>>1&0x3f))
					} else {
						types = append(types, int(n[0]&0x1f))
					}
				}
				want := []int{7, 8, 5}
				if hevc {
					want = []int{32, 33, 34, 19}
				}
				if !slices.Equal(types, want) {
					t.Errorf("keyframe NAL unit types %v, want %v", types, want)
				}
				if types := d.video[1].au; len(types) != 1 {
					t.Errorf("inter frame has %d NAL units", len(types))
				}
				// Audio: every frame, in batches with the PTS of their first.
				for _, a := range d.audio {
					if want := ts(audioFrameDTS(1000, audioIdx)); a.pts != want {
						t.Fatalf("segment %d audio frame %d: pts %d, want %d", i, audioIdx, a.pts, want)
					}
					for _, au := range a.au {
						if !bytes.Equal(au, testAAC) {
							t.Fatalf("audio frame %x", au)
						}
					}
					audioIdx += len(a.au)
				}
			}
			if want := 173; audioIdx != want { // frames with DTS < 5000
				t.Errorf("%d audio frames, want %d", audioIdx, want)
			}
		})
	}
}

func TestSegmenterUnusualKeyframes(t *testing.T) {
	t.Run("keyframes without IDR still start with PAT/PMT", func(t *testing.T) {
		c := newCollect(SegmenterConfig{})
		pkts := streamSpec{fps: 25, gopMs: 1000, durMs: 5000}.packets(t)
		for i, p := range pkts {
			if p.Keyframe && !p.SeqHeader {
				// An I slice with a recovery point instead of an IDR.
				pkts[i] = newPacket(t, media.TagVideo, p.DTS, videoBody(7, true, false, 0, avcc([]byte{0x06, 0x06, 0x01, 0x00, 0x80}, []byte{0x21, 0x88, 0x80})))
			}
		}
		c.feed(t, pkts)
		_ = c.Flush()
		if got, want := cutSummary(c.segs), "0+2000 2000+2000 4000+1000"; got != want {
			t.Fatalf("cuts %s, want %s", got, want)
		}
		for _, s := range c.segs {
			checkTSStart(t, s)
			if d := decodeSegment(t, s); len(d.video) != 50 && s.Seq < 2 {
				t.Errorf("segment %d: %d frames", s.Seq, len(d.video))
			}
		}
	})
	t.Run("no keyframe for a minute: cut anyway", func(t *testing.T) {
		c := newCollect(SegmenterConfig{})
		c.feed(t, streamSpec{fps: 10, gopMs: 1 << 40, durMs: 70000}.packets(t))
		_ = c.Flush()
		if got, want := cutSummary(c.segs), "0+60000 60000+10000"; got != want {
			t.Fatalf("cuts %s, want %s", got, want)
		}
		checkTSStart(t, c.segs[1])
	})
}

func TestSegmenterAudioOnlyDecode(t *testing.T) {
	c := newCollect(SegmenterConfig{TargetDuration: time.Second})
	c.feed(t, streamSpec{audio: true, durMs: 3000}.packets(t))
	_ = c.Flush()
	if len(c.segs) != 3 {
		t.Fatalf("cuts %s", cutSummary(c.segs))
	}
	var frames int
	for _, s := range c.segs {
		checkTSStart(t, s)
		d := decodeSegment(t, s)
		if d.videoCodec != nil || d.audioCodec == nil {
			t.Fatalf("tracks: video %T, audio %v", d.videoCodec, d.audioCodec)
		}
		for _, a := range d.audio {
			if len(a.au) > audioBatchFrames {
				t.Errorf("PES of %d frames", len(a.au))
			}
			frames += len(a.au)
		}
	}
	if want := 130; frames != want { // 44100*3/1024 rounded up
		t.Errorf("%d audio frames, want %d", frames, want)
	}
}

// BenchmarkSegmenter measures muxing a 2 Mbit/s, 30 fps stream with AAC
// audio: one op is one second of media.
func BenchmarkSegmenter(b *testing.B) {
	idr := make([]byte, 60000)
	idr[0] = 0x65
	p := make([]byte, 6000)
	p[0] = 0x41
	aac := make([]byte, 370)
	var pkts []*media.Packet
	for i := range 30 {
		nal := p
		if i == 0 {
			nal = idr
		}
		pkts = append(pkts, newPacket(b, media.TagVideo, int64(i)*1000/30, videoBody(7, i == 0, false, 0, avcc(nal))))
	}
	for j := range 43 {
		pkts = append(pkts, newPacket(b, media.TagAudio, audioFrameDTS(0, j), audioBody(false, aac)))
	}
	slices.SortStableFunc(pkts, func(x, y *media.Packet) int { return int(x.DTS - y.DTS) })
	var n int
	s := NewSegmenter(SegmenterConfig{TargetDuration: time.Second}, func(seg *Segment) { n += len(seg.Data) })
	if err := s.WritePacket(avcSeqPacket(b, 0, testSPS, testPPS)); err != nil {
		b.Fatal(err)
	}
	if err := s.WritePacket(aacSeqPacket(b, 0)); err != nil {
		b.Fatal(err)
	}
	var bytesIn int
	for _, p := range pkts {
		bytesIn += len(p.Payload())
	}
	b.SetBytes(int64(bytesIn))
	b.ReportAllocs()
	base := int64(0)
	for b.Loop() {
		for _, p := range pkts {
			q := *p
			q.DTS += base
			if err := s.WritePacket(&q); err != nil {
				b.Fatal(err)
			}
		}
		base += 1000
	}
	_ = n
}
