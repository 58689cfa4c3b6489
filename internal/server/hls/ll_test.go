package hls

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"roomcast/internal/hub"
)

// llResult is the outcome of a request made in the background.
type llResult struct {
	status int
	body   []byte
	err    error
}

// getAsync starts a GET of path that ends with ctx.
func (e *testEnv) getAsync(ctx context.Context, path string) <-chan llResult {
	out := make(chan llResult, 1)
	go func() {
		req, err := http.NewRequestWithContext(ctx, "GET", e.ts.URL+path, nil)
		if err != nil {
			out <- llResult{err: err}
			return
		}
		resp, err := e.ts.Client().Do(req)
		if err != nil {
			out <- llResult{err: err}
			return
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		out <- llResult{status: resp.StatusCode, body: body, err: err}
	}()
	return out
}

// waitWaiting waits until n requests wait for media.
func (e *testEnv) waitWaiting(t *testing.T, n int64) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for e.srv.waiting.n.Load() != n {
		if time.Now().After(deadline) {
			t.Fatalf("%d requests waiting, want %d", e.srv.waiting.n.Load(), n)
		}
		time.Sleep(time.Millisecond)
	}
}

// receive waits for a background request's result.
func receive(t *testing.T, ch <-chan llResult) llResult {
	t.Helper()
	select {
	case r := <-ch:
		if r.err != nil {
			t.Fatal(r.err)
		}
		return r
	case <-time.After(10 * time.Second):
		t.Fatal("no response in 10 s")
		return llResult{}
	}
}

// partName splits a part URI "s/TOKEN-SEQ.IDX.ts".
func partName(t *testing.T, uri string) (seq uint64, idx int) {
	t.Helper()
	_, name, _ := strings.Cut(uri, "/")
	_, seq, idx, ok := parsePartName(name)
	if !ok {
		t.Fatalf("bad part URI %q", uri)
	}
	return seq, idx
}

// llEnv publishes 3.5 s of a 1 s GOP stream with 1 s segments and waits
// until the muxer has cut all of it: three segments, then parts 3.0
// (3000–3240 ms) and 3.1 (3240–3480 ms, cut by the frame at 3480 ms, which
// opens part 3.2): the preload hint names part 3.2, which only more media
// completes.
func llEnv(t *testing.T, cfg Config) (*testEnv, *publisher, playlist) {
	t.Helper()
	if cfg.TargetDuration == 0 {
		cfg.TargetDuration = time.Second
	}
	e := newEnv(t, hub.Config{}, cfg)
	p := e.publish(t, "s")
	p.headers()
	p.media(3500, 1000)
	pl := e.waitPlaylist(t, "s", func(pl playlist) bool {
		return len(pl.uris) == 3 && strings.HasSuffix(pl.hint, "-3.2.ts") && len(pl.parts) > 0 && pl.parts[len(pl.parts)-1].segment == len(pl.uris)
	})
	return e, p, pl
}

func TestLLPlaylistAndParts(t *testing.T) {
	e, _, pl := llEnv(t, Config{})
	if !strings.Contains(pl.serverControl, "CAN-BLOCK-RELOAD=YES") || !strings.Contains(pl.serverControl, "PART-HOLD-BACK=0.750") {
		t.Errorf("EXT-X-SERVER-CONTROL:%s", pl.serverControl)
	}
	if pl.partTarget != 0.25 {
		t.Errorf("PART-TARGET %v", pl.partTarget)
	}
	if pl.dates < len(pl.uris) {
		t.Errorf("%d EXT-X-PROGRAM-DATE-TIME for %d segments:\n%s", pl.dates, len(pl.uris), pl.text)
	}
	fetch := func(uri string) []byte {
		resp, body := e.get(t, "GET", "/live/"+uri)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d %s", uri, resp.StatusCode, body)
		}
		if ct := resp.Header.Get("Content-Type"); ct != segmentType {
			t.Errorf("%s: Content-Type %q", uri, ct)
		}
		return body
	}
	withParts := 0
	for i, uri := range pl.uris {
		var joined []byte
		var sum float64
		n := 0
		for _, p := range pl.parts {
			if p.segment != i {
				continue
			}
			if n == 0 && !p.independent {
				t.Errorf("segment %s: first part %s not INDEPENDENT", uri, p.uri)
			}
			if p.duration > pl.partTarget {
				t.Errorf("part %s: %v > PART-TARGET", p.uri, p.duration)
			}
			n++
			sum += p.duration
			joined = append(joined, fetch(p.uri)...)
		}
		if n == 0 {
			continue
		}
		withParts++
		if math.Abs(sum-pl.durations[i]) > 0.0005*float64(n+1) {
			t.Errorf("segment %s: parts last %.3f, EXTINF %.3f", uri, sum, pl.durations[i])
		}
		if !bytes.Equal(joined, fetch(uri)) {
			t.Errorf("segment %s: its %d parts joined differ from it", uri, n)
		}
	}
	if withParts == 0 {
		t.Errorf("no complete segment lists its parts:\n%s", pl.text)
	}
	// The hint names the part after the last one listed.
	last := pl.parts[len(pl.parts)-1]
	seq, idx := partName(t, last.uri)
	if hs, hi := partName(t, pl.hint); hs != seq || hi != idx+1 {
		t.Errorf("hint %s after part %s", pl.hint, last.uri)
	}
}

