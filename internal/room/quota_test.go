package room

import (
	"errors"
	"testing"

	"roomcast/internal/quota"
	"roomcast/internal/store"
)

// TestRoomQuota refuses the room past MaxRoomsPerUser to a user, counts the
// refusal, lets admins past it, and frees a slot when a room is deleted.
func TestRoomQuota(t *testing.T) {
	tests := []struct {
		name    string
		limit   int // Config.MaxRoomsPerUser
		admin   bool
		allowed int // rooms created before the first refusal; -1: never refused
	}{
		{"default limit", 0, false, DefaultMaxRoomsPerUser},
		{"limit of 3", 3, false, 3},
		{"limit above a page", store.MaxPageSize + 2, false, store.MaxPageSize + 2},
		{"admins have no limit", 3, true, -1},
		{"no limit", -1, false, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			var refused []string
			cfg := f.svc.Config()
			cfg.MaxRoomsPerUser = tt.limit
			cfg.QuotaRefused = func(q string) { refused = append(refused, q) }
			svc, err := New(f.db, cfg)
			if err != nil {
				t.Fatal(err)
			}
			owner := f.owner
			if tt.admin {
				owner = f.ad
			}
			tries := tt.allowed + 1
			if tt.allowed < 0 {
				tries = 12
			}
			var last *store.Room
			for i := range tries {
				r, err := svc.Create(t.Context(), owner, Input{Title: ptr("room")})
				if tt.allowed >= 0 && i == tt.allowed {
					var qe *quota.Exceeded
					if !errors.As(err, &qe) || !errors.Is(err, quota.ErrExceeded) || qe.Quota != quota.RoomsPerUser || qe.Limit != tt.allowed {
						t.Fatalf("room %d: %v, want quota %s exceeded at %d", i+1, err, quota.RoomsPerUser, tt.allowed)
					}
					if len(refused) != 1 || refused[0] != quota.RoomsPerUser {
						t.Fatalf("refusals counted: %v", refused)
					}
					// Deleting a room frees a slot.
					if _, err := svc.Delete(t.Context(), owner, last.ID); err != nil {
						t.Fatal(err)
					}
					if _, err := svc.Create(t.Context(), owner, Input{Title: ptr("again")}); err != nil {
						t.Fatalf("after a delete: %v", err)
					}
					return
				}
				if err != nil {
					t.Fatalf("room %d: %v", i+1, err)
				}
				last = r
			}
			if tt.allowed >= 0 {
				t.Fatal("never refused")
			}
			if len(refused) != 0 {
				t.Fatalf("refusals counted without a limit: %v", refused)
			}
		})
	}
}
