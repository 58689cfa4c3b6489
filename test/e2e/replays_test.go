package e2e

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"roomcast/internal/config"
	"roomcast/internal/webhook"
)

// replayJSON is a replay as the API answers it.
type replayJSON struct {
	ID         string     `json:"id"`
	RoomID     string     `json:"room_id"`
	Status     string     `json:"status"`
	StartedAt  time.Time  `json:"started_at"`
	EndedAt    *time.Time `json:"ended_at"`
	DurationMS int64      `json:"duration_ms"`
	Bytes      int64      `json:"bytes"`
	Segments   int        `json:"segments"`
	Recovered  bool       `json:"recovered"`
	URL        string     `json:"url"`
}

// replayRules records with a one-second reconnect grace, so that a
// replay is finalised soon after its publisher leaves.
func replayRules(c *config.Config) {
	roomRules(c)
	c.Hub.ReconnectGrace = time.Second
}

// recordLive publishes to the room for about d and stops; it returns the
// bounds of the time pushed: at least min, at most max.
func recordLive(ctx context.Context, t *testing.T, s *testServer, owner account, rm roomJSON, d time.Duration) (minPushed, maxPushed time.Duration) {
	t.Helper()
	push := s.pushURL(ctx, t, owner, rm.ID)
	t0 := time.Now()
	p := startPublisher(t, push.URL)
	s.waitRoom(t, owner.Token, rm.ID, "live", 20*time.Second, func(r roomJSON) bool { return r.Status == "live" })
	tLive := time.Now()
	time.Sleep(d)
	p.stop(t, 10*time.Second)
	t1 := time.Now()
	return t1.Sub(tLive), t1.Sub(t0)
}

// replays lists a room's replays as who.
func (s *testServer) replays(ctx context.Context, t *testing.T, token, roomID string) []replayJSON {
	t.Helper()
	var l struct {
		Replays []replayJSON `json:"replays"`
	}
	s.mustCall(ctx, t, http.MethodGet, "/api/v1/rooms/"+roomID+"/replays", token, nil, http.StatusOK, &l)
	return l.Replays
}

// recordFinite publishes exactly d of media to the room (ffmpeg -t) and
// waits for the publisher to finish by itself.
func recordFinite(ctx context.Context, t *testing.T, s *testServer, owner account, rm roomJSON, d time.Duration) {
	t.Helper()
	push := s.pushURL(ctx, t, owner, rm.ID)
	p := startPublisherFor(t, push.URL, d)
	s.waitRoom(t, owner.Token, rm.ID, "live", 20*time.Second, func(r roomJSON) bool { return r.Status == "live" })
	err, ok := p.waitExit(d + 20*time.Second)
	if !ok || err != nil {
		t.Fatalf("publisher of %v: exit %v (exited: %v)", d, err, ok)
	}
}

// waitReady waits until the room's newest replay is ready and returns it.
func (s *testServer) waitReady(ctx context.Context, t *testing.T, token, roomID string, n int) replayJSON {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		l := s.replays(ctx, t, token, roomID)
		if len(l) == n && l[0].Status == "ready" {
			return l[0]
		}
		if time.Now().After(deadline) {
			t.Fatalf("room %s: no %d ready replays within 20s: %+v", roomID, n, l)
		}
		time.Sleep(pollInterval)
	}
}

// get fetches rawURL with optional headers "K", "V", ….
func get(ctx context.Context, t *testing.T, rawURL string, hdr ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", rawURL, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", rawURL, err)
	}
	return resp, b
}

// probeDuration returns the duration ffprobe reads from a playlist.
func probeDuration(ctx context.Context, t *testing.T, rawURL string) time.Duration {
	t.Helper()
	cmd := exec.CommandContext(ctx, requireTool(t, "ffprobe"), "-hide_banner", "-v", "error",
		"-show_entries", "format=duration", "-of", "default=noprint_wrappers=1:nokey=1", rawURL)
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("ffprobe %s: %v", rawURL, err)
	}
	f, err := strconv.ParseFloat(strings.TrimSpace(string(out)), 64)
	if err != nil {
		t.Fatalf("ffprobe %s: duration %q: %v", rawURL, out, err)
	}
	return time.Duration(f * float64(time.Second))
}

