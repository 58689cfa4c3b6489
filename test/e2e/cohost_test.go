package e2e

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"roomcast/internal/config"
	"roomcast/internal/protocol/rtmp"
)

// TestCohostMembers goes through a co-host's life without the mix: the
// host adds a co-host, who gets a push URL for its own stream and
// publishes; the room lists two live members with play URLs that play;
// members play each other; a third user can neither add co-hosts nor
// push; removing the co-host ends its RTMP publish within seconds, and its
// URL publishes no more.
func TestCohostMembers(t *testing.T) {
	srv := startServer(t, roomRules, func(c *config.Config) { c.Cohost.Mix = false })
	ctx := testContext(t)
	alice := srv.register(ctx, t, "alice")
	bob := srv.register(ctx, t, "bob")
	carol := srv.register(ctx, t, "carol")
	rm := srv.createRoom(ctx, t, alice, "Duet", false)
	cohosts := "/api/v1/rooms/" + rm.ID + "/cohosts"

	srv.expectError(ctx, t, http.MethodPost, cohosts, carol.Token, map[string]string{"user_id": bob.ID}, http.StatusForbidden, "forbidden")
	srv.expectError(ctx, t, http.MethodPost, cohosts, alice.Token, map[string]string{"user_id": "user_" + strings.Repeat("x", 26)}, http.StatusNotFound, "not_found")
	added := srv.cohostAdd(ctx, t, alice, rm.ID, bob.ID)
	if len(added.Members) != 2 || added.Members[1].User.ID != bob.ID || added.Members[1].Role != "cohost" {
		t.Fatalf("members after adding bob: %+v", added.Members)
	}

	hostPush := srv.pushURL(ctx, t, alice, rm.ID)
	bobPush := srv.pushURL(ctx, t, bob, rm.ID)
	bobStream := rm.Stream + "-" + bob.ID
	if !strings.HasPrefix(bobPush.URL, srv.rtmpURL(bobStream)+"?") {
		t.Fatalf("bob's push URL %s is not for his own stream %s", bobPush.URL, bobStream)
	}
	srv.expectError(ctx, t, http.MethodPost, "/api/v1/rooms/"+rm.ID+"/push-url", carol.Token, nil, http.StatusForbidden, "forbidden")
	// Carol cannot push into the room: not with bob's signature on her
	// stream, nor unsigned.
	carolStream := rm.Stream + "-" + carol.ID
	_, bobQuery, _ := strings.Cut(bobPush.URL, "?")
	for _, u := range []string{srv.rtmpURL(carolStream) + "?" + bobQuery, srv.rtmpURL(carolStream), srv.rtmpURL(rm.Stream) + "?" + bobQuery} {
		if c, err := rtmpPublish(ctx, u); err == nil {
			c.Close()
			t.Errorf("publish %s accepted", u)
		} else {
			checkRefused(t, err, codeBadName)
		}
	}

	host := cohostPublish(t, hostPush.URL, "blue", 440)
	guest := cohostPublish(t, bobPush.URL, "red", 880)
	live := srv.cohostWaitRoom(ctx, t, "", rm.ID, "with two live members", liveTimeout, func(r cohostRoom) bool {
		return len(r.Members) == 2 && r.Members[0].Live && r.Members[1].Live
	})
	for i, want := range []struct{ role, id, stream string }{{"host", alice.ID, rm.Stream}, {"cohost", bob.ID, bobStream}} {
		m := live.Members[i]
		if m.Role != want.role || m.User.ID != want.id || m.Stream != want.stream || m.Play == nil ||
			m.Play.FLV != srv.flvURL(want.stream) || m.Play.RTMP != srv.rtmpURL(want.stream) ||
			m.Play.WHEP != srv.httpURL("/live/"+want.stream+"/whep") {
			t.Errorf("member %d: %+v, want %+v", i, m, want)
		}
	}
	// Members play each other straight from the publisher.
	for _, m := range live.Members {
		streams, err := ffprobe(ctx, t, m.Play.FLV)
		if err != nil {
			t.Fatal(err)
		}
		checkProbe(t, streams)
		rtmpPlayKeyframe(ctx, t, m.Play.RTMP)
	}
	// The programme plays the host alone.
	cohostWaitColours(ctx, t, live.Play.FLV, "the host alone", 30*time.Second, func(blue, red int) bool { return blue > 2000 && red == 0 })

	// Carol may not remove bob; removing him ends his publish at once.
	srv.expectError(ctx, t, http.MethodDelete, cohosts+"/"+bob.ID, carol.Token, nil, http.StatusForbidden, "forbidden")
	removed := time.Now()
	srv.mustCall(ctx, t, http.MethodDelete, cohosts+"/"+bob.ID, alice.Token, nil, http.StatusNoContent, nil)
	if _, ok := guest.waitExit(10 * time.Second); !ok {
		t.Fatalf("bob's ffmpeg still publishes 10 s after his removal")
	}
	t.Logf("bob's ffmpeg ended %v after his removal", time.Since(removed).Round(time.Millisecond))
	after := srv.cohostGetRoom(ctx, t, "", rm.ID)
	if len(after.Members) != 1 || !after.Members[0].Live {
		t.Errorf("members after the removal: %+v", after.Members)
	}
	if c, err := rtmpPublish(ctx, bobPush.URL); err == nil {
		c.Close()
		t.Errorf("bob's push URL still publishes after his removal")
	} else {
		var se *rtmp.StatusError
		if !errors.As(err, &se) || !strings.Contains(se.Description, "not a co-host") {
			t.Errorf("bob's publish after removal: %v, want a refusal saying he is not a co-host", err)
		}
	}
	srv.expectError(ctx, t, http.MethodPost, "/api/v1/rooms/"+rm.ID+"/push-url", bob.Token, nil, http.StatusForbidden, "forbidden")
	if !host.running() {
		t.Errorf("the host's publisher stopped")
	}
}
