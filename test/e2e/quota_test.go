package e2e

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"roomcast/internal/config"
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