// decodeAll decodes every frame of a playlist with ffmpeg and fails on an
// error.
func decodeAll(ctx context.Context, t *testing.T, rawURL string) {
	t.Helper()
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, requireTool(t, "ffmpeg"), "-hide_banner", "-nostdin", "-v", "error",
		"-i", rawURL, "-f", "null", "-")
	cmd.Stderr = &stderr
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Run(); err != nil || strings.TrimSpace(stderr.String()) != "" {
		t.Fatalf("decode %s: %v\n%s", rawURL, err, stderr.String())
	}
}

// segmentURIs returns the URI lines of a playlist.
func segmentURIs(body []byte) []string {
	var out []string
	for _, line := range strings.Split(string(body), "\n") {
		line = strings.TrimSpace(line)
		if line != "" && !strings.HasPrefix(line, "#") {
			out = append(out, line)
		}
	}
	return out
}

func TestReplayRecordPlayDelete(t *testing.T) {
	ctx := testContext(t)
	hooks := startHookReceiver(t)
	s := startServer(t, replayRules, sendHooksTo(hooks))
	owner := s.register(ctx, t, "replayowner")
	stranger := s.register(ctx, t, "replaystranger")
	rm := s.createRoom(ctx, t, owner, "recorded", false)

	const pushed = 10 * time.Second
	recordFinite(ctx, t, s, owner, rm, pushed)
	rep := s.waitReady(ctx, t, owner.Token, rm.ID, 1)
	if rep.RoomID != rm.ID || rep.Segments == 0 || rep.Bytes == 0 || rep.EndedAt == nil || rep.Recovered {
		t.Fatalf("replay %+v", rep)
	}
	if rep.URL != s.httpURL("/vod/"+rep.ID+"/index.m3u8") {
		t.Fatalf("replay url %q", rep.URL)
	}

	// The playlist is VOD, cacheable, readable by any origin.
	resp, body := get(ctx, t, rep.URL)
	if resp.StatusCode != http.StatusOK || !strings.HasSuffix(strings.TrimSpace(string(body)), "#EXT-X-ENDLIST") {
		t.Fatalf("playlist: %s\n%s", resp.Status, body)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/vnd.apple.mpegurl" {
		t.Errorf("playlist Content-Type %q", ct)
	}
	if cc := resp.Header.Get("Cache-Control"); !strings.Contains(cc, "max-age") {
		t.Errorf("playlist Cache-Control %q", cc)
	}
	if o := resp.Header.Get("Access-Control-Allow-Origin"); o != "*" {
		t.Errorf("playlist CORS %q", o)
	}

	// Duration: as pushed (within 1 s), as the API says, and it decodes.
	d := probeDuration(ctx, t, rep.URL)
	if (d - pushed).Abs() > time.Second {
		t.Errorf("ffprobe duration %v; pushed %v", d, pushed)
	}
	t.Logf("ffprobe reads %v of the %v pushed; the API says %d ms", d, pushed, rep.DurationMS)
	if api := time.Duration(rep.DurationMS) * time.Millisecond; (d - api).Abs() > time.Second {
		t.Errorf("ffprobe duration %v, API %v", d, api)
	}
	decodeAll(ctx, t, rep.URL)

	// Segments: Range requests, MIME type, immutable.
	uris := segmentURIs(body)
	if len(uris) != rep.Segments {
		t.Errorf("%d segment URIs, replay says %d", len(uris), rep.Segments)
	}
	seg := s.httpURL("/vod/" + rep.ID + "/" + uris[0])
	resp, part := get(ctx, t, seg, "Range", "bytes=0-187")
	if resp.StatusCode != http.StatusPartialContent || len(part) != 188 || part[0] != 0x47 {
		t.Fatalf("range: %s, %d bytes", resp.Status, len(part))
	}
	if ct := resp.Header.Get("Content-Type"); ct != "video/mp2t" {
		t.Errorf("segment Content-Type %q", ct)
	}
	if cc := resp.Header.Get("Cache-Control"); !strings.Contains(cc, "immutable") {
		t.Errorf("segment Cache-Control %q", cc)
	}
	if !strings.HasPrefix(resp.Header.Get("Content-Range"), "bytes 0-187/") {
		t.Errorf("Content-Range %q", resp.Header.Get("Content-Range"))
	}

	// record.ready went out.
	got := hooks.wait(t, "record.ready", 15*time.Second, func(rs []hookRequest) bool {
		for _, r := range rs {
			if r.Payload.Type == webhook.TypeRecordReady {
				return true
			}
		}
		return false
	})
	for _, r := range got {
		if r.Payload.Type != webhook.TypeRecordReady {
			continue
		}
		p := r.Payload
		if p.Room != rm.ID || p.Data["url"] != rep.URL || p.Data["recording"] != rep.ID ||
			number(t, p, "duration_ms") != float64(rep.DurationMS) || number(t, p, "bytes") != float64(rep.Bytes) {
			t.Errorf("record.ready %+v, replay %+v", p, rep)
		}
	}

	// A literal dot-dot never reaches the VOD handler: the router
	// redirects to the cleaned path, outside /vod/.
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, path := range []string{"/vod/../x", "/vod/" + rep.ID + "/../../" + rm.ID + "/" + rep.ID + "/index.m3u8"} {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.httpURL(path), nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := noRedirect.Do(req)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		resp.Body.Close()
		if loc := resp.Header.Get("Location"); resp.StatusCode/100 != 3 || strings.HasPrefix(loc, "/vod/") {
			t.Errorf("GET %s: %s, Location %q; want a redirect out of /vod/", path, resp.Status, loc)
		}
	}
	// Encoded traversal attempts and bad ids are 404.
	for _, path := range []string{
		"/vod/%2e%2e/index.m3u8",
		"/vod/%2e%2e%2f%2e%2e%2fdb/index.m3u8",
		"/vod/" + rep.ID + "/..%2f..%2f" + rm.ID,
		"/vod/" + rep.ID + "/%2e%2e",
		"/vod/" + rep.ID + "/index.m3u8.tmp",
		"/vod/" + rep.ID + "/x.ts",
		"/vod/bad.id/index.m3u8",
		"/vod/rec_nope/index.m3u8",
		"/vod/" + rep.ID,
	} {
		a, err := getMedia(ctx, s.httpURL(path))
		if err != nil || a.Status != http.StatusNotFound {
			t.Errorf("GET %s: %+v %v, want 404", path, a, err)
		}
	}

	// Only the owner (or an admin) deletes; the files go.
	dir := filepath.Join(s.cfg.DataDir, "recordings", rm.ID, rep.ID)
	if _, err := os.Stat(filepath.Join(dir, "index.m3u8")); err != nil {
		t.Fatalf("recording files: %v", err)
	}
	s.expectError(ctx, t, http.MethodDelete, "/api/v1/replays/"+rep.ID, stranger.Token, nil, http.StatusForbidden, "forbidden")
	s.mustCall(ctx, t, http.MethodDelete, "/api/v1/replays/"+rep.ID, owner.Token, nil, http.StatusNoContent, nil)
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("recording directory after delete: %v", err)
	}
	expectMediaError(ctx, t, rep.URL, http.StatusNotFound, "not_found")
	if l := s.replays(ctx, t, owner.Token, rm.ID); len(l) != 0 {
		t.Errorf("replays after delete: %+v", l)
	}
}

