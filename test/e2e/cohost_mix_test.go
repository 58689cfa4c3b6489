package e2e

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestCohostMix checks the programme (混流) with real ffmpeg publishers:
// the host publishes blue, the co-host red; the room's play.flv shows the
// host alone, then both colours while the co-host is live, then the host
// alone again after the co-host was removed; a viewer connected to
// play.flv throughout stays connected with monotonic timestamps; the mix's
// process shows in /metrics.
func TestCohostMix(t *testing.T) {
	requireTool(t, "ffmpeg")
	srv := startServer(t, roomRules)
	ctx := testContext(t)
	alice := srv.register(ctx, t, "alice")
	bob := srv.register(ctx, t, "bob")
	rm := srv.createRoom(ctx, t, alice, "Mixed", false)
	srv.cohostAdd(ctx, t, alice, rm.ID, bob.ID)
	if !strings.Contains(rm.Play.FLV, rm.Stream+"-programme.flv") {
		t.Fatalf("play.flv %s is not the programme", rm.Play.FLV)
	}

	host := cohostPublish(t, srv.pushURL(ctx, t, alice, rm.ID).URL, "blue", 440)
	srv.waitLive(t, rm.Stream)
	srv.waitLive(t, rm.Stream+"-programme")
	viewer := startFLVViewer(t, rm.Play.FLV)
	viewer.waitFrames(t, time.Time{}, 25, 15*time.Second)
	cohostWaitColours(ctx, t, rm.Play.FLV, "the host alone", 30*time.Second, func(blue, red int) bool { return blue > 2000 && red == 0 })

	// The co-host goes live: the programme becomes the mix.
	guest := cohostPublish(t, srv.pushURL(ctx, t, bob, rm.ID).URL, "red", 880)
	live := srv.cohostWaitRoom(ctx, t, "", rm.ID, "with two live members", liveTimeout, func(r cohostRoom) bool {
		return len(r.Members) == 2 && r.Members[0].Live && r.Members[1].Live
	})
	for _, m := range live.Members {
		if m.Play == nil || m.Play.FLV != srv.flvURL(m.Stream) {
			t.Errorf("member %s: play URLs %+v", m.User.Name, m.Play)
		}
	}
	mixStart := time.Now()
	cohostWaitColours(ctx, t, rm.Play.FLV, "showing both colours", 60*time.Second, func(blue, red int) bool { return blue > 1000 && red > 50 })
	t.Logf("the mix showed %v after the co-host went live", time.Since(mixStart).Round(time.Millisecond))
	streams, err := ffprobe(ctx, t, rm.Play.FLV)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range streams {
		if s.CodecType == "video" && (s.Width != 640 || s.Height != 360) {
			t.Errorf("the programme is %dx%d, want the host's 640x360", s.Width, s.Height)
		}
	}
	metrics := srv.cohostMetrics(t)
	if !strings.Contains(metrics, `roomcast_transcode_jobs{kind="mix"} 1`) {
		t.Errorf("/metrics does not count the running mix:\n%s", cohostGrep(metrics, "transcode"))
	}

	// Removing the co-host ends its publish and the programme returns to
	// the host alone.
	srv.mustCall(ctx, t, http.MethodDelete, "/api/v1/rooms/"+rm.ID+"/cohosts/"+bob.ID, alice.Token, nil, http.StatusNoContent, nil)
	if _, ok := guest.waitExit(10 * time.Second); !ok {
		t.Fatal("the co-host's ffmpeg still publishes 10 s after its removal")
	}
	cohostWaitColours(ctx, t, rm.Play.FLV, "the host alone again", 60*time.Second, func(blue, red int) bool { return blue > 2000 && red == 0 })

	// The viewer connected before the mix stayed connected through both
	// switches, its timestamps never going back.
	since := time.Now()
	viewer.waitFrames(t, since, 25, 15*time.Second)
	if ended, err := viewer.ended(); ended {
		t.Fatalf("the viewer of play.flv was disconnected: %v", err)
	}
	if r := viewer.timestampRegressions(); len(r) > 0 {
		t.Errorf("timestamps went back for the viewer: %v", r)
	}
	if n := viewer.seqHeadersSince(mixStart); n < 2 {
		t.Errorf("the viewer got %d new sequence headers since the mix started, want one per switch (2)", n)
	}
	if !host.running() {
		t.Errorf("the host's publisher stopped")
	}
}

// cohostMetrics scrapes /metrics.
func (s *testServer) cohostMetrics(t *testing.T) string {
	t.Helper()
	body, resp, err := httpGet(testContext(t), s.httpURL("/metrics"))
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %v %v", resp, err)
	}
	return string(body)
}

// cohostGrep returns the lines of text that contain word.
func cohostGrep(text, word string) string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if strings.Contains(l, word) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
