package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h265"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/mpegts"
	tscodecs "github.com/bluenviron/mediacommon/v2/pkg/formats/mpegts/codecs"

	"roomcast/internal/protocol/rtmp"
)

// hevcSample is one access unit of the H.265 test clip.
type hevcSample struct {
	video    bool
	key      bool
	dts, cts int64    // ms
	nalus    [][]byte // video
	aac      []byte   // audio
}

// hevcClip is the H.265 + AAC test clip as a publisher sends it.
type hevcClip struct {
	vps, sps, pps []byte
	asc           []byte
	samples       []hevcSample // in DTS order
}

// makeHEVCClip encodes d of the test pattern with libx265 (and AAC) into
// MPEG-TS with ffmpeg, and reads it back into access units. ffmpeg 5's FLV
// muxer cannot carry H.265, so the test publishes the clip itself.
func makeHEVCClip(t *testing.T, d time.Duration) *hevcClip {
	t.Helper()
	path := filepath.Join(t.TempDir(), "hevc.ts")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, requireTool(t, "ffmpeg"), "-hide_banner", "-nostdin", "-loglevel", "error",
		"-f", "lavfi", "-i", "testsrc2=size=640x360:rate=25",
		"-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100",
		"-t", fmt.Sprint(d.Seconds()),
		"-c:v", "libx265", "-preset", "ultrafast", "-x265-params", "keyint=25:min-keyint=25:log-level=error", "-pix_fmt", "yuv420p",
		"-c:a", "aac", "-b:a", "64k",
		"-f", "mpegts", path)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg libx265: %v\n%s", err, out)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := &mpegts.Reader{R: f}
	if err := r.Initialize(); err != nil {
		t.Fatalf("read the clip: %v", err)
	}
	c := &hevcClip{}
	var decodeErr error
	r.OnDecodeError(func(err error) { decodeErr = errors.Join(decodeErr, err) })
	for _, tr := range r.Tracks() {
		switch codec := tr.Codec.(type) {
		case *tscodecs.H265:
			r.OnDataH265(tr, func(pts, dts int64, au [][]byte) error {
				var frame [][]byte
				for _, n := range au {
					switch h265.NALUType((n[0] >> 1) & 0x3f) {
					case h265.NALUType_VPS_NUT:
						c.vps = n
					case h265.NALUType_SPS_NUT:
						c.sps = n
					case h265.NALUType_PPS_NUT:
						c.pps = n
					default:
						frame = append(frame, n)
					}
				}
				c.samples = append(c.samples, hevcSample{video: true, key: h265.IsRandomAccess(au), dts: dts / 90, cts: (pts - dts) / 90, nalus: frame})
				return nil
			})
		case *tscodecs.MPEG4Audio:
			asc, err := codec.Config.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			c.asc = asc
			r.OnDataMPEG4Audio(tr, func(pts int64, aus [][]byte) error {
				for i, au := range aus {
					c.samples = append(c.samples, hevcSample{dts: pts/90 + int64(i)*1024*1000/44100, aac: au})
				}
				return nil
			})
		}
	}
	for {
		if err := r.Read(); err != nil {
			break // io.EOF at the end of the file
		}
	}
	if decodeErr != nil {
		t.Fatalf("read the clip: %v", decodeErr)
	}
	if c.vps == nil || c.sps == nil || c.pps == nil || c.asc == nil || len(c.samples) < 100 {
		t.Fatalf("clip without parameter sets or samples: %d samples", len(c.samples))
	}
	slices.SortStableFunc(c.samples, func(a, b hevcSample) int { return int(a.dts - b.dts) })
	base := c.samples[0].dts
	for i := range c.samples {
		c.samples[i].dts -= base
	}
	return c
}

// record returns the clip's HEVCDecoderConfigurationRecord
// (ISO/IEC 14496-15 8.3.3.1) with 4-byte NAL unit lengths.
func (c *hevcClip) record() []byte {
	b := []byte{1}
	b = append(b, c.sps[3:15]...) // profile_tier_level: profile, compatibility, constraints, level
	b = append(b, 0xf0, 0x00, 0xfc, 0xfd, 0xf8, 0xf8, 0, 0, 0x0f, 3)
	for _, n := range [][]byte{c.vps, c.sps, c.pps} {
		b = append(b, 0x80|(n[0]>>1)&0x3f, 0, 1, byte(len(n)>>8), byte(len(n)))
		b = append(b, n...)
	}
	return b
}

