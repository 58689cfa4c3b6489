package bench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"roomcast/internal/media"
	"roomcast/internal/protocol/flv"
)

// liveFLV serves a synthetic live FLV stream at 25 fps video (a keyframe
// every 25 frames) plus audio, timestamped with the time since start.
type liveFLV struct {
	start time.Time
	// gop, when set, makes every viewer start with a cached GOP: a
	// keyframe 480 ms old and the inter frames since, sent at once.
	gop bool
	// endAfter, when set, ends each response after that long.
	endAfter time.Duration
}

func (s *liveFLV) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "video/x-flv")
	fl := w.(http.Flusher)
	now := time.Since(s.start).Milliseconds()
	b := flv.AppendHeader(nil, true, true)
	b = flv.AppendTag(b, media.TagVideo, now, []byte{0x17, 0, 0, 0, 0, 1, 0x64, 0, 0x1f})
	b = flv.AppendTag(b, media.TagAudio, now, []byte{0xAF, 0, 0x12, 0x10})
	if s.gop {
		for i := int64(0); i < 12; i++ {
			hdr := byte(0x27)
			if i == 0 {
				hdr = 0x17
			}
			b = flv.AppendTag(b, media.TagVideo, now-480+40*i, []byte{hdr, 1, 0, 0, 0, 0, 0, 0, 1, 0x41})
		}
	} else {
		b = flv.AppendTag(b, media.TagVideo, now, []byte{0x17, 1, 0, 0, 0, 0, 0, 0, 1, 0x65})
	}
	if _, err := w.Write(b); err != nil {
		return
	}
	fl.Flush()
	tick := time.NewTicker(40 * time.Millisecond)
	defer tick.Stop()
	var end <-chan time.Time
	if s.endAfter > 0 {
		end = time.After(s.endAfter)
	}
	frame := make([]byte, 2000)
	for n := 1; ; n++ {
		select {
		case <-r.Context().Done():
			return
		case <-end:
			return
		case <-tick.C:
		}
		ts := time.Since(s.start).Milliseconds()
		frame[0], frame[1] = 0x27, 1
		if n%25 == 0 {
			frame[0] = 0x17
		}
		b = flv.AppendTag(b[:0], media.TagVideo, ts, frame)
		b = flv.AppendTag(b, media.TagAudio, ts, []byte{0xAF, 1, 0x21, 0, 0, 0})
		if _, err := w.Write(b); err != nil {
			return
		}
		fl.Flush()
	}
}

func checkHealthy(t *testing.T, rep *Report, viewers int) {
	t.Helper()
	if rep.Connected != viewers || rep.Failed != 0 {
		t.Errorf("connected %d failed %d, want %d/0; errors %v", rep.Connected, rep.Failed, viewers, rep.Errors)
	}
	if rep.Bytes <= 0 || rep.Mbps <= 0 {
		t.Errorf("bytes %d, %v Mbit/s", rep.Bytes, rep.Mbps)
	}
	if rep.TTFF.Count != viewers || rep.TTFF.Max <= 0 {
		t.Errorf("TTFF %+v", rep.TTFF)
	}
	if rep.Latency.Count == 0 || rep.Latency.P99 > 1000 {
		t.Errorf("latency %+v", rep.Latency)
	}
	if rep.Behind != 0 {
		t.Errorf("%d behind: %+v", rep.Behind, rep)
	}
}

// kernelArrival is the arrival clock of FLV viewers on this platform.
func kernelArrival() string {
	if runtime.GOOS == "linux" {
		return arrivalKernel
	}
	return arrivalUser
}

// checkArrival checks the report's arrival clock.
func checkArrival(t *testing.T, rep *Report, want string) {
	t.Helper()
	if rep.Arrival != want {
		t.Errorf("arrival %q (%s), want %q", rep.Arrival, rep.ArrivalNote, want)
	}
	if want == arrivalKernel && (rep.StampedReads == 0 || rep.StampedReads*10 < rep.Reads*9) {
		t.Errorf("%d of %d reads stamped (%s)", rep.StampedReads, rep.Reads, rep.ArrivalNote)
	}
}

