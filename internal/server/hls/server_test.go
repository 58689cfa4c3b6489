package hls

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"roomcast/internal/hub"
	hlsproto "roomcast/internal/protocol/hls"
)

func checkCORS(t *testing.T, resp *http.Response) {
	t.Helper()
	if got := resp.Header.Get("Access-Control-Allow-Origin"); got != "*" {
		t.Errorf("%s: Access-Control-Allow-Origin %q", resp.Request.URL.Path, got)
	}
}

func TestLivePlaylistAndSegments(t *testing.T) {
	e := newEnv(t, hub.Config{}, Config{TargetDuration: time.Second, WindowSegments: 3})
	p := e.publish(t, "room1")
	p.headers()
	p.media(10000, 1000)

	// Keyframes every second: segments 0..8 are complete, the 10th open.
	pl := e.waitPlaylist(t, "room1", func(pl playlist) bool { return pl.mediaSeq == 6 })
	resp, body := e.get(t, "GET", "/live/room1.m3u8")
	checkCORS(t, resp)
	for k, want := range map[string]string{
		"Content-Type":   "application/vnd.apple.mpegurl",
		"Cache-Control":  "no-cache",
		"Content-Length": strconv.Itoa(len(body)),
	} {
		if got := resp.Header.Get(k); got != want {
			t.Errorf("playlist %s: %q, want %q", k, got, want)
		}
	}
	if pl.target != 1 || len(pl.uris) != 3 || pl.ended || pl.discSeq != 0 {
		t.Fatalf("playlist:\n%s", pl.text)
	}
	token := ""
	for i, uri := range pl.uris {
		stream, name, ok := strings.Cut(uri, "/")
		tok, seq, ok2 := parseSegmentName(name)
		if !ok || !ok2 || stream != "room1" || seq != uint64(6+i) || (token != "" && tok != token) {
			t.Fatalf("segment URI %q", uri)
		}
		token = tok
		if pl.durations[i] != 1 {
			t.Errorf("segment %d lasts %v", seq, pl.durations[i])
		}
		resp, data := e.get(t, "GET", "/live/"+uri)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %s", uri, resp.Status)
		}
		checkCORS(t, resp)
		if ct, cc := resp.Header.Get("Content-Type"), resp.Header.Get("Cache-Control"); ct != "video/mp2t" || cc != "public, max-age=3600" {
			t.Errorf("segment headers %q, %q", ct, cc)
		}
		dts := decodeTS(t, data)
		if len(dts) != 25 || dts[1]-dts[0] != 40*90 {
			t.Errorf("segment %d: %d frames", seq, len(dts))
		}
	}

	// Two windows stay fetchable (RFC 8216 6.2.2), older ones are gone.
	seg := func(seq int) string { return "/live/room1/" + token + "-" + strconv.Itoa(seq) + ".ts" }
	for seq, want := range map[int]int{0: 404, 1: 404, 2: 200, 5: 200, 9: 404} {
		if resp, _ := e.get(t, "GET", seg(seq)); resp.StatusCode != want {
			t.Errorf("segment %d: %s, want %d", seq, resp.Status, want)
		}
	}

	// HEAD, ranges and conditional requests.
	resp, data := e.get(t, "HEAD", seg(6))
	if resp.StatusCode != 200 || len(data) != 0 || resp.ContentLength <= 0 || resp.ContentLength%188 != 0 {
		t.Errorf("HEAD segment: %s, %d bytes, length %d", resp.Status, len(data), resp.ContentLength)
	}
	// The open segment's parts may still be coming (the muxer runs behind
	// the publisher on a busy machine): HEAD must give the length of the
	// playlist a GET right before and right after it returns.
	for deadline := time.Now().Add(10 * time.Second); ; {
		_, before := e.get(t, "GET", "/live/room1.m3u8")
		resp, data = e.get(t, "HEAD", "/live/room1.m3u8")
		_, after := e.get(t, "GET", "/live/room1.m3u8")
		if resp.StatusCode != 200 || len(data) != 0 {
			t.Fatalf("HEAD playlist: %s, %d bytes", resp.Status, len(data))
		}
		if string(before) == string(after) && resp.ContentLength == int64(len(after)) {
			break
		}
		if string(before) == string(after) || time.Now().After(deadline) {
			t.Fatalf("HEAD playlist: length %d, GET %d bytes", resp.ContentLength, len(after))
		}
	}
	resp, data = e.get(t, "GET", seg(6), "Range", "bytes=0-187")
	if resp.StatusCode != http.StatusPartialContent || len(data) != 188 || data[0] != 0x47 {
		t.Errorf("range: %s, %d bytes", resp.Status, len(data))
	}
	resp, _ = e.get(t, "GET", seg(6), "If-None-Match", resp.Header.Get("ETag"))
	if resp.StatusCode != http.StatusNotModified {
		t.Errorf("If-None-Match: %s", resp.Status)
	}

	// Preflight and other methods.
	resp, _ = e.get(t, "OPTIONS", seg(6), "Origin", "https://example.com", "Access-Control-Request-Method", "GET")
	if resp.StatusCode != http.StatusNoContent {
		t.Errorf("OPTIONS: %s", resp.Status)
	}
	checkCORS(t, resp)
	resp, _ = e.get(t, "POST", "/live/room1.m3u8")
	if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") == "" {
		t.Errorf("POST: %s, Allow %q", resp.Status, resp.Header.Get("Allow"))
	}
	checkCORS(t, resp)

	if st := e.hub.Stream("room1").Stats(); st.BytesOut == 0 {
		t.Errorf("bytes out not counted: %+v", st)
	}
}