func TestBlockingReload(t *testing.T) {
	e, p, pl := llEnv(t, Config{})
	seq, idx := partName(t, pl.hint)

	// A reload for the hinted part and a request for the part itself wait.
	ctx := context.Background()
	reload := e.getAsync(ctx, fmt.Sprintf("/live/s.m3u8?_HLS_msn=%d&_HLS_part=%d", seq, idx))
	partReq := e.getAsync(ctx, "/live/"+pl.hint)
	e.waitWaiting(t, 2)
	select {
	case r := <-reload:
		t.Fatalf("the reload answered before the part existed: %d\n%s", r.status, r.body)
	case r := <-partReq:
		t.Fatalf("the hinted part answered before it existed: %d", r.status)
	default:
	}

	// The part appears: both answer.
	p.media(500, 1000)
	r := receive(t, reload)
	if r.status != http.StatusOK {
		t.Fatalf("reload: %d %s", r.status, r.body)
	}
	got := parsePlaylist(t, string(r.body))
	found := false
	for _, pp := range got.parts {
		found = found || pp.uri == pl.hint
	}
	if !found {
		t.Errorf("the reload's playlist lacks %s:\n%s", pl.hint, r.body)
	}
	pr := receive(t, partReq)
	if pr.status != http.StatusOK {
		t.Fatalf("hinted part: %d %s", pr.status, pr.body)
	}
	resp, body := e.get(t, "GET", "/live/"+pl.hint)
	if resp.StatusCode != http.StatusOK || !bytes.Equal(body, pr.body) || len(body) == 0 || len(body)%188 != 0 {
		t.Errorf("the hinted part: %d bytes while waiting, then %d %d bytes", len(pr.body), resp.StatusCode, len(body))
	}
	e.waitWaiting(t, 0)

	// A segment already there answers at once.
	r = receive(t, e.getAsync(ctx, fmt.Sprintf("/live/s.m3u8?_HLS_msn=%d", seq-1)))
	if r.status != http.StatusOK {
		t.Errorf("reload of a past segment: %d", r.status)
	}
}

func TestBlockingReloadRefused(t *testing.T) {
	e, _, pl := llEnv(t, Config{})
	seq, _ := partName(t, pl.hint)
	_, first, _ := strings.Cut(pl.uris[0], "/")
	token, _, _ := parseSegmentName(first)
	tests := []struct {
		query  string
		status int
		code   string
	}{
		{fmt.Sprintf("_HLS_msn=%d", seq+3), 400, "bad_request"},
		{fmt.Sprintf("_HLS_msn=%d&_HLS_part=0", seq+100), 400, "bad_request"},
		{"_HLS_msn=18446744073709551615", 400, "bad_request"},
		{"_HLS_msn=18446744073709551616", 400, "bad_request"},
		{"_HLS_msn=abc", 400, "bad_request"},
		{"_HLS_msn=-1", 400, "bad_request"},
		{"_HLS_msn=%2B1", 400, "bad_request"},
		{"_HLS_msn=01", 400, "bad_request"},
		{"_HLS_msn=", 400, "bad_request"},
		{"_HLS_msn=1.5", 400, "bad_request"},
		{"_HLS_part=1", 400, "bad_request"},
		{"_HLS_msn=1&_HLS_msn=2", 400, "bad_request"},
		{"_HLS_msn=1&_HLS_part=1&_HLS_part=2", 400, "bad_request"},
		{"_HLS_msn=1&_HLS_part=10000", 400, "bad_request"},
		{"_HLS_msn=1&_HLS_part=x", 400, "bad_request"},
	}
	for _, tt := range tests {
		resp, body := e.get(t, "GET", "/live/s.m3u8?"+tt.query)
		var doc struct {
			Error struct{ Code, Message string }
		}
		_ = json.Unmarshal(body, &doc)
		if resp.StatusCode != tt.status || doc.Error.Code != tt.code || doc.Error.Message == "" {
			t.Errorf("?%s: %d %s, want %d %s", tt.query, resp.StatusCode, body, tt.status, tt.code)
		}
	}
	// Parts: a bad name, one far ahead, one long gone.
	for _, name := range []string{
		token + "-" + strconv.FormatUint(seq, 10) + ".01.ts",
		token + "-" + strconv.FormatUint(seq, 10) + ".-1.ts",
		token + "-" + strconv.FormatUint(seq, 10) + "..ts",
		token + "-" + strconv.FormatUint(seq+5, 10) + ".0.ts",
		token + "-" + strconv.FormatUint(seq, 10) + ".9.ts",
		"zz-" + strconv.FormatUint(seq-1, 10) + ".0.ts",
	} {
		if resp, body := e.get(t, "GET", "/live/s/"+name); resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s: %d %s", name, resp.StatusCode, body)
		}
	}
	e.waitWaiting(t, 0)
}