func TestRunPlayHTTPFLV(t *testing.T) {
	srv := httptest.NewServer(&liveFLV{start: time.Now().Add(-10 * time.Second), gop: true})
	defer srv.Close()

	var out bytes.Buffer
	rep, err := RunPlay(context.Background(), Config{
		URL:      srv.URL + "/live/test.flv",
		Viewers:  4,
		Duration: 1500 * time.Millisecond,
		Ramp:     300 * time.Millisecond,
		PID:      os.Getpid(),
		Out:      &out,
	})
	if err != nil {
		t.Fatal(err)
	}
	checkHealthy(t, rep, 4)
	if rep.Protocol != ProtoFLV || rep.WindowSeconds < 1.4 || rep.Interrupted {
		t.Errorf("protocol %s window %v interrupted %v", rep.Protocol, rep.WindowSeconds, rep.Interrupted)
	}
	// Each viewer got a 480 ms old cached GOP on connect.
	if rep.JoinBurstFrames < 4*6 || rep.LatencyAll.Max < 300 || rep.Latency.Max >= rep.LatencyAll.Max {
		t.Errorf("join burst %d frames, latency all %+v, live %+v", rep.JoinBurstFrames, rep.LatencyAll, rep.Latency)
	}
	// About 25 × 2 KB + 25 × 6 B per second per viewer.
	if perViewer := rep.Mbps / 4; perViewer < 0.2 || perViewer > 0.6 {
		t.Errorf("%v Mbit/s per viewer", perViewer)
	}
	p := rep.Process
	if p == nil || p.Error != "" || p.RSSPeakKB <= 0 || p.ViewerSeconds < 4*1.4 {
		t.Errorf("process %+v", p)
	}
	checkArrival(t, rep, kernelArrival())
	if !strings.Contains(out.String(), "latency (live)") || !strings.Contains(out.String(), "baseline") ||
		!strings.Contains(out.String(), "arrival") {
		t.Errorf("table:\n%s", out.String())
	}
	t.Logf("\n%s", out.String())
}

