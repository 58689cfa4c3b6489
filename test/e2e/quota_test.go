package e2e

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"roomcast/internal/config"
	"roomcast/internal/protocol/rtmp"
)

// TestRoomQuotaAPI: at the default quota of 50 rooms per user, the 51st
// room is refused with 403 quota_exceeded and counted in /metrics.
func TestRoomQuotaAPI(t *testing.T) {
	ctx := testContext(t)
	s := startServer(t, roomRules)
	if s.cfg.Quotas.RoomsPerUser != 50 {
		t.Fatalf("default max-rooms-per-user %d, want 50", s.cfg.Quotas.RoomsPerUser)
	}
	u := s.register(ctx, t, "quotauser")
	for i := range 50 {
		s.createRoom(ctx, t, u, fmt.Sprintf("room %d", i+1), false)
	}
	s.expectError(ctx, t, http.MethodPost, "/api/v1/rooms", u.Token, map[string]any{"title": "room 51"}, http.StatusForbidden, "quota_exceeded")
	m := s.scrapeMetrics(ctx, t)
	if got := m[`roomcast_quota_refusals_total{quota="rooms_per_user"}`]; got != 1 {
		t.Fatalf("roomcast_quota_refusals_total{quota=\"rooms_per_user\"} = %v, want 1", got)
	}
}

// TestRecordingQuota: once the replays of a user's rooms reach
// -max-recording-bytes-per-user, its next live is not recorded, and the
// refusal is counted.
func TestRecordingQuota(t *testing.T) {
	ctx := testContext(t)
	s := startServer(t, func(c *config.Config) {
		replayRules(c)
		c.Quotas.RecordingBytesPerUser = 1
	})
	owner := s.register(ctx, t, "recquota")
	rm := s.createRoom(ctx, t, owner, "recorded once", false)
	recordFinite(ctx, t, s, owner, rm, 2*time.Second)
	if r := s.waitReady(ctx, t, owner.Token, rm.ID, 1); r.Bytes < 1 {
		t.Fatalf("first replay holds %d bytes", r.Bytes)
	}
	s.waitRoom(t, owner.Token, rm.ID, "ended", roomEndTimeout, func(r roomJSON) bool { return r.Status == "ended" })

	recordFinite(ctx, t, s, owner, rm, 2*time.Second)
	s.waitMetrics(ctx, t, "the refusal counted", 20*time.Second, func(m map[string]float64) bool {
		return m[`roomcast_quota_refusals_total{quota="recording_bytes_per_user"}`] == 1
	})
	s.waitRoom(t, owner.Token, rm.ID, "ended", roomEndTimeout, func(r roomJSON) bool { return r.Status == "ended" })
	if l := s.replays(ctx, t, owner.Token, rm.ID); len(l) != 1 {
		t.Fatalf("%d replays after the quota was used up, want 1: %+v", len(l), l)
	}
}

