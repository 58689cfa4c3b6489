package e2e

import (
	"bytes"
	"net/http"
	"strings"
	"testing"
	"time"

	"roomcast/internal/config"
)

// coverRules are the room rules with a cover every second.
func coverRules(c *config.Config) {
	roomRules(c)
	c.Hub.ReconnectGrace = time.Second
	c.Transcode.CoverInterval = time.Second
}

// TestCoverLive publishes to a room and checks its live cover: a JPEG of
// the stream's size that changes over time, announced as the room's
// cover_url, kept as the room's cover once the live ends; and a private
// room's cover needs the play signature.
func TestCoverLive(t *testing.T) {
	requireTool(t, "ffmpeg")
	ctx := testContext(t)
	s := startServer(t, coverRules)
	owner := s.register(ctx, t, "coverhost")
	rm := s.createRoom(ctx, t, owner, "Covers", false)
	liveURL := s.httpURL("/live/" + rm.Stream + ".jpg")

	expectMediaError(ctx, t, liveURL, http.StatusNotFound, "not_found")
	if r := s.coverRoom(ctx, t, "", rm.ID); r.CoverURL != nil {
		t.Fatalf("a new room has cover_url %q", *r.CoverURL)
	}

	p := startPublisher(t, s.pushURL(ctx, t, owner, rm.ID).URL)
	tPublish := time.Now()
	first, cfg, h := coverWaitJPEG(ctx, t, liveURL, 30*time.Second)
	t.Logf("first cover served %v after the publisher started (machine shared)", time.Since(tPublish))
	for _, line := range strings.Split(s.logs.String(), "\n") {
		if strings.Contains(line, "first live cover") {
			t.Logf("server: %s", line)
		}
	}
	if cfg.Width != wantWidth || cfg.Height != wantHeight {
		t.Fatalf("live cover is %dx%d, want %dx%d", cfg.Width, cfg.Height, wantWidth, wantHeight)
	}
	if cc := h.Get("Cache-Control"); !strings.Contains(cc, "max-age=") {
		t.Fatalf("live cover Cache-Control %q, want a short max-age", cc)
	}
	r := s.coverWaitRoom(ctx, t, "", rm.ID, "live with its live cover", 20*time.Second, func(r coverRoomJSON) bool {
		return r.Status == "live" && r.CoverURL != nil
	})
	if *r.CoverURL != liveURL {
		t.Fatalf("cover_url while live = %q, want %q", *r.CoverURL, liveURL)
	}
	// The test pattern moves: a later cover differs.
	deadline := time.Now().Add(30 * time.Second)
	for {
		b, _, _ := coverWaitJPEG(ctx, t, liveURL, 10*time.Second)
		if !bytes.Equal(b, first) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the live cover did not change within 30s")
		}
		time.Sleep(200 * time.Millisecond)
	}

	p.stop(t, 10*time.Second)
	r = s.coverWaitRoom(ctx, t, "", rm.ID, "ended with a kept cover", 30*time.Second, func(r coverRoomJSON) bool {
		return r.Status == "ended" && r.CoverURL != nil && strings.Contains(*r.CoverURL, "/api/v1/rooms/"+rm.ID+"/cover")
	})
	expectMediaError(ctx, t, liveURL, http.StatusNotFound, "not_found")
	_, kept, _ := coverWaitJPEG(ctx, t, *r.CoverURL, 10*time.Second)
	if kept.Width != wantWidth || kept.Height != wantHeight {
		t.Fatalf("kept cover is %dx%d", kept.Width, kept.Height)
	}

	// /metrics counts the covers' ffmpeg time.
	_, _, metrics := coverFetch(ctx, t, s.httpURL("/metrics"))
	if !strings.Contains(string(metrics), `roomcast_transcode_cpu_seconds_total{kind="cover"}`) ||
		strings.Contains(string(metrics), `roomcast_transcode_cpu_seconds_total{kind="cover"} 0`+"\n") {
		t.Fatalf("no cover CPU time in /metrics")
	}
}

// TestCoverPrivate checks a private room's live cover needs the play
// signature and that its cover_url carries one.
func TestCoverPrivate(t *testing.T) {
	requireTool(t, "ffmpeg")
	ctx := testContext(t)
	s := startServer(t, coverRules)
	owner := s.register(ctx, t, "coverpriv")
	rm := s.createRoom(ctx, t, owner, "Secret", true)
	p := startPublisher(t, s.pushURL(ctx, t, owner, rm.ID).URL)
	defer p.kill()
	r := s.coverWaitRoom(ctx, t, owner.Token, rm.ID, "live with a cover", 30*time.Second, func(r coverRoomJSON) bool {
		return r.Status == "live" && r.CoverURL != nil && strings.Contains(*r.CoverURL, ".jpg")
	})
	if !strings.Contains(*r.CoverURL, "txSecret=") {
		t.Fatalf("private cover_url %q has no signature", *r.CoverURL)
	}
	coverWaitJPEG(ctx, t, *r.CoverURL, 10*time.Second)
	expectMediaError(ctx, t, stripQuery(t, *r.CoverURL), http.StatusForbidden, "invalid_signature")
}

