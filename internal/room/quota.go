package room

import (
	"context"
	"fmt"

	"roomcast/internal/quota"
	"roomcast/internal/store"
)

// DefaultMaxRoomsPerUser is Config.MaxRoomsPerUser's default.
const DefaultMaxRoomsPerUser = 50

// checkRoomQuota refuses a new room to owner when it already has
// Config.MaxRoomsPerUser rooms (negative: no limit). Admins have no limit.
// Two creations racing past the last free slot may both pass: the quota
// guards storage against one account's flood, not to the room.
func (s *Service) checkRoomQuota(ctx context.Context, owner *store.User) error {
	limit := s.cfg.MaxRoomsPerUser
	if limit < 0 || owner.Role == store.RoleAdmin {
		return nil
	}
	n := 0
	f := store.RoomFilter{OwnerID: owner.ID, Limit: min(limit+1, store.MaxPageSize)}
	for {
		rooms, next, err := s.st.ListRooms(ctx, f)
		if err != nil {
			return fmt.Errorf("room: count rooms of %q: %w", owner.ID, err)
		}
		n += len(rooms)
		if n >= limit {
			if s.cfg.QuotaRefused != nil {
				s.cfg.QuotaRefused(quota.RoomsPerUser)
			}
			return &quota.Exceeded{Quota: quota.RoomsPerUser, Limit: limit}
		}
		if next == "" {
			return nil
		}
		f.Cursor = next
	}
}
