package e2e

import (
	"fmt"
	"net/http"
	"testing"
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
