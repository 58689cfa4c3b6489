package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// TestReadBack publishes the test pattern with ffmpeg and reads it back over
// every playback protocol with ffprobe (tracks and their parameters) and
// ffmpeg (2 s decode without errors).
func TestReadBack(t *testing.T) {
	srv := startServer(t)
	name := streamName("readback")
	startPublisher(t, srv.rtmpURL(name))
	srv.waitLive(t, name)

	cases := []struct {
		proto string
		url   string
		ready func(t *testing.T) // waits until the protocol can serve
	}{
		{proto: "rtmp", url: srv.rtmpURL(name)},
		{proto: "http-flv", url: srv.flvURL(name)},
		{proto: "hls", url: srv.hlsURL(name), ready: func(t *testing.T) { waitSegments(t, srv.hlsURL(name), 2) }},
	}
	for _, tc := range cases {
		t.Run(tc.proto, func(t *testing.T) {
			t.Parallel()
			ctx := testContext(t)
			if tc.ready != nil {
				tc.ready(t)
			}

			streams, err := ffprobe(ctx, t, tc.url)
			if err != nil {
				t.Fatal(err)
			}
			checkProbe(t, streams)

			res, err := decode(ctx, t, tc.url)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%s: decoded %d video frames", tc.proto, res.Frames)
			if res.Frames < 25 {
				t.Errorf("%s: decoded %d video frames from 2 s of 25 fps, want at least 25", tc.proto, res.Frames)
			}
			if res.Stderr != "" {
				t.Errorf("%s: ffmpeg reported errors while decoding:\n%s", tc.proto, res.Stderr)
			}
		})
	}
}

// checkProbe checks ffprobe's streams against the published test pattern.
func checkProbe(t *testing.T, streams []probeStream) {
	t.Helper()
	var video, audio []probeStream
	for _, s := range streams {
		switch s.CodecType {
		case "video":
			video = append(video, s)
		case "audio":
			audio = append(audio, s)
		default:
			t.Logf("ignoring %s stream %q", s.CodecType, s.CodecName)
		}
	}
	if len(video) != 1 || len(audio) != 1 {
		t.Fatalf("got %d video and %d audio streams, want 1 and 1: %+v", len(video), len(audio), streams)
	}
	v, a := video[0], audio[0]
	if v.CodecName != "h264" || v.Width != wantWidth || v.Height != wantHeight {
		t.Errorf("video stream: %s %dx%d, want h264 %dx%d", v.CodecName, v.Width, v.Height, wantWidth, wantHeight)
	}
	if a.CodecName != "aac" || a.SampleRate != fmt.Sprint(wantSampleRate) || a.Channels != wantChannels {
		t.Errorf("audio stream: %s %s Hz %d channels, want aac %d Hz %d channel", a.CodecName, a.SampleRate, a.Channels, wantSampleRate, wantChannels)
	}
}

// TestHTTPFLVFirstFrame checks that an HTTP-FLV viewer can start at once:
// the response begins with the FLV header, and within the first tags come the
// AVC sequence header and then a keyframe, straight from the GOP cache.
func TestHTTPFLVFirstFrame(t *testing.T) {
	srv := startServer(t)
	name := streamName("firstframe")
	startPublisher(t, srv.rtmpURL(name))
	srv.waitLive(t, name)
	ctx := testContext(t)

	// Join at different points of the first GOPs (a keyframe every 2 s).
	for i := range 4 {
		if i > 0 {
			time.Sleep(1100 * time.Millisecond)
		}
		elapsed, tags := joinFLV(ctx, t, srv.flvURL(name))
		t.Logf("join %d: keyframe after %v, tags: %v", i, elapsed.Round(time.Millisecond), tags)
		// Waiting for the next keyframe instead of sending the cached one
		// would take up to 2 s.
		if elapsed > 1500*time.Millisecond {
			t.Errorf("join %d: first keyframe after %v, want it from the GOP cache at once", i, elapsed)
		}
	}
}

// joinFLV GETs an HTTP-FLV stream, checks the response head, the FLV
// header and the first tags, and returns how long the first keyframe took
// and the tags up to it.
func joinFLV(ctx context.Context, t *testing.T, url string) (time.Duration, []flvTag) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	start := time.Now()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "video/x-flv" {
		t.Errorf("Content-Type = %q, want video/x-flv", ct)
	}
	s, flags, err := newFLVStream(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if flags&0x05 != 0x05 {
		t.Errorf("FLV header flags %#x, want audio (4) and video (1)", flags)
	}
	tags, err := checkStartsPlayable(s)
	if err != nil {
		t.Fatal(err)
	}
	return time.Since(start), tags
}