func TestPlaylistWaitsForFirstSegment(t *testing.T) {
	e := newEnv(t, hub.Config{}, Config{TargetDuration: time.Second, WindowSegments: 3})
	p := e.publish(t, "early")
	p.headers()
	type result struct {
		resp *http.Response
		body []byte
		took time.Duration
	}
	res := make(chan result, 1)
	go func() {
		start := time.Now()
		resp, body := e.get(t, "GET", "/live/early.m3u8")
		res <- result{resp, body, time.Since(start)}
	}()
	time.Sleep(300 * time.Millisecond)
	p.media(2500, 1000)
	r := <-res
	if r.resp.StatusCode != 200 {
		t.Fatalf("playlist: %s %s", r.resp.Status, r.body)
	}
	if pl := parsePlaylist(t, string(r.body)); len(pl.uris) == 0 || r.took < 300*time.Millisecond {
		t.Errorf("after %v:\n%s", r.took, r.body)
	}

	// A live stream that never gets a segment: 503 after 1.5 targets.
	e.publish(t, "silent").headers()
	start := time.Now()
	resp, _ := e.get(t, "GET", "/live/silent.m3u8")
	if took := time.Since(start); resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" ||
		took < 1400*time.Millisecond || took > 3*time.Second {
		t.Errorf("silent stream: %s after %v", resp.Status, took)
	}

	// An unknown stream: 404 at once.
	start = time.Now()
	resp, _ = e.get(t, "GET", "/live/nobody.m3u8")
	if took := time.Since(start); resp.StatusCode != http.StatusNotFound || took > 200*time.Millisecond {
		t.Errorf("unknown stream: %s after %v", resp.Status, took)
	}
	checkCORS(t, resp)
}