// videoSeqHeader and videoFrame make the clip's FLV tag bodies in one of
// the two H.265 signallings: the legacy codec id 12, or Enhanced RTMP's
// hvc1 FourCC.
func (c *hevcClip) videoSeqHeader(enhanced bool) []byte {
	if enhanced {
		return append([]byte{0x80 | 1<<4 | 0, 'h', 'v', 'c', '1'}, c.record()...)
	}
	return append([]byte{1<<4 | 12, 0, 0, 0, 0}, c.record()...)
}

func (c *hevcClip) videoFrame(s hevcSample, enhanced bool) []byte {
	ft := byte(2)
	if s.key {
		ft = 1
	}
	var b []byte
	cts := []byte{byte(s.cts >> 16), byte(s.cts >> 8), byte(s.cts)}
	if enhanced {
		b = append([]byte{0x80 | ft<<4 | 1, 'h', 'v', 'c', '1'}, cts...)
	} else {
		b = append([]byte{ft<<4 | 12, 1}, cts...)
	}
	for _, n := range s.nalus {
		b = append(b, byte(len(n)>>24), byte(len(n)>>16), byte(len(n)>>8), byte(len(n)))
		b = append(b, n...)
	}
	return b
}

// sentTags are the video tag bodies a publisher wrote.
type sentTags struct {
	mu     sync.Mutex
	bodies map[string]bool
}

func (s *sentTags) add(b []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.bodies[string(b)] = true
}

func (s *sentTags) has(b []byte) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.bodies[string(b)]
}

// publishHEVC publishes the clip to url in real time until ctx ends or the
// clip is over, and records the video tag bodies it wrote in sent.
func publishHEVC(ctx context.Context, url string, c *hevcClip, enhanced bool, sent *sentTags) error {
	pub, err := rtmp.Dial(ctx, url)
	if err != nil {
		return err
	}
	defer pub.Close()
	if err := pub.Publish(ctx); err != nil {
		return err
	}
	seq := c.videoSeqHeader(enhanced)
	if err := pub.WriteMedia(rtmp.TypeVideo, 0, seq); err != nil {
		return err
	}
	sent.add(seq)
	if err := pub.WriteMedia(rtmp.TypeAudio, 0, append([]byte{0xaf, 0}, c.asc...)); err != nil {
		return err
	}
	start := time.Now()
	for _, s := range c.samples {
		if wait := time.Until(start.Add(time.Duration(s.dts) * time.Millisecond)); wait > 0 {
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(wait):
			}
		}
		if !s.video {
			if err := pub.WriteMedia(rtmp.TypeAudio, uint32(s.dts), append([]byte{0xaf, 1}, s.aac...)); err != nil {
				return err
			}
			continue
		}
		body := c.videoFrame(s, enhanced)
		sent.add(body)
		if err := pub.WriteMedia(rtmp.TypeVideo, uint32(s.dts), body); err != nil {
			return err
		}
	}
	return nil
}

