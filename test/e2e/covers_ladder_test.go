package e2e

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"roomcast/internal/config"
)

// coverKeyframes reads an FLV URL until it has n video keyframes after the
// first and returns their timestamps (the first, from the GOP cache, is
// left out: it may be older than the other stream's).
func coverKeyframes(ctx context.Context, rawURL string, n int) ([]uint32, error) {
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", rawURL, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", rawURL, resp.Status)
	}
	s, _, err := newFLVStream(resp.Body)
	if err != nil {
		return nil, err
	}
	var out []uint32
	first := true
	for len(out) < n {
		tag, err := s.next()
		if err != nil {
			return nil, fmt.Errorf("%s: %w after %d keyframes", rawURL, err, len(out))
		}
		if !tag.isKeyframe() {
			continue
		}
		if first {
			first = false
			continue
		}
		out = append(out, tag.Timestamp)
	}
	return out, nil
}

// TestCoverLadder publishes a 640x360 stream with -abr-ladder 480p,360p:
// only the 360p rendition runs (no upscaling); the room's HLS playlist is
// multivariant; the rendition decodes at height 360 over HLS and HTTP-FLV
// and its keyframes fall on the source's; its name is reserved.
func TestCoverLadder(t *testing.T) {
	requireTool(t, "ffmpeg")
	ctx := testContext(t)
	hooks := startHookReceiver(t)
	s := startServer(t, func(c *config.Config) {
		coverRules(c)
		sendHooksTo(hooks)(c)
		c.Transcode.ABRLadder = []string{"480p", "360p"}
	})
	owner := s.register(ctx, t, "ladderhost")
	rm := s.createRoom(ctx, t, owner, "Ladder", false)
	p := startPublisher(t, s.pushURL(ctx, t, owner, rm.ID).URL)
	defer p.kill()

	r := s.coverWaitRoom(ctx, t, "", rm.ID, "live with a rendition", 60*time.Second, func(r coverRoomJSON) bool {
		return r.Status == "live" && r.Play != nil && len(r.Play.Renditions) > 0
	})
	if len(r.Play.Renditions) != 1 || r.Play.Renditions[0].Name != "360p" || r.Play.Renditions[0].Height != 360 {
		t.Fatalf("renditions = %+v, want only 360p (a 360p source is not upscaled to 480p)", r.Play.Renditions)
	}
	rd := r.Play.Renditions[0]
	// The room's renditions are its programme's (what its play URLs carry).
	pgm := rm.Stream + "-programme"
	if !strings.HasSuffix(stripQuery(t, rd.FLV), "/live/"+pgm+"_360p.flv") {
		t.Fatalf("rendition FLV URL %q", rd.FLV)
	}

	status, h, body := coverFetch(ctx, t, r.Play.HLS)
	master := string(body)
	if status != http.StatusOK || !strings.Contains(h.Get("Content-Type"), "mpegurl") {
		t.Fatalf("GET %s: %d %q", r.Play.HLS, status, h.Get("Content-Type"))
	}
	for _, want := range []string{"#EXT-X-STREAM-INF:", "BANDWIDTH=", "RESOLUTION=640x360", `CODECS="avc1.`, "mp4a.40.2", pgm + "_360p.m3u8", "variant=source"} {
		if !strings.Contains(master, want) {
			t.Fatalf("multivariant playlist lacks %q:\n%s", want, master)
		}
	}
	if strings.Contains(master, "_480p") {
		t.Fatalf("multivariant playlist lists an upscaled rendition:\n%s", master)
	}

	for _, u := range []string{rd.HLS, rd.FLV} {
		streams, err := ffprobe(ctx, t, u)
		if err != nil {
			t.Fatal(err)
		}
		var height int
		var audio bool
		for _, st := range streams {
			switch st.CodecType {
			case "video":
				height = st.Height
			case "audio":
				audio = true
			}
		}
		if height != 360 || !audio {
			t.Fatalf("%s: video height %d, audio %v; want 360 with audio", u, height, audio)
		}
		if res, err := decode(ctx, t, u); err != nil || res.Frames == 0 {
			t.Fatalf("%s does not decode: %v %+v", u, err, res)
		}
	}

	// Keyframes: each rendition keyframe is at a source keyframe's time
	// (both read at once, the source for longer).
	var src []uint32
	var srcErr error
	done := make(chan struct{})
	go func() {
		defer close(done)
		src, srcErr = coverKeyframes(ctx, s.flvURL(pgm), 6)
	}()
	ren, err := coverKeyframes(ctx, rd.FLV, 3)
	<-done
	if err != nil || srcErr != nil {
		t.Fatalf("keyframes: rendition %v, source %v", err, srcErr)
	}
	set := map[uint32]bool{}
	for _, ts := range src {
		set[ts] = true
	}
	checked := 0
	for _, ts := range ren {
		if ts < src[0] || ts > src[len(src)-1] {
			continue
		}
		checked++
		if !set[ts] {
			t.Fatalf("rendition keyframe at %d ms is not a source keyframe (source keyframes %v, rendition %v)", ts, src, ren)
		}
	}
	if checked == 0 {
		t.Fatalf("no rendition keyframe within the source's (source %v, rendition %v)", src, ren)
	}

	// The rendition's name is the ladder's: nobody else may publish it.
	push := s.pushURL(ctx, t, owner, rm.ID)
	evil := startPublisherFor(t, strings.Replace(push.URL, "/"+rm.Stream+"?", "/"+rm.Stream+"_360p?", 1), 3*time.Second)
	if err, ok := evil.waitExit(20 * time.Second); !ok || err == nil {
		t.Fatalf("publishing to the rendition's name was not refused (exit %v)", err)
	}

	// The rendition fires no webhooks, records nothing and gets no room
	// status: once the source's live ended (events after the rendition's
	// start, in the same ordered queue), only the source has events.
	p.stop(t, 10*time.Second)
	hooks.wait(t, "the source's room.ended", 30*time.Second, func(reqs []hookRequest) bool {
		return hasTypes(hookEvents(reqs, rm.Stream, delivered), 1, roomEventTypes...)
	})
	for _, r := range hooks.requests() {
		if strings.Contains(r.Payload.Stream, "_360p") {
			t.Fatalf("a webhook about the rendition: %v", r)
		}
	}
	if reps := s.replays(ctx, t, owner.Token, rm.ID); len(reps) != 1 {
		t.Fatalf("%d replays, want the source's only: %+v", len(reps), reps)
	}
}