func TestBlockingBounds(t *testing.T) {
	e, _, pl := llEnv(t, Config{MaxWaiting: 1})
	seq, _ := partName(t, pl.hint)
	next := fmt.Sprintf("/live/s.m3u8?_HLS_msn=%d", seq)

	// One waits; the next is refused while it does.
	ctx, cancel := context.WithCancel(context.Background())
	first := e.getAsync(ctx, next)
	e.waitWaiting(t, 1)
	resp, body := e.get(t, "GET", next)
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(body), "too_many_waiting") || resp.Header.Get("Retry-After") == "" {
		t.Errorf("second waiting request: %d %s", resp.StatusCode, body)
	}
	resp, body = e.get(t, "GET", "/live/"+pl.hint)
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("hinted part past the cap: %d %s", resp.StatusCode, body)
	}
	// The client leaves: its handler returns.
	cancel()
	if r := <-first; r.err == nil {
		t.Errorf("canceled request answered %d", r.status)
	}
	e.waitWaiting(t, 0)

	// Nothing comes: after three target durations, 503.
	resp, body = e.get(t, "GET", next)
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(body), "not_ready") {
		t.Errorf("blocking reload that never comes: %d %s", resp.StatusCode, body)
	}
	e.waitWaiting(t, 0)
}

func TestLLPrivateSignature(t *testing.T) {
	e, _, _ := llEnv(t, Config{})
	resp, body := e.get(t, "GET", "/live/s.m3u8?txSecret=abc&txTime=5F")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	pl := parsePlaylist(t, string(body))
	for _, p := range pl.parts {
		if !strings.HasSuffix(p.uri, "?txSecret=abc&txTime=5F") {
			t.Errorf("part URI %q without the signature", p.uri)
		}
	}
	if !strings.HasSuffix(pl.hint, "?txSecret=abc&txTime=5F") {
		t.Errorf("hint %q without the signature", pl.hint)
	}
	if resp.Header.Get("Content-Length") != strconv.Itoa(len(body)) {
		t.Errorf("Content-Length %s for %d bytes", resp.Header.Get("Content-Length"), len(body))
	}
	u, _ := url.Parse(pl.parts[0].uri)
	if resp, _ := e.get(t, "GET", "/live/"+u.Path+"?"+u.RawQuery); resp.StatusCode != http.StatusOK {
		t.Errorf("signed part: %d", resp.StatusCode)
	}
}

func TestLLOff(t *testing.T) {
	e := newEnv(t, hub.Config{}, Config{TargetDuration: time.Second, PartTarget: -1})
	p := e.publish(t, "s")
	p.headers()
	p.media(3500, 1000)
	pl := e.waitPlaylist(t, "s", func(pl playlist) bool { return len(pl.uris) >= 3 })
	if pl.serverControl != "" || len(pl.parts) != 0 || pl.hint != "" {
		t.Errorf("LL tags with LL off:\n%s", pl.text)
	}
	// Blocking parameters are ignored: the playlist comes at once.
	if resp, body := e.get(t, "GET", "/live/s.m3u8?_HLS_msn=99&_HLS_part=0"); resp.StatusCode != http.StatusOK {
		t.Errorf("%d %s", resp.StatusCode, body)
	}
}