// TestHEVC publishes H.265 + AAC with the legacy FLV codec id 12 and with
// Enhanced RTMP (hvc1), and reads it back: HTTP-FLV and RTMP pass the tags
// through byte for byte, starting with the sequence header and a keyframe;
// HLS carries H.265 in MPEG-TS that ffprobe identifies and ffmpeg decodes;
// the stream statistics show the codec and size.
func TestHEVC(t *testing.T) {
	clip := makeHEVCClip(t, 12*time.Second)
	for _, enhanced := range []bool{false, true} {
		name := "legacy id 12"
		if enhanced {
			name = "enhanced hvc1"
		}
		t.Run(name, func(t *testing.T) {
			ctx := testContext(t)
			srv := startServer(t)
			stream := streamName("hevc")
			pubCtx, stopPub := context.WithCancel(ctx)
			sent := &sentTags{bodies: map[string]bool{}}
			pubErr := make(chan error, 1)
			go func() { pubErr <- publishHEVC(pubCtx, srv.rtmpURL(stream), clip, enhanced, sent) }()
			defer func() {
				stopPub()
				if err := <-pubErr; err != nil {
					t.Errorf("publisher: %v", err)
				}
			}()
			st := srv.waitStats(t, stream, "live with H.265 video", liveTimeout, func(st streamStats, found bool) bool {
				return found && st.Video != nil && st.Audio != nil
			})
			if st.Video.Codec != "H265" || st.Video.Width != wantWidth || st.Video.Height != wantHeight || st.Audio.Codec != "AAC" {
				t.Errorf("stats: %v", st)
			}
			seq := clip.videoSeqHeader(enhanced)

			t.Run("http-flv", func(t *testing.T) {
				req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.flvURL(stream), nil)
				if err != nil {
					t.Fatal(err)
				}
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				fs, _, err := newFLVStream(resp.Body)
				if err != nil {
					t.Fatal(err)
				}
				var video [][]byte
				for len(video) < 30 {
					tag, err := fs.next()
					if err != nil {
						t.Fatal(err)
					}
					if tag.Type == tagVideo {
						video = append(video, tag.Body)
					}
				}
				checkHEVCTags(t, video, seq, sent, enhanced)
			})
			t.Run("rtmp", func(t *testing.T) {
				c, err := rtmp.Dial(ctx, srv.rtmpURL(stream))
				if err != nil {
					t.Fatal(err)
				}
				defer c.Close()
				if err := c.Play(ctx); err != nil {
					t.Fatal(err)
				}
				_ = c.SetDeadline(time.Now().Add(10 * time.Second))
				var video [][]byte
				for len(video) < 30 {
					m, err := c.ReadMessage()
					if err != nil {
						t.Fatal(err)
					}
					if m.Type == rtmp.TypeVideo {
						video = append(video, m.Data)
					}
				}
				checkHEVCTags(t, video, seq, sent, enhanced)
			})
			t.Run("hls", func(t *testing.T) {
				waitSegments(t, srv.hlsURL(stream), 2)
				streams, err := ffprobe(ctx, t, srv.hlsURL(stream))
				if err != nil {
					t.Fatal(err)
				}
				var v, a *probeStream
				for i := range streams {
					switch streams[i].CodecType {
					case "video":
						v = &streams[i]
					case "audio":
						a = &streams[i]
					}
				}
				if v == nil || v.CodecName != "hevc" || v.Width != wantWidth || v.Height != wantHeight || a == nil || a.CodecName != "aac" {
					t.Fatalf("ffprobe over HLS: %+v", streams)
				}
				res, err := decode(ctx, t, srv.hlsURL(stream))
				if err != nil {
					t.Fatal(err)
				}
				if res.Frames < 25 || res.Stderr != "" {
					t.Fatalf("decoded %d H.265 frames from 2 s of HLS; errors:\n%s", res.Frames, res.Stderr)
				}
			})
		})
	}
}

// checkHEVCTags checks a viewer's first video tags: the sequence header as
// published, then a keyframe, and every tag a body the publisher sent.
func checkHEVCTags(t *testing.T, video [][]byte, seq []byte, sent *sentTags, enhanced bool) {
	t.Helper()
	if !bytes.Equal(video[0], seq) {
		t.Fatalf("first video tag % x…, want the sequence header % x…", video[0][:min(8, len(video[0]))], seq[:8])
	}
	first := video[1]
	key := first[0]>>4&0x07 == 1
	if enhanced {
		key = key && first[0]&0x80 != 0 && string(first[1:5]) == "hvc1"
	} else {
		key = key && first[0]&0x0f == 12
	}
	if !key {
		t.Fatalf("second video tag % x…, want an H.265 keyframe", first[:min(8, len(first))])
	}
	for i, v := range video {
		if !sent.has(v) {
			t.Fatalf("video tag %d (% x…, %d bytes) is not one the publisher sent", i, v[:min(8, len(v))], len(v))
		}
	}
}
