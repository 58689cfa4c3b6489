package room

import (
	"context"
	"errors"
	"fmt"

	"roomcast/internal/media"
	"roomcast/internal/store"
)

// AuthorizePublishBy decides whether the logged-in user u may publish
// stream without a signed URL (WHIP with a bearer token): u must manage the
// stream's room (its owner or an admin), and the owner must not be banned.
//
// Refusals match ErrDenied and wrap ErrInvalidStream, ErrNoRoom,
// ErrForbidden or ErrOwnerBanned; other errors are failures of the store.
func (s *Service) AuthorizePublishBy(ctx context.Context, u *store.User, stream string) error {
	deny := func(err error) error { return &deniedError{op: "publish", stream: stream, cause: err} }
	if !media.ValidName(stream) {
		return deny(ErrInvalidStream)
	}
	r, err := s.st.RoomByStream(ctx, stream)
	if errors.Is(err, store.ErrNotFound) {
		return deny(ErrNoRoom)
	}
	if err != nil {
		return fmt.Errorf("room: authorize publish of %q: %w", stream, err)
	}
	if !CanManage(u, r) {
		return deny(ErrForbidden)
	}
	if u.ID != r.OwnerID {
		owner, err := s.st.UserByID(ctx, r.OwnerID)
		if errors.Is(err, store.ErrNotFound) {
			return deny(ErrNoRoom)
		}
		if err != nil {
			return fmt.Errorf("room: authorize publish of %q: %w", stream, err)
		}
		if owner.Banned {
			return deny(ErrOwnerBanned)
		}
	}
	return nil
}
