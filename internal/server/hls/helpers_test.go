package hls

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/formats/mpegts"
	tscodecs "github.com/bluenviron/mediacommon/v2/pkg/formats/mpegts/codecs"

	"roomcast/internal/hub"
	"roomcast/internal/media"
)

// Synthetic H.264 + AAC: a real SPS/PPS and AudioSpecificConfig, fake
// slices (the muxer never decodes pictures).
var (
	testSPS = []byte{0x67, 0x64, 0x00, 0x0c, 0xac, 0x3b, 0x50, 0xb0, 0x4b, 0x42, 0x00, 0x00, 0x03, 0x00, 0x02, 0x00, 0x00, 0x03, 0x00, 0x3d, 0x08}
	testPPS = []byte{0x68, 0xee, 0x3c, 0x80}
	testIDR = []byte{0x65, 0x88, 0x84, 0x00, 0x33, 0xff}
	testP   = []byte{0x41, 0x9a, 0x21, 0x6c, 0x42}
	testASC = []byte{0x12, 0x10} // AAC-LC 44.1 kHz stereo
	testAAC = []byte{0x21, 0x10, 0x04, 0x60, 0x8c, 0x1c}
)

func avcSeqBody() []byte {
	b := []byte{0x17, 0, 0, 0, 0, 1, testSPS[1], testSPS[2], testSPS[3], 0xff, 0xe1, 0, byte(len(testSPS))}
	b = append(b, testSPS...)
	b = append(b, 1, 0, byte(len(testPPS)))
	return append(b, testPPS...)
}

func frameBody(key bool) []byte {
	nal := testP
	b := []byte{0x27, 1, 0, 0, 0}
	if key {
		nal, b[0] = testIDR, 0x17
	}
	b = append(b, 0, 0, 0, byte(len(nal)))
	return append(b, nal...)
}

// testEnv is a hub, an HLS server running on it, and an HTTP server with
// the HLS server mounted at /live/.
type testEnv struct {
	hub *hub.Hub
	srv *Server
	ts  *httptest.Server
}

func newEnv(t *testing.T, hcfg hub.Config, cfg Config) *testEnv {
	t.Helper()
	log := slog.New(slog.NewTextHandler(testLogOut, &slog.HandlerOptions{Level: slog.LevelDebug}))
	if hcfg.QueueFrames == 0 {
		hcfg.QueueFrames = 1 << 15 // tests publish faster than real time
	}
	h := hub.New(hcfg, log)
	srv := New(h, cfg, log)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	select {
	case <-srv.running:
	case err := <-done:
		t.Fatalf("Run: %v", err)
	}
	mux := http.NewServeMux()
	mux.Handle("/live/", srv)
	ts := httptest.NewServer(mux)
	t.Cleanup(func() {
		ts.Close()
		h.Close()
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(5 * time.Second):
			t.Error("Run did not return")
		}
	})
	return &testEnv{hub: h, srv: srv, ts: ts}
}

// publisher writes a synthetic 25 fps H.264 + 44.1 kHz AAC stream.
type publisher struct {
	t     *testing.T
	p     *hub.Publisher
	dts   int64 // next video frame
	audio int   // AAC frames written
}

func (e *testEnv) publish(t *testing.T, name string) *publisher {
	t.Helper()
	p, err := e.hub.Publish(name, hub.PublisherInfo{Protocol: "test"})
	if err != nil {
		t.Fatal(err)
	}
	// The muxer subscribes from its own goroutine: wait for it, since the
	// test publishes faster than real time and a late subscriber starts at
	// the newest keyframe.
	deadline := time.Now().Add(5 * time.Second)
	for {
		if ls := e.srv.lookup(name); ls != nil && ls.stream() == p.Stream() {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no muxer for %s", name)
		}
		time.Sleep(time.Millisecond)
	}
	return &publisher{t: t, p: p}
}

func (p *publisher) write(typ media.TagType, dts int64, body []byte) {
	p.t.Helper()
	pkt, err := media.NewPacket(typ, dts, body)
	if err != nil {
		p.t.Fatal(err)
	}
	if err := p.p.Write(pkt); err != nil {
		p.t.Fatalf("write: %v", err)
	}
}

func (p *publisher) headers() {
	p.write(media.TagVideo, p.dts, avcSeqBody())
	p.write(media.TagAudio, p.dts, append([]byte{0xaf, 0}, testASC...))
}

// media writes ms milliseconds of media with a keyframe every gop ms,
// the first frame being a keyframe.
func (p *publisher) media(ms, gop int64) {
	p.t.Helper()
	end := p.dts + ms
	start := p.dts
	for ; p.dts < end; p.dts += 40 {
		p.write(media.TagVideo, p.dts, frameBody((p.dts-start)%gop == 0))
		for {
			adts := int64(p.audio) * 1024 * 1000 / 44100
			if adts > p.dts {
				break
			}
			p.write(media.TagAudio, adts, append([]byte{0xaf, 1}, testAAC...))
			p.audio++
		}
	}
}

// get fetches a path of the test server.
func (e *testEnv) get(t *testing.T, method, path string, hdr ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, e.ts.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := e.ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}

