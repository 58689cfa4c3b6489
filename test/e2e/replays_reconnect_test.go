package e2e

import (
	"net/http"
	"testing"
	"time"

	"roomcast/internal/config"
)

// TestReplayReconnect: a publisher that comes back within the reconnect
// grace continues the same replay, with a discontinuity where it left;
// one that comes back after the grace (the live ended) starts a new one.
func TestReplayReconnect(t *testing.T) {
	ctx := testContext(t)
	const grace = 4 * time.Second
	s := startServer(t, replayRules, func(c *config.Config) { c.Hub.ReconnectGrace = grace })
	owner := s.register(ctx, t, "reconowner")
	rm := s.createRoom(ctx, t, owner, "reconnect", false)
	push := s.pushURL(ctx, t, owner, rm.ID)

	// Within the grace: one replay.
	first := startPublisher(t, push.URL)
	s.waitRoom(t, owner.Token, rm.ID, "live", 20*time.Second, func(r roomJSON) bool { return r.Status == "live" })
	time.Sleep(3 * time.Second)
	first.kill() // a dropped connection
	dropped := time.Now()
	second := startPublisher(t, push.URL)
	s.waitStats(t, rm.Stream, "live with the second publisher", 20*time.Second, func(st streamStats, found bool) bool {
		return found && st.Live && st.Publisher != nil
	})
	if back := time.Since(dropped); back >= grace {
		t.Fatalf("the publisher took %v to come back, beyond the %v grace: the test cannot check a resume", back, grace)
	}
	time.Sleep(3 * time.Second)
	second.kill()
	rep := s.waitReady(ctx, t, owner.Token, rm.ID, 1)
	_, body := get(ctx, t, rep.URL)
	pl := parseVOD(t, body)
	if !pl.ended || pl.discontinuity != 1 || pl.segments != rep.Segments {
		t.Fatalf("replay across a reconnect: %+v, want one discontinuity\n%s", pl, body)
	}
	if pl.duration < 5*time.Second {
		t.Errorf("replay across a reconnect lasts %v, want both publishers' 6 s or so", pl.duration)
	}
	decodeAll(ctx, t, rep.URL)

	// After the grace (the room ended): a second replay.
	s.waitRoom(t, owner.Token, rm.ID, "ended", roomEndTimeout, func(r roomJSON) bool { return r.Status == "ended" })
	recordLive(ctx, t, s, owner, rm, 3*time.Second)
	newest := s.waitReady(ctx, t, owner.Token, rm.ID, 2)
	if newest.ID == rep.ID {
		t.Fatalf("no new replay after the grace: %+v", newest)
	}
	if l := s.replays(ctx, t, owner.Token, rm.ID); len(l) != 2 || l[1].ID != rep.ID || l[1].Status != "ready" {
		t.Fatalf("replays %+v, want the new one then %s", l, rep.ID)
	}
	resp, body := get(ctx, t, newest.URL)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("second replay: %s", resp.Status)
	}
	if pl := parseVOD(t, body); !pl.ended || pl.discontinuity != 0 {
		t.Errorf("second replay %+v, want one session without discontinuity\n%s", pl, body)
	}
}
