package room

import (
	"context"
	"errors"
	"fmt"
	"net/url"

	"roomcast/internal/auth"
	"roomcast/internal/media"
	"roomcast/internal/store"
)

// deniedError is a refusal of AuthorizePublish or AuthorizePlay. It matches
// ErrDenied and unwraps to its cause.
type deniedError struct {
	op, stream string
	cause      error
}

func (e *deniedError) Error() string {
	return fmt.Sprintf("%s of stream %q refused: %s", e.op, e.stream, reason(e.cause))
}

// reason says briefly why access was denied.
func reason(err error) string {
	switch {
	case errors.Is(err, auth.ErrMissingSignature):
		return "the URL carries no signature (txSecret and txTime)"
	case errors.Is(err, auth.ErrExpired):
		return "the URL's signature has expired"
	case errors.Is(err, auth.ErrBadTxTime):
		return "the URL's txTime is malformed or too far in the future"
	case errors.Is(err, auth.ErrBadSignature):
		return "the URL's signature is invalid"
	}
	return err.Error()
}

func (e *deniedError) Unwrap() error { return e.cause }

func (e *deniedError) Is(target error) bool { return target == ErrDenied }

// AuthorizePublish decides whether an RTMP client may publish stream with
// the URL query q. The RTMP server calls it before accepting a publish. It
// returns nil when q carries a valid, unexpired push signature for stream
// (txSecret and txTime under the push key), a room uses the stream, and the
// room's owner is not banned.
//
// Refusals match ErrDenied and wrap their cause: ErrInvalidStream, one of
// auth.ErrMissingSignature, auth.ErrBadTxTime, auth.ErrExpired and
// auth.ErrBadSignature, ErrNoRoom or ErrOwnerBanned. The signature is
// checked first, so a client without one learns nothing about which streams
// exist. Other errors are failures of the store.
func (s *Service) AuthorizePublish(ctx context.Context, stream string, q url.Values) error {
	deny := func(err error) error { return &deniedError{op: "publish", stream: stream, cause: err} }
	if !media.ValidName(stream) {
		return deny(ErrInvalidStream)
	}
	if err := s.push.Verify(stream, q); err != nil {
		return deny(err)
	}
	ref, ok := ParseStream(stream)
	if !ok {
		return deny(ErrNoRoom)
	}
	if ref.Kind == KindProgramme {
		return deny(ErrReservedStream)
	}
	r, err := s.st.RoomByStream(ctx, ref.Room)
	if errors.Is(err, store.ErrNotFound) {
		return deny(ErrNoRoom)
	}
	if err != nil {
		return fmt.Errorf("room: authorize publish of %q: %w", stream, err)
	}
	owner, err := s.st.UserByID(ctx, r.OwnerID)
	if errors.Is(err, store.ErrNotFound) {
		return deny(ErrNoRoom) // the owner was deleted with their rooms
	}
	if err != nil {
		return fmt.Errorf("room: authorize publish of %q: %w", stream, err)
	}
	if owner.Banned {
		return deny(ErrOwnerBanned)
	}
	if ref.Kind == KindCohost {
		return s.authorizeCohost(ctx, r, ref.UserID, deny)
	}
	return nil
}

// authorizeCohost lets a co-host's stream be published only while its
// user is a co-host of r and not banned.
func (s *Service) authorizeCohost(ctx context.Context, r *store.Room, userID string, deny func(error) error) error {
	ok, err := s.st.IsCohost(ctx, r.ID, userID)
	if err != nil {
		return fmt.Errorf("room: authorize publish of co-host %q: %w", userID, err)
	}
	if !ok {
		return deny(ErrNotCohost)
	}
	u, err := s.st.UserByID(ctx, userID)
	if errors.Is(err, store.ErrNotFound) {
		return deny(ErrNotCohost)
	}
	if err != nil {
		return fmt.Errorf("room: authorize publish of co-host %q: %w", userID, err)
	}
	if u.Banned {
		return deny(ErrUserBanned)
	}
	return nil
}

// AuthorizePlay decides whether a viewer may play stream with the URL query
// q. The RTMP server and the HTTP-FLV, WebSocket-FLV and HLS handlers call
// it before serving a viewer. A public room's stream plays without a
// signature; a private room's needs a valid, unexpired play signature (see
// PlayURLs).
//
// Refusals match ErrDenied and wrap their cause: ErrInvalidStream, ErrNoRoom
// (callers may answer it as "not found"), or one of auth.ErrMissingSignature,
// auth.ErrBadTxTime, auth.ErrExpired and auth.ErrBadSignature. Other errors
// are failures of the store.
func (s *Service) AuthorizePlay(ctx context.Context, stream string, q url.Values) error {
	deny := func(err error) error { return &deniedError{op: "play", stream: stream, cause: err} }
	if !media.ValidName(stream) {
		return deny(ErrInvalidStream)
	}
	r, err := s.roomOf(ctx, stream)
	if errors.Is(err, store.ErrNotFound) {
		return deny(ErrNoRoom)
	}
	if err != nil {
		return fmt.Errorf("room: authorize play of %q: %w", stream, err)
	}
	if !r.Private {
		return nil
	}
	// One signature, for the room's own stream, plays all its streams.
	if err := s.play.Verify(r.Stream, q); err != nil {
		return deny(err)
	}
	return nil
}

// roomOf returns the room one of whose streams is stream (see
// ParseStream), or store.ErrNotFound.
func (s *Service) roomOf(ctx context.Context, stream string) (*store.Room, error) {
	ref, ok := ParseStream(stream)
	if !ok {
		return nil, fmt.Errorf("stream %q: %w", stream, store.ErrNotFound)
	}
	return s.st.RoomByStream(ctx, ref.Room)
}

// HasRoom reports whether stream is one of a room's streams (see
// ParseStream). Servers that allow streams without a room (open
// publishing) ask it before applying room rules.
func (s *Service) HasRoom(ctx context.Context, stream string) (bool, error) {
	_, err := s.roomOf(ctx, stream)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("room: look up stream %q: %w", stream, err)
	}
	return true, nil
}

// ByStream returns the room stream belongs to (ErrNotFound if none): the
// room whose own stream it is, or whose programme, mix or co-host stream.
func (s *Service) ByStream(ctx context.Context, stream string) (*store.Room, error) {
	r, err := s.roomOf(ctx, stream)
	if err != nil {
		return nil, fmt.Errorf("room: look up stream %q: %w", stream, err)
	}
	return r, nil
}