// TestPublishesPerUserQuota: with -max-publishes-per-user 1, a user live in
// one room is refused a second live, over RTMP (NetStream.Publish.Rejected,
// quota_exceeded) and over WHIP (403 quota_exceeded, signed URL or bearer
// token); each refusal is counted. Its publisher coming back within the
// reconnect grace is not refused, and once it stops the other room may go
// live.
func TestPublishesPerUserQuota(t *testing.T) {
	ctx := testContext(t)
	s := startServer(t, func(c *config.Config) {
		roomRules(c)
		c.Hub.ReconnectGrace = time.Minute
		c.Quotas.PublishesPerUser = 1
	})
	alice := s.register(ctx, t, "pubquota")
	a := s.createRoom(ctx, t, alice, "first live", false)
	b := s.createRoom(ctx, t, alice, "second live", false)
	pushA, pushB := s.pushURL(ctx, t, alice, a.ID), s.pushURL(ctx, t, alice, b.ID)
	publisherOn := func(what string) {
		t.Helper()
		s.waitStats(t, a.Stream, what, 30*time.Second, func(st streamStats, found bool) bool { return found && st.Publisher != nil })
	}
	pa := startPublisher(t, pushA.URL)
	publisherOn("room A live")

	pub, err := rtmp.Dial(ctx, pushB.URL)
	if err != nil {
		t.Fatal(err)
	}
	err = pub.Publish(ctx)
	pub.Close()
	var se *rtmp.StatusError
	if !errors.As(err, &se) || se.Code != "NetStream.Publish.Rejected" || !strings.Contains(se.Description, "quota_exceeded") {
		t.Fatalf("RTMP publish of a second room: %v, want NetStream.Publish.Rejected with quota_exceeded", err)
	}
	clip := webrtcMakeClip(t, 2*time.Second)
	for _, tc := range []struct{ name, url, token string }{
		{"signed", pushB.WHIP, ""},
		{"bearer", s.httpURL("/live/" + b.Stream + "/whip"), alice.Token},
	} {
		if p, ans := webrtcPublish(ctx, t, tc.url, tc.token, clip); p != nil || ans.Status != http.StatusForbidden || ans.Code != "quota_exceeded" {
			t.Fatalf("WHIP (%s) publish of a second room: %d %s, want 403 quota_exceeded", tc.name, ans.Status, ans.Body)
		}
	}
	refusals := func() float64 {
		return s.scrapeMetrics(ctx, t)[`roomcast_quota_refusals_total{quota="publishes_per_user"}`]
	}
	if n := refusals(); n != 3 {
		t.Fatalf("roomcast_quota_refusals_total{quota=\"publishes_per_user\"} = %v, want 3", n)
	}

	// Room A's publisher leaves and comes back within the grace.
	pa.stop(t, 10*time.Second)
	s.waitStats(t, a.Stream, "room A's publisher gone, the stream in its grace", 20*time.Second, func(st streamStats, found bool) bool { return found && st.Publisher == nil })
	pa = startPublisher(t, pushA.URL)
	publisherOn("room A's publisher back")
	if n := refusals(); n != 3 {
		t.Fatalf("the publisher coming back was counted as refused: %v refusals", n)
	}

	// Room A stops: room B may go live.
	pa.stop(t, 10*time.Second)
	s.waitStats(t, a.Stream, "room A's publisher gone", 20*time.Second, func(st streamStats, found bool) bool { return !found || st.Publisher == nil })
	if p, ans := webrtcPublish(ctx, t, s.httpURL("/live/"+b.Stream+"/whip"), alice.Token, clip); p == nil {
		t.Fatalf("WHIP publish of room B after room A stopped: %d %s", ans.Status, ans.Body)
	}
	s.waitRoom(t, alice.Token, b.ID, "room B live", 20*time.Second, func(r roomJSON) bool { return r.Status == "live" })
}

// TestCohostQuotaCounted: a co-host past -max-cohosts is refused with
// 409 too_many_cohosts, and the refusal is counted as the cohosts_per_room
// quota.
func TestCohostQuotaCounted(t *testing.T) {
	ctx := testContext(t)
	s := startServer(t, func(c *config.Config) {
		roomRules(c)
		c.Cohost.Max = 1
	})
	alice := s.register(ctx, t, "cqhost")
	bob := s.register(ctx, t, "cqbob")
	carol := s.register(ctx, t, "cqcarol")
	rm := s.createRoom(ctx, t, alice, "one co-host", false)
	s.cohostAdd(ctx, t, alice, rm.ID, bob.ID)
	s.expectError(ctx, t, http.MethodPost, "/api/v1/rooms/"+rm.ID+"/cohosts", alice.Token, map[string]string{"user_id": carol.ID}, http.StatusConflict, "too_many_cohosts")
	if n := s.scrapeMetrics(ctx, t)[`roomcast_quota_refusals_total{quota="cohosts_per_room"}`]; n != 1 {
		t.Fatalf("roomcast_quota_refusals_total{quota=\"cohosts_per_room\"} = %v, want 1", n)
	}
}