// TestCoverUpload checks a host's cover upload is re-encoded and used while
// the room is not live, and that hostile uploads are refused with their
// code, storing nothing, the server unhurt.
func TestCoverUpload(t *testing.T) {
	ctx := testContext(t)
	s := startServer(t, coverRules)
	owner := s.register(ctx, t, "coverup")
	other := s.register(ctx, t, "coverother")
	rm := s.createRoom(ctx, t, owner, "Upload", false)

	up := coverPNG(t, 320, 200)
	if a := s.coverPut(ctx, t, other.Token, rm.ID, up); a.Status != http.StatusForbidden {
		t.Fatalf("upload by another user: %v", a)
	}
	a := s.coverPut(ctx, t, owner.Token, rm.ID, up)
	if a.Status != http.StatusOK {
		t.Fatalf("upload: %v", a)
	}
	r := s.coverRoom(ctx, t, "", rm.ID)
	if r.CoverURL == nil {
		t.Fatal("no cover_url after an upload")
	}
	stored, cfg, _ := coverWaitJPEG(ctx, t, *r.CoverURL, 10*time.Second)
	if cfg.Width != 320 || cfg.Height != 200 || bytes.Equal(stored, up) {
		t.Fatalf("stored cover %dx%d (same bytes as uploaded: %v)", cfg.Width, cfg.Height, bytes.Equal(stored, up))
	}

	full := coverPNG(t, 64, 64)
	for _, tc := range []struct {
		name   string
		body   []byte
		status int
		code   string
	}{
		{"not an image", []byte("<html>definitely not a picture</html>"), http.StatusUnsupportedMediaType, "cover_not_image"},
		{"truncated", full[:len(full)/2], http.StatusBadRequest, "cover_bad_image"},
		{"decompression bomb", coverBomb(60000, 60000), http.StatusBadRequest, "cover_bad_dimensions"},
		{"oversized", append(coverPNG(t, 16, 16), make([]byte, 6<<20)...), http.StatusRequestEntityTooLarge, "cover_too_large"},
	} {
		a := s.coverPut(ctx, t, owner.Token, rm.ID, tc.body)
		if a.Status != tc.status || coverErrorCode(a) != tc.code {
			t.Errorf("%s: %d %s, want %d %s", tc.name, a.Status, a.Body, tc.status, tc.code)
		}
		r := s.coverRoom(ctx, t, "", rm.ID)
		if r.CoverURL == nil {
			t.Fatalf("%s: cover_url gone", tc.name)
		}
		status, _, b := coverFetch(ctx, t, *r.CoverURL)
		if status != http.StatusOK || !bytes.Equal(b, stored) {
			t.Errorf("%s: the stored cover changed (status %d)", tc.name, status)
		}
	}
	// The server is unhurt: it still answers and decodes a good upload.
	if a := s.coverPut(ctx, t, owner.Token, rm.ID, coverPNG(t, 100, 100)); a.Status != http.StatusOK {
		t.Fatalf("upload after the hostile ones: %v", a)
	}
	r = s.coverRoom(ctx, t, "", rm.ID)
	_, cfg, _ = coverWaitJPEG(ctx, t, *r.CoverURL, 10*time.Second)
	if cfg.Width != 100 {
		t.Fatalf("new cover %dx%d, want 100x100", cfg.Width, cfg.Height)
	}
}

// TestCoverWithoutFFmpeg starts a server whose ffmpeg is missing: it says
// once that the features are off, streams still play, and rooms have no
// cover.
func TestCoverWithoutFFmpeg(t *testing.T) {
	requireTool(t, "ffmpeg") // the publisher
	ctx := testContext(t)
	s := startServer(t, func(c *config.Config) {
		coverRules(c)
		c.Transcode.FFmpeg = "/nonexistent/ffmpeg"
	})
	owner := s.register(ctx, t, "covernoff")
	rm := s.createRoom(ctx, t, owner, "No ffmpeg", false)
	p := startPublisher(t, s.pushURL(ctx, t, owner, rm.ID).URL)
	defer p.kill()
	s.waitLive(t, rm.Stream)
	if _, err := decode(ctx, t, s.flvURL(rm.Stream)); err != nil {
		t.Fatalf("stream does not play without ffmpeg: %v", err)
	}
	expectMediaError(ctx, t, s.httpURL("/live/"+rm.Stream+".jpg"), http.StatusNotFound, "not_found")
	if r := s.coverRoom(ctx, t, "", rm.ID); r.CoverURL != nil {
		t.Fatalf("cover_url %q without ffmpeg", *r.CoverURL)
	}
	if n := strings.Count(s.logs.String(), "ffmpeg not found"); n != 1 {
		t.Fatalf("the missing ffmpeg is logged %d times, want once", n)
	}
}

// TestCoverMaxTranscodes runs a live with covers and a one-rung ladder
// under -max-transcodes 1: the two cannot both run, and the refusals are
// counted in /metrics while the stream plays on.
func TestCoverMaxTranscodes(t *testing.T) {
	requireTool(t, "ffmpeg")
	ctx := testContext(t)
	s := startServer(t, func(c *config.Config) {
		coverRules(c)
		c.Transcode.MaxTranscodes = 1
		c.Transcode.ABRLadder = []string{"360p"}
	})
	owner := s.register(ctx, t, "coverbound")
	rm := s.createRoom(ctx, t, owner, "Bounded", false)
	p := startPublisher(t, s.pushURL(ctx, t, owner, rm.ID).URL)
	defer p.kill()
	s.waitLive(t, rm.Stream)
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, _, m := coverFetch(ctx, t, s.httpURL("/metrics"))
		if strings.Contains(string(m), `roomcast_limit_refusals_total{limit="max-transcodes"}`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no max-transcodes refusal counted within 30s")
		}
		time.Sleep(pollInterval)
	}
	if _, err := decode(ctx, t, s.flvURL(rm.Stream)); err != nil {
		t.Fatalf("the stream does not play: %v", err)
	}
}