func TestDiscontinuityOnReconnect(t *testing.T) {
	e := newEnv(t, hub.Config{ReconnectGrace: 5 * time.Second}, Config{TargetDuration: time.Second, WindowSegments: 6})
	p := e.publish(t, "re")
	p.headers()
	p.media(3500, 1000)
	e.waitPlaylist(t, "re", func(pl playlist) bool { return len(pl.uris) == 3 })

	// The publisher leaves: the half second in progress (up to the end of
	// the last frame) comes out at once.
	p.p.Close(nil)
	pl := e.waitPlaylist(t, "re", func(pl playlist) bool { return len(pl.uris) == 4 })
	if pl.durations[3] != 0.52 || pl.ended {
		t.Fatalf("after unpublish:\n%s", pl.text)
	}

	// It comes back within the grace, its clock starting again at 0.
	p2 := e.publish(t, "re")
	p2.headers()
	p2.media(3000, 1000)
	pl = e.waitPlaylist(t, "re", func(pl playlist) bool { return len(pl.uris) == 6 })
	want := []bool{false, false, false, false, true, false}
	for i := range want {
		if pl.discBefore[i] != want[i] {
			t.Fatalf("discontinuities %v, want %v:\n%s", pl.discBefore, want, pl.text)
		}
	}
	// The hub continues the timeline across the reconnect (from the last
	// packet of either track, so video may overlap by the A/V interleave).
	_, a := e.get(t, "GET", "/live/"+pl.uris[3])
	_, b := e.get(t, "GET", "/live/"+pl.uris[4])
	da, db := decodeTS(t, a), decodeTS(t, b)
	if last := da[len(da)-1]; db[0] < last-100*90 || db[0] > last+100*90 {
		t.Errorf("DTS jumped across the reconnect: %d then %d", last, db[0])
	}
}