// TestWebSocketFLV checks WebSocket-FLV: binary messages carrying the same
// FLV byte stream, starting with the FLV header.
func TestWebSocketFLV(t *testing.T) {
	srv := startServer(t)
	name := streamName("wsflv")
	startPublisher(t, srv.rtmpURL(name))
	srv.waitLive(t, name)
	ctx, cancel := context.WithTimeout(testContext(t), 15*time.Second)
	defer cancel()

	c, resp, err := websocket.Dial(ctx, srv.wsURL(name), nil)
	if err != nil {
		t.Fatalf("WebSocket dial %s: %v (response %v)", srv.wsURL(name), err, resp)
	}
	defer c.CloseNow()
	c.SetReadLimit(32 << 20) // a batch with a keyframe exceeds the 32 KiB default

	typ, first, err := c.Read(ctx)
	if err != nil {
		t.Fatalf("first WebSocket message: %v", err)
	}
	if typ != websocket.MessageBinary {
		t.Fatalf("first WebSocket message is %v, want binary", typ)
	}
	if !bytes.HasPrefix(first, []byte("FLV")) {
		t.Fatalf("first WebSocket message starts with % x, want \"FLV\"", first[:min(len(first), 16)])
	}
	s, _, err := newFLVStream(bytesReaderFrom(first, &wsStream{ctx: ctx, c: c}))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := checkStartsPlayable(s); err != nil {
		t.Fatal(err)
	}
	// And it keeps coming.
	frames := 0
	for frames < 25 {
		tag, err := s.next()
		if err != nil {
			t.Fatalf("after %d video frames: %v", frames, err)
		}
		if tag.isVideoFrame() {
			frames++
		}
	}
	_ = c.Close(websocket.StatusNormalClosure, "")
}

// wsStream reads the concatenated payloads of binary WebSocket messages.
type wsStream struct {
	ctx context.Context
	c   *websocket.Conn
	cur io.Reader
}

func (w *wsStream) Read(p []byte) (int, error) {
	for {
		if w.cur == nil {
			typ, r, err := w.c.Reader(w.ctx)
			if err != nil {
				return 0, err
			}
			if typ != websocket.MessageBinary {
				return 0, fmt.Errorf("WebSocket message of type %v, want binary", typ)
			}
			w.cur = r
		}
		n, err := w.cur.Read(p)
		if errors.Is(err, io.EOF) {
			w.cur = nil
			if n == 0 {
				continue
			}
			err = nil
		}
		return n, err
	}
}

// TestHTTPFLVHeadAndNotFound checks HEAD on a live stream's .flv and the
// JSON 404 for streams that are not live.
func TestHTTPFLVHeadAndNotFound(t *testing.T) {
	srv := startServer(t)
	name := streamName("head")
	startPublisher(t, srv.rtmpURL(name))
	srv.waitLive(t, name)
	ctx := testContext(t)

	t.Run("HEAD live", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, http.MethodHead, srv.flvURL(name), nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("HEAD %s: %v", srv.flvURL(name), err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("HEAD %s: %s, want 200", srv.flvURL(name), resp.Status)
		}
		if ct := resp.Header.Get("Content-Type"); ct != "video/x-flv" {
			t.Errorf("Content-Type = %q, want video/x-flv", ct)
		}
		if o := resp.Header.Get("Access-Control-Allow-Origin"); o != "*" {
			t.Errorf("Access-Control-Allow-Origin = %q, want *", o)
		}
	})

	for _, method := range []string{http.MethodGet, http.MethodHead} {
		t.Run(method+" unknown", func(t *testing.T) {
			ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			defer cancel()
			u := srv.flvURL(streamName("nosuchstream"))
			req, _ := http.NewRequestWithContext(ctx, method, u, nil)
			start := time.Now()
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatalf("%s %s: %v (after %v)", method, u, err, time.Since(start))
			}
			defer resp.Body.Close()
			body, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatalf("%s %s: reading body: %v", method, u, err)
			}
			if resp.StatusCode != http.StatusNotFound {
				t.Fatalf("%s %s: %s, want 404; body %q", method, u, resp.Status, body)
			}
			if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Errorf("Content-Type = %q, want application/json", ct)
			}
			if method == http.MethodHead {
				return // no body
			}
			var e errorBody
			if err := json.Unmarshal(body, &e); err != nil {
				t.Fatalf("404 body %q is not JSON: %v", body, err)
			}
			if e.Error.Code != "stream_not_found" || e.Error.Message == "" {
				t.Errorf("404 body %q: want error code stream_not_found and a message", body)
			}
		})
	}
}