// playlist is a parsed media playlist.
type playlist struct {
	text       string
	target     int
	mediaSeq   uint64
	discSeq    uint64
	uris       []string
	durations  []float64
	discBefore []bool
	ended      bool

	// Low-Latency HLS.
	serverControl string
	partTarget    float64
	parts         []llPart // every EXT-X-PART, in order
	hint          string   // EXT-X-PRELOAD-HINT URI
	dates         int      // EXT-X-PROGRAM-DATE-TIME tags
}

// llPart is an EXT-X-PART tag.
type llPart struct {
	uri         string
	duration    float64
	independent bool
	segment     int // index in uris of its segment; len(uris) for the open one
}

var attrRE = regexp.MustCompile(`([A-Z-]+)=("[^"]*"|[^",]*)`)

// attrs parses an attribute list.
func attrs(t *testing.T, list string) map[string]string {
	t.Helper()
	m := map[string]string{}
	for _, kv := range attrRE.FindAllStringSubmatch(list, -1) {
		m[kv[1]] = strings.Trim(kv[2], `"`)
	}
	return m
}

var tagRE = regexp.MustCompile(`^#(EXT[A-Z0-9-]*)(?::(.*))?$`)

func parsePlaylist(t *testing.T, text string) playlist {
	t.Helper()
	pl := playlist{text: text}
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	if lines[0] != "#EXTM3U" {
		t.Fatalf("playlist starts with %q", lines[0])
	}
	disc := false
	for _, l := range lines[1:] {
		m := tagRE.FindStringSubmatch(l)
		if m == nil {
			if l == "" || strings.HasPrefix(l, "#") {
				t.Fatalf("bad line %q", l)
			}
			pl.uris = append(pl.uris, l)
			pl.discBefore = append(pl.discBefore, disc)
			disc = false
			continue
		}
		switch m[1] {
		case "EXT-X-TARGETDURATION":
			pl.target, _ = strconv.Atoi(m[2])
		case "EXT-X-MEDIA-SEQUENCE":
			pl.mediaSeq, _ = strconv.ParseUint(m[2], 10, 64)
		case "EXT-X-DISCONTINUITY-SEQUENCE":
			pl.discSeq, _ = strconv.ParseUint(m[2], 10, 64)
		case "EXT-X-DISCONTINUITY":
			disc = true
		case "EXTINF":
			d, err := strconv.ParseFloat(strings.TrimSuffix(m[2], ","), 64)
			if err != nil {
				t.Fatalf("EXTINF %q", m[2])
			}
			pl.durations = append(pl.durations, d)
		case "EXT-X-ENDLIST":
			pl.ended = true
		case "EXT-X-SERVER-CONTROL":
			pl.serverControl = m[2]
		case "EXT-X-PART-INF":
			pl.partTarget, _ = strconv.ParseFloat(attrs(t, m[2])["PART-TARGET"], 64)
		case "EXT-X-PART":
			a := attrs(t, m[2])
			d, err := strconv.ParseFloat(a["DURATION"], 64)
			if err != nil || a["URI"] == "" {
				t.Fatalf("bad part %q", l)
			}
			pl.parts = append(pl.parts, llPart{uri: a["URI"], duration: d, independent: a["INDEPENDENT"] == "YES", segment: len(pl.uris)})
		case "EXT-X-PRELOAD-HINT":
			if a := attrs(t, m[2]); a["TYPE"] == "PART" {
				pl.hint = a["URI"]
			}
		case "EXT-X-PROGRAM-DATE-TIME":
			if _, err := time.Parse(time.RFC3339Nano, m[2]); err != nil {
				t.Fatalf("bad %q: %v", l, err)
			}
			pl.dates++
		case "EXT-X-VERSION":
		default:
			t.Fatalf("unexpected tag %q", l)
		}
	}
	if len(pl.durations) != len(pl.uris) {
		t.Fatalf("%d EXTINF for %d URIs", len(pl.durations), len(pl.uris))
	}
	return pl
}

// waitPlaylist polls a stream's playlist until ok accepts it.
func (e *testEnv) waitPlaylist(t *testing.T, name string, ok func(playlist) bool) playlist {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	var last string
	for time.Now().Before(deadline) {
		resp, body := e.get(t, "GET", "/live/"+name+".m3u8")
		if resp.StatusCode == http.StatusOK {
			last = string(body)
			if pl := parsePlaylist(t, last); ok(pl) {
				return pl
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("playlist of %s never as expected; last:\n%s", name, last)
	return playlist{}
}

// decodeTS checks that a segment is MPEG-TS with H.264 and AAC tracks and
// returns its video DTS values.
func decodeTS(t *testing.T, data []byte) []int64 {
	t.Helper()
	r := &mpegts.Reader{R: bytes.NewReader(data)}
	if err := r.Initialize(); err != nil {
		t.Fatalf("segment: %v", err)
	}
	var dts []int64
	var video, audio bool
	for _, tr := range r.Tracks() {
		switch tr.Codec.(type) {
		case *tscodecs.H264:
			video = true
			r.OnDataH264(tr, func(_, d int64, _ [][]byte) error {
				dts = append(dts, d)
				return nil
			})
		case *tscodecs.MPEG4Audio:
			audio = true
		}
	}
	if !video || !audio {
		t.Fatalf("tracks: video %v, audio %v", video, audio)
	}
	for {
		if err := r.Read(); err != nil {
			if !errors.Is(err, io.EOF) {
				t.Fatal(err)
			}
			return dts
		}
	}
}

// testLogOut receives the servers' logs; point it at os.Stderr to debug.
var testLogOut io.Writer = io.Discard