// waitGone waits until a stream's playlist is 404.
func (e *testEnv) waitGone(t *testing.T, name string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if resp, _ := e.get(t, "GET", "/live/"+name+".m3u8"); resp.StatusCode == http.StatusNotFound {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s still served", name)
}

func TestEndedStream(t *testing.T) {
	t.Run("dropped at once", func(t *testing.T) {
		e := newEnv(t, hub.Config{ReconnectGrace: 100 * time.Millisecond}, Config{TargetDuration: time.Second})
		p := e.publish(t, "bye")
		p.headers()
		p.media(2500, 1000)
		pl := e.waitPlaylist(t, "bye", func(pl playlist) bool { return len(pl.uris) == 2 })
		p.p.Close(nil)
		e.waitGone(t, "bye")
		if resp, _ := e.get(t, "GET", "/live/"+pl.uris[0]); resp.StatusCode != http.StatusNotFound {
			t.Errorf("segment after end: %s", resp.Status)
		}

		// The same name published again is a new stream with new URLs.
		p = e.publish(t, "bye")
		p.headers()
		p.media(2500, 1000)
		pl2 := e.waitPlaylist(t, "bye", func(pl playlist) bool { return len(pl.uris) == 2 })
		if pl2.mediaSeq != 0 || pl2.uris[0] == pl.uris[0] {
			t.Errorf("republished: %v after %v", pl2.uris, pl.uris)
		}
	})
	t.Run("kept with ENDLIST", func(t *testing.T) {
		e := newEnv(t, hub.Config{ReconnectGrace: 100 * time.Millisecond}, Config{TargetDuration: time.Second, KeepEndedFor: 700 * time.Millisecond})
		p := e.publish(t, "bye")
		p.headers()
		p.media(2500, 1000)
		p.p.Close(nil)
		pl := e.waitPlaylist(t, "bye", func(pl playlist) bool { return pl.ended })
		if len(pl.uris) != 3 || pl.durations[2] != 0.52 {
			t.Errorf("final playlist:\n%s", pl.text)
		}
		if resp, _ := e.get(t, "GET", "/live/"+pl.uris[2]); resp.StatusCode != http.StatusOK {
			t.Errorf("last segment: %s", resp.Status)
		}
		e.waitGone(t, "bye")
	})
}

func TestBadRequests(t *testing.T) {
	e := newEnv(t, hub.Config{}, Config{TargetDuration: time.Second})
	p := e.publish(t, "s")
	p.headers()
	p.media(2500, 1000)
	pl := e.waitPlaylist(t, "s", func(pl playlist) bool { return len(pl.uris) == 2 })
	_, name, _ := strings.Cut(pl.uris[0], "/")
	token, _, _ := parseSegmentName(name)
	paths := []string{
		"/live/nope.m3u8",
		"/live/.m3u8",
		"/live/../s.m3u8",
		"/live/s/../s.m3u8",
		"/live/s/../../etc/passwd",
		"/live/..%2Fs.m3u8",
		"/live/s%00.m3u8",
		"/live/s.m3u8/",
		"/live/s.M3U8",
		"/live/s.flv",
		"/live/" + strings.Repeat("a", 129) + ".m3u8",
		"/live/s",
		"/live/s/",
		"/live/s/" + token + "-1",
		"/live/s/" + token + "-01.ts",
		"/live/s/" + token + "--1.ts",
		"/live/s/" + token + "-+1.ts",
		"/live/s/" + token + "-1.ts.bak",
		"/live/s/" + token + "-99.ts",
		"/live/s/" + token + "-18446744073709551616.ts",
		"/live/s/" + strings.ToUpper(token) + "-1.ts",
		"/live/s/zzzz-1.ts",
		"/live/s/1.ts",
		"/live/s/-1.ts",
		"/live/nope/" + token + "-1.ts",
		"/live/s/" + token + "-1.ts/x",
		"/live/s/x/" + token + "-1.ts",
		"/s.m3u8",
		"/",
	}
	for _, path := range paths {
		// Straight to the handler: an HTTP client would clean some paths.
		req := httptest.NewRequest("GET", "http://x"+path, nil)
		w := httptest.NewRecorder()
		e.srv.ServeHTTP(w, req)
		if w.Code != http.StatusNotFound {
			t.Errorf("%s: %d", path, w.Code)
		}
		if w.Header().Get("Access-Control-Allow-Origin") != "*" || !strings.Contains(w.Body.String(), `"code"`) {
			t.Errorf("%s: headers %v, body %s", path, w.Header(), w.Body)
		}
	}
	// And through the direct handler methods the app mounts.
	for _, tc := range []struct{ stream, segment string }{
		{"..", token + "-1.ts"}, {"s/x", token + "-1.ts"}, {"", token + "-1.ts"}, {"s", "../" + token + "-1.ts"},
	} {
		w := httptest.NewRecorder()
		e.srv.ServeSegment(w, httptest.NewRequest("GET", "/x", nil), tc.stream, tc.segment)
		if w.Code != http.StatusNotFound {
			t.Errorf("ServeSegment(%q, %q): %d", tc.stream, tc.segment, w.Code)
		}
	}
	w := httptest.NewRecorder()
	e.srv.ServePlaylist(w, httptest.NewRequest("GET", "/x", nil), "../s")
	if w.Code != http.StatusNotFound {
		t.Errorf("ServePlaylist(../s): %d", w.Code)
	}
	// The good ones, for contrast.
	for _, path := range []string{"/live/s.m3u8", "/live/s/" + token + "-1.ts"} {
		w := httptest.NewRecorder()
		e.srv.ServeHTTP(w, httptest.NewRequest("GET", path, nil))
		if w.Code != http.StatusOK {
			t.Errorf("%s: %d", path, w.Code)
		}
	}
}

func TestViewerCount(t *testing.T) {
	e := newEnv(t, hub.Config{}, Config{TargetDuration: 500 * time.Millisecond})
	p := e.publish(t, "v")
	p.headers()
	p.media(3000, 1000)
	pl := e.waitPlaylist(t, "v", func(pl playlist) bool { return len(pl.uris) >= 2 })
	viewers := func() int { return e.hub.Stream("v").Stats().ViewersByProtocol[Protocol] }
	waitViewers := func(want int) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for viewers() != want {
			if time.Now().After(deadline) {
				t.Fatalf("%d HLS viewers, want %d", viewers(), want)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	// The polling above used Go's User-Agent: one viewer. Two players more,
	// each fetching the playlist and segments repeatedly.
	waitViewers(1)
	var wg sync.WaitGroup
	for _, ua := range []string{"player A", "player B", "player A"} {
		wg.Go(func() {
			e.get(t, "GET", "/live/v.m3u8", "User-Agent", ua)
			e.get(t, "GET", "/live/"+pl.uris[0], "User-Agent", ua)
		})
	}
	wg.Wait()
	waitViewers(3)
	// Clients that stop fetching are forgotten after 3 target durations.
	waitViewers(0)
}

func TestParseSegmentName(t *testing.T) {
	for name, want := range map[string]bool{
		"abc-0.ts": true, "abc-10.ts": true, "mhz1x2y3-18446744073709551615.ts": true, "0123456789abc-7.ts": true,
		"abc-00.ts": false, "abc-01.ts": false, "abc-.ts": false, "-1.ts": false, "abc-1": false, "abc-1.TS": false,
		"ABC-1.ts": false, "a_c-1.ts": false, "abc-1.ts.ts": false, "abc-18446744073709551616.ts": false,
		"0123456789abcd-7.ts": false, "abc-1-2.ts": false, "abc--1.ts": false, "abc-+1.ts": false, "": false,
	} {
		if _, _, ok := parseSegmentName(name); ok != want {
			t.Errorf("parseSegmentName(%q) ok = %v", name, ok)
		}
	}
}

// FuzzParseSegmentName checks that an accepted name is the one canonical
// spelling of its token and number.
func FuzzParseSegmentName(f *testing.F) {
	for _, s := range []string{"abc-0.ts", "mhz1x2y3-12.ts", "abc-01.ts", "-1.ts", "a-1.ts.ts"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		token, seq, ok := parseSegmentName(name)
		if !ok {
			return
		}
		if again := token + "-" + strconv.FormatUint(seq, 10) + ".ts"; again != name {
			t.Fatalf("%q parsed as %q, %d", name, token, seq)
		}
	})
}

// TestMuxerTooSlow makes the muxer lag beyond a tiny hub queue: it must
// resubscribe (with a backoff) and go on with a consistent timeline.
func TestMuxerTooSlow(t *testing.T) {
	e := newEnv(t, hub.Config{QueueFrames: 16, SlowDrops: 2, FlushInterval: -1}, Config{TargetDuration: time.Second, WindowSegments: 20})
	p := e.publish(t, "slow")
	p.headers()
	p.media(20000, 1000) // as fast as the hub takes it
	for range 60 {       // then in real time
		p.media(40, 1)
		time.Sleep(2 * time.Millisecond)
	}
	end := p.dts + 2000
	p.media(1000, 1000)
	p.media(1000, 1000)
	p.p.Close(nil) // the open segment comes out
	ls := e.srv.lookup("slow")
	snapshot := func() []*hlsproto.Segment {
		ls.mu.Lock()
		defer ls.mu.Unlock()
		out := make([]*hlsproto.Segment, len(ls.segs))
		for i, e := range ls.segs {
			out[i] = e.Segment
		}
		return out
	}
	deadline := time.Now().Add(5 * time.Second)
	var segs []*hlsproto.Segment
	for {
		segs = snapshot()
		if n := len(segs); n > 0 && segs[n-1].Start+segs[n-1].Duration >= time.Duration(end)*time.Millisecond {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the muxer did not catch up: %d segments", len(segs))
		}
		time.Sleep(20 * time.Millisecond)
	}
	st := e.hub.Stream("slow").Stats()
	t.Logf("slow disconnects: %d, dropped frames: %d, segments: %d", st.SlowDisconnects, st.DroppedFrames, len(segs))
	// Segments go on in time. After a resubscription a segment may hold
	// no audio (the hub dropped it with the lagging video), which
	// mediacommon's reader cannot open: only the last one is decoded.
	for i := 1; i < len(segs); i++ {
		if segs[i].Start <= segs[i-1].Start || segs[i].Seq != segs[i-1].Seq+1 {
			t.Errorf("segment %d starts at %v after %v", segs[i].Seq, segs[i].Start, segs[i-1].Start)
		}
	}
	dts := decodeTS(t, segs[len(segs)-1].Data)
	for i := 1; i < len(dts); i++ {
		if dts[i] <= dts[i-1] {
			t.Fatalf("last segment: DTS %d after %d", dts[i], dts[i-1])
		}
	}
}