func TestReplayPrivateRoom(t *testing.T) {
	ctx := testContext(t)
	s := startServer(t, replayRules)
	owner := s.register(ctx, t, "privowner")
	rm := s.createRoom(ctx, t, owner, "private", true)
	recordLive(ctx, t, s, owner, rm, 4*time.Second)
	rep := s.waitReady(ctx, t, owner.Token, rm.ID, 1)
	if !strings.Contains(rep.URL, "txSecret=") {
		t.Fatalf("private replay url is not signed: %q", rep.URL)
	}
	s.expectError(ctx, t, http.MethodGet, "/api/v1/replays/"+rep.ID, "", nil, http.StatusNotFound, "not_found")

	unsigned := stripQuery(t, rep.URL)
	expectMediaError(ctx, t, unsigned, http.StatusForbidden, "invalid_signature")
	resp, body := get(ctx, t, rep.URL)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("signed playlist: %s %s", resp.Status, body)
	}
	uris := segmentURIs(body)
	if len(uris) == 0 || !strings.Contains(uris[0], "txSecret=") {
		t.Fatalf("segment URIs do not carry the signature: %v", uris)
	}
	expectMediaError(ctx, t, s.httpURL("/vod/"+rep.ID+"/"+strings.SplitN(uris[0], "?", 2)[0]), http.StatusForbidden, "invalid_signature")
	if cc := resp.Header.Get("Cache-Control"); !strings.HasPrefix(cc, "private") {
		t.Errorf("private playlist Cache-Control %q", cc)
	}
	decodeAll(ctx, t, rep.URL)
}