func TestRunPlayBehindAndFailed(t *testing.T) {
	srv := httptest.NewServer(&liveFLV{start: time.Now(), endAfter: 200 * time.Millisecond})
	defer srv.Close()
	rep, err := RunPlay(context.Background(), Config{URL: srv.URL + "/s.flv", Viewers: 2, Duration: 600 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Connected != 2 || rep.Behind != 2 || rep.BehindDisconnected != 2 ||
		len(rep.Errors) != 1 || !strings.Contains(rep.Errors[0].Message, "stream ended") {
		t.Errorf("report %+v", rep)
	}

	// Nothing listens on a closed listener's port.
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	rep, err = RunPlay(context.Background(), Config{URL: "http://" + addr + "/s.flv", Viewers: 3, Duration: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Failed != 3 || rep.Connected != 0 || rep.Behind != 0 || len(rep.Errors) != 1 {
		t.Errorf("report %+v", rep)
	}

	// A 404 fails the viewers.
	srv404 := httptest.NewServer(http.NotFoundHandler())
	defer srv404.Close()
	rep, err = RunPlay(context.Background(), Config{URL: srv404.URL + "/s.flv", Viewers: 1, Duration: 100 * time.Millisecond})
	if err != nil || rep.Failed != 1 || !strings.Contains(rep.Errors[0].Message, "404") {
		t.Errorf("404: %+v, %v", rep, err)
	}
}

func TestRunPlayInterrupted(t *testing.T) {
	srv := httptest.NewServer(&liveFLV{start: time.Now()})
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 700*time.Millisecond)
	defer cancel()
	start := time.Now()
	rep, err := RunPlay(ctx, Config{URL: srv.URL + "/s.flv", Viewers: 2, Duration: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Interrupted || time.Since(start) > 5*time.Second || rep.TTFF.Count != 2 {
		t.Errorf("interrupted %v after %v, %+v", rep.Interrupted, time.Since(start), rep)
	}
}

// wsFLV serves the liveFLV stream over WebSocket, one tag per message,
// after a ping that the client must answer.
type wsFLV struct {
	start  time.Time
	pongs  atomic.Int32
	frames atomic.Int32
}

func (s *wsFLV) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	key := r.Header.Get("Sec-WebSocket-Key")
	if r.Header.Get("Upgrade") != "websocket" || key == "" {
		http.Error(w, "not websocket", http.StatusBadRequest)
		return
	}
	c, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return
	}
	defer c.Close()
	fmt.Fprintf(brw, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n", wsAcceptKey(key))
	brw.Write(wsFrame(true, wsOpPing, []byte("p"), nil))
	brw.Flush()
	go func() { // read the pong: masked, opcode 10, payload "p"
		var f [7]byte
		if _, err := io.ReadFull(brw, f[:]); err == nil && f[0] == 0x8A && f[1] == 0x81 && f[6]^f[2] == 'p' {
			s.pongs.Add(1)
		}
	}()
	send := func(b []byte) bool {
		_, err := c.Write(wsFrame(true, wsOpBinary, b, nil))
		return err == nil
	}
	now := time.Since(s.start).Milliseconds()
	if !send(flv.AppendHeader(nil, true, true)) ||
		!send(flv.AppendTag(nil, media.TagVideo, now, []byte{0x17, 0, 0, 0, 0, 1})) ||
		!send(flv.AppendTag(nil, media.TagVideo, now, []byte{0x17, 1, 0, 0, 0, 1})) {
		return
	}
	tick := time.NewTicker(40 * time.Millisecond)
	defer tick.Stop()
	for range tick.C {
		ts := time.Since(s.start).Milliseconds()
		if !send(flv.AppendTag(nil, media.TagVideo, ts, make([]byte, 1500))) {
			return
		}
		s.frames.Add(1)
	}
}

func TestRunPlayWSFLV(t *testing.T) {
	h := &wsFLV{start: time.Now()}
	srv := httptest.NewServer(h)
	defer srv.Close()
	rep, err := RunPlay(context.Background(), Config{
		URL:      "ws" + strings.TrimPrefix(srv.URL, "http") + "/live/test.flv",
		Viewers:  3,
		Duration: time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	checkHealthy(t, rep, 3)
	if rep.Protocol != ProtoWSFLV || h.pongs.Load() != 3 {
		t.Errorf("protocol %s, %d pongs", rep.Protocol, h.pongs.Load())
	}
	checkArrival(t, rep, kernelArrival())
}

// liveHLS serves a synthetic live HLS stream of 500 ms MPEG-TS segments:
// segment k holds 12 frames from k·500 ms and is listed once it is
// complete, with the 3 newest segments in the playlist.
type liveHLS struct {
	t     testing.TB
	start time.Time
	gets  atomic.Int32
}

func (s *liveHLS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.gets.Add(1)
	elapsed := time.Since(s.start).Milliseconds()
	switch {
	case r.URL.Path == "/hls/master.m3u8":
		fmt.Fprint(w, "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=500000\nlive/index.m3u8\n")
	case r.URL.Path == "/hls/live/index.m3u8":
		done := elapsed / 500 // segments 0..done-1 are complete
		first := max(done-3, 0)
		fmt.Fprintf(w, "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:1\n#EXT-X-MEDIA-SEQUENCE:%d\n", first)
		for k := first; k < done; k++ {
			fmt.Fprintf(w, "#EXTINF:0.500,\nseg%d.ts\n", k)
		}
	case strings.HasPrefix(r.URL.Path, "/hls/live/seg"):
		var k int64
		if _, err := fmt.Sscanf(r.URL.Path, "/hls/live/seg%d.ts", &k); err != nil || (k+1)*500 > elapsed {
			http.NotFound(w, r)
			return
		}
		dts := make([]int64, 12)
		for i := range dts {
			dts[i] = 10_000 + k*500 + int64(i)*40 // stream timestamps start at 10 s
		}
		w.Header().Set("Content-Type", "video/mp2t")
		w.Write(makeSegment(s.t, dts, true))
	default:
		http.NotFound(w, r)
	}
}

func TestRunPlayHLS(t *testing.T) {
	h := &liveHLS{t: t, start: time.Now().Add(-1600 * time.Millisecond)}
	srv := httptest.NewServer(h)
	defer srv.Close()
	rep, err := RunPlay(context.Background(), Config{
		URL:      srv.URL + "/hls/master.m3u8",
		Viewers:  3,
		Duration: 2 * time.Second,
		JSON:     true,
	})
	if err != nil {
		t.Fatal(err)
	}
	checkHealthy(t, rep, 3)
	// The first segment of each viewer was complete before it connected.
	if rep.JoinBurstFrames < 3*12 || rep.BehindThresholdMS != 2500 || rep.SegmentsSkipped != 0 {
		t.Errorf("join burst %d, threshold %v, skipped %d", rep.JoinBurstFrames, rep.BehindThresholdMS, rep.SegmentsSkipped)
	}
	checkArrival(t, rep, arrivalUser)
	// Latency spans a segment: frames at its start wait ~500 ms more.
	if rep.Latency.Max < 300 {
		t.Errorf("latency %+v", rep.Latency)
	}
}

func TestMain_(t *testing.T) {
	var stdout, stderr bytes.Buffer
	ctx := context.Background()
	if err := Main(ctx, nil, &stdout, &stderr); !errors.Is(err, ErrUsage) || !strings.Contains(stderr.String(), "-viewers") {
		t.Errorf("no args: %v\n%s", err, stderr.String())
	}
	if err := Main(ctx, []string{"play", "-h"}, &stdout, &stderr); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("-h: %v", err)
	}
	for _, args := range [][]string{
		{"record"},
		{"play"},
		{"play", "--viewers", "x", "--url", "http://127.0.0.1/s.flv"},
		{"play", "--url", "http://127.0.0.1/s.flv", "extra"},
	} {
		if err := Main(ctx, args, &stdout, &stderr); !errors.Is(err, ErrUsage) {
			t.Errorf("%q: %v", args, err)
		}
	}
	if err := Main(ctx, []string{"play", "--url", "http://192.0.2.1/s.flv"}, &stdout, &stderr); !errors.Is(err, ErrRemoteHost) {
		t.Errorf("remote: %v", err)
	}

	srv := httptest.NewServer(&liveFLV{start: time.Now()})
	defer srv.Close()
	stdout.Reset()
	err := Main(ctx, []string{"play", "--url", srv.URL + "/s.flv", "--viewers", "2", "--duration", "300ms", "--json", "--arrival", "user"}, &stdout, &stderr)
	if err != nil {
		t.Fatal(err)
	}
	var rep Report
	if err := json.NewDecoder(bufio.NewReader(&stdout)).Decode(&rep); err != nil || rep.Connected != 2 {
		t.Fatalf("json report %+v, %v", rep, err)
	}
	checkArrival(t, &rep, arrivalUser)
	if rep.ArrivalNote != "--arrival user" || rep.Reads == 0 || rep.StampedReads != 0 {
		t.Errorf("arrival %q (%s), %d of %d reads stamped", rep.Arrival, rep.ArrivalNote, rep.StampedReads, rep.Reads)
	}
	if err := Main(ctx, []string{"play", "--url", srv.URL + "/s.flv", "--arrival", "wall"}, &stdout, &stderr); !errors.Is(err, ErrConfig) {
		t.Errorf("--arrival wall: %v", err)
	}
}
