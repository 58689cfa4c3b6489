package room

import (
	"context"
	"errors"
	"fmt"

	"roomcast/internal/media"
	"roomcast/internal/store"
)

// AuthorizePublishBy decides whether the logged-in user u may publish
// stream without a signed URL (WHIP with a bearer token): a room's own
// stream by a user who manages the room (its owner or an admin), a
// co-host's stream by that co-host alone, while it is one and not banned;
// in both cases the room's owner must not be banned.
//
// Refusals match ErrDenied and wrap ErrInvalidStream, ErrNoRoom,
// ErrReservedStream, ErrForbidden, ErrOwnerBanned, ErrNotCohost or
// ErrUserBanned; other errors are failures of the store.
func (s *Service) AuthorizePublishBy(ctx context.Context, u *store.User, stream string) error {
	deny := func(err error) error { return &deniedError{op: "publish", stream: stream, cause: err} }
	if !media.ValidName(stream) {
		return deny(ErrInvalidStream)
	}
	ref, ok := ParseStream(stream)
	switch {
	case !ok:
		return deny(ErrNoRoom)
	case ref.Kind != KindHost && ref.Kind != KindCohost:
		return deny(ErrReservedStream)
	}
	r, err := s.st.RoomByStream(ctx, ref.Room)
	if errors.Is(err, store.ErrNotFound) {
		return deny(ErrNoRoom)
	}
	if err != nil {
		return fmt.Errorf("room: authorize publish of %q: %w", stream, err)
	}
	switch {
	case ref.Kind == KindCohost && u.ID != ref.UserID:
		return deny(ErrForbidden) // only the co-host publishes its stream
	case ref.Kind == KindHost && !CanManage(u, r):
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
	if ref.Kind == KindCohost {
		return s.authorizeCohost(ctx, r, ref.UserID, deny)
	}
	return nil
}

// PublisherOf returns the user a publish of stream counts for (the
// concurrent-publishes quota): the room's owner for its own stream, the
// co-host for a co-host stream, "" for a stream of no room.
func (s *Service) PublisherOf(ctx context.Context, stream string) (string, error) {
	ref, ok := ParseStream(stream)
	if !ok {
		return "", nil
	}
	if ref.Kind == KindCohost {
		return ref.UserID, nil
	}
	if ref.Kind != KindHost {
		return "", nil
	}
	r, err := s.st.RoomByStream(ctx, ref.Room)
	if errors.Is(err, store.ErrNotFound) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("room: publisher of %q: %w", stream, err)
	}
	return r.OwnerID, nil
}