// TestReplayShutdownAndRetention: a graceful shutdown during a live leaves
// its replay ready (not left for recovery), and at the next start the
// retention deletes the oldest replay to fit -record-max-bytes.
func TestReplayShutdownAndRetention(t *testing.T) {
	ctx := testContext(t)
	s := startServer(t, replayRules)
	owner := s.register(ctx, t, "retowner")
	rm := s.createRoom(ctx, t, owner, "retention", false)
	recordLive(ctx, t, s, owner, rm, 3*time.Second)
	first := s.waitReady(ctx, t, owner.Token, rm.ID, 1)

	// A second live, cut by the server's shutdown.
	push := s.pushURL(ctx, t, owner, rm.ID)
	startPublisher(t, push.URL)
	s.waitRoom(t, owner.Token, rm.ID, "live", 20*time.Second, func(r roomJSON) bool { return r.Status == "live" })
	var second replayJSON
	deadline := time.Now().Add(20 * time.Second)
	for {
		// The row's totals are written when the recording ends; the
		// playlist on disk grows with every segment.
		l := s.replays(ctx, t, owner.Token, rm.ID)
		if len(l) == 2 && l[0].Status == "recording" {
			if a, _ := getMedia(ctx, l[0].URL); a.Status == http.StatusOK {
				if _, body := get(ctx, t, l[0].URL); len(segmentURIs(body)) >= 2 {
					second = l[0]
					break
				}
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("second replay not recording: %+v", l)
		}
		time.Sleep(pollInterval)
	}
	s.stop(t)

	// Restart with a size bound that only the newest fits.
	var size int64
	entries, err := os.ReadDir(filepath.Join(s.cfg.DataDir, "recordings", rm.ID, second.ID))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if fi, err := e.Info(); err == nil && strings.HasSuffix(e.Name(), ".ts") {
			size += fi.Size()
		}
	}
	cfg := s.cfg
	cfg.Record.MaxBytes = size + first.Bytes - 1
	s = launchServer(t, cfg)

	deadline = time.Now().Add(20 * time.Second)
	for {
		l := s.replays(ctx, t, owner.Token, rm.ID)
		if len(l) == 1 {
			if l[0].ID != second.ID || l[0].Status != "ready" || l[0].Recovered {
				t.Fatalf("kept %+v, want the second replay, ready and not recovered", l[0])
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("retention did not delete the oldest: %+v", l)
		}
		time.Sleep(pollInterval)
	}
	if _, err := os.Stat(filepath.Join(s.cfg.DataDir, "recordings", rm.ID, first.ID)); !os.IsNotExist(err) {
		t.Errorf("oldest replay's files: %v", err)
	}
}

// TestReplaySwitches: no replay for a room whose record setting is off, nor
// for any room when recording is off globally.
func TestReplaySwitches(t *testing.T) {
	for _, c := range []struct {
		name      string
		configure func(*config.Config)
		patch     bool // turn the room's setting off
	}{
		{"room setting off", replayRules, true},
		{"global switch off", func(c *config.Config) { replayRules(c); c.Record.Enabled = false }, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			ctx := testContext(t)
			s := startServer(t, c.configure)
			owner := s.register(ctx, t, "switchowner")
			rm := s.createRoom(ctx, t, owner, "switch", false)
			if c.patch {
				var r struct {
					Record bool `json:"record"`
				}
				s.mustCall(ctx, t, http.MethodPatch, "/api/v1/rooms/"+rm.ID, owner.Token, map[string]any{"record": false}, http.StatusOK, &r)
				if r.Record {
					t.Fatal("record still on after PATCH")
				}
			}
			recordLive(ctx, t, s, owner, rm, 3*time.Second)
			s.waitRoom(t, owner.Token, rm.ID, "ended", roomEndTimeout, func(r roomJSON) bool { return r.Status == "ended" })
			if l := s.replays(ctx, t, owner.Token, rm.ID); len(l) != 0 {
				t.Fatalf("replays: %+v", l)
			}
			if _, err := os.Stat(filepath.Join(s.cfg.DataDir, "recordings", rm.ID)); !os.IsNotExist(err) {
				t.Errorf("recording directory: %v", err)
			}
		})
	}
}
