package e2e

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestHLS checks the live playlist and its segments: tags, MIME types, and
// caching (the playlist changes every segment, a segment never changes).
func TestHLS(t *testing.T) {
	srv := startServer(t)
	name := streamName("hls")
	startPublisher(t, srv.rtmpURL(name))
	srv.waitLive(t, name)
	ctx := testContext(t)

	pl := waitSegments(t, srv.hlsURL(name), 2)
	if !strings.HasPrefix(pl.Text, "#EXTM3U") {
		t.Errorf("playlist does not start with #EXTM3U:\n%s", pl.Text)
	}
	target := -1
	var durations []float64
	for _, line := range strings.Split(pl.Text, "\n") {
		line = strings.TrimSpace(line)
		if v, ok := strings.CutPrefix(line, "#EXT-X-TARGETDURATION:"); ok {
			target, _ = strconv.Atoi(v)
		}
		if v, ok := strings.CutPrefix(line, "#EXTINF:"); ok {
			d, err := strconv.ParseFloat(strings.TrimSuffix(strings.SplitN(v, ",", 2)[0], ","), 64)
			if err != nil {
				t.Errorf("playlist: bad %q: %v", line, err)
			}
			durations = append(durations, d)
		}
	}
	if target < 1 {
		t.Errorf("playlist has no valid #EXT-X-TARGETDURATION:\n%s", pl.Text)
	}
	if !strings.Contains(pl.Text, "#EXT-X-MEDIA-SEQUENCE:") {
		t.Errorf("live playlist has no #EXT-X-MEDIA-SEQUENCE:\n%s", pl.Text)
	}
	if len(durations) != len(pl.Segments) {
		t.Errorf("playlist has %d #EXTINF for %d segments:\n%s", len(durations), len(pl.Segments), pl.Text)
	}
	for _, d := range durations {
		// RFC 8216 4.3.3.1: each duration, rounded, is at most the target.
		if int(d+0.5) > target || d <= 0 {
			t.Errorf("segment duration %v does not fit #EXT-X-TARGETDURATION:%d:\n%s", d, target, pl.Text)
		}
	}
	if ct := strings.ToLower(pl.Header.Get("Content-Type")); !strings.Contains(ct, "mpegurl") {
		t.Errorf("playlist Content-Type = %q, want application/vnd.apple.mpegurl", ct)
	}
	if cc := pl.Header.Get("Cache-Control"); cacheable(cc) {
		t.Errorf("playlist Cache-Control = %q, want it not cacheable (no-cache, no-store or max-age=0)", cc)
	}
	if o := pl.Header.Get("Access-Control-Allow-Origin"); o != "*" {
		t.Errorf("playlist Access-Control-Allow-Origin = %q, want *", o)
	}

	for _, seg := range pl.Segments {
		ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		body, resp, err := httpGet(ctx, seg)
		cancel()
		if err != nil {
			t.Fatalf("GET segment %s: %v", seg, err)
		}
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET segment %s: %s: %s", seg, resp.Status, body)
		}
		if ct := resp.Header.Get("Content-Type"); ct != "video/mp2t" {
			t.Errorf("segment %s: Content-Type = %q, want video/mp2t", seg, ct)
		}
		if cc := resp.Header.Get("Cache-Control"); !cacheable(cc) {
			t.Errorf("segment %s: Cache-Control = %q, want cacheable (e.g. max-age=…)", seg, cc)
		}
		if len(body) < 188 || len(body)%188 != 0 || body[0] != 0x47 {
			t.Errorf("segment %s: %d bytes starting % x, want 188-byte TS packets starting with 0x47", seg, len(body), body[:min(len(body), 4)])
		}
	}
}

// cacheable reports whether a Cache-Control value lets caches keep a
// response for some time.
func cacheable(cc string) bool {
	cc = strings.ToLower(cc)
	if cc == "" || strings.Contains(cc, "no-cache") || strings.Contains(cc, "no-store") {
		return false
	}
	for _, d := range strings.Split(cc, ",") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(d), "max-age="); ok {
			n, err := strconv.Atoi(v)
			return err == nil && n > 0
		}
	}
	return true // public, immutable… without max-age: heuristics apply
}
