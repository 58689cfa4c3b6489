package room

import (
	"context"
	"errors"
	"fmt"

	"roomcast/internal/quota"
	"roomcast/internal/store"
)

// DefaultMaxCohosts is how many co-hosts a room may have besides its host
// when Config.MaxCohosts is 0.
const DefaultMaxCohosts = 3

// Member roles.
const (
	RoleHost   = "host"
	RoleCohost = "cohost"
)

// Errors of the co-host rules.
var (
	// ErrTooManyCohosts: the room has Config.MaxCohosts co-hosts already.
	ErrTooManyCohosts = errors.New("room: the room has as many co-hosts as it may")
	// ErrUserNotFound: the user to make a co-host does not exist.
	ErrUserNotFound = errors.New("room: no such user")
	// ErrNotCohost: the user is not a co-host of the room (removing it, or
	// publishing its stream).
	ErrNotCohost = errors.New("the user is not a co-host of the room")
	// ErrIsHost: the room's owner is its host and cannot be a co-host too.
	ErrIsHost = errors.New("room: the user is the room's host")
	// ErrUserBanned: a banned user can be no co-host, and its co-host
	// stream may not be published.
	ErrUserBanned = errors.New("the user is banned")
	// ErrReservedStream: the programme is published inside the server
	// only.
	ErrReservedStream = errors.New("the stream is published by the server itself")
)

// Member is one member of a room as shown in its member list (the
// subscribe list): the host or a co-host, its stream, whether that stream
// is live, and its play URLs (nil for a viewer who may not see the room).
type Member struct {
	UserID   string
	UserName string
	Role     string // RoleHost or RoleCohost
	Stream   string
	Live     bool
	Play     *PlayURLs
}

// CanRemoveCohost reports whether u may remove userID from r's co-hosts:
// the room's managers may, and a co-host may leave.
func CanRemoveCohost(u *store.User, r *store.Room, userID string) bool {
	return CanManage(u, r) || (u != nil && u.ID == userID)
}

// AddCohost makes the user userID a co-host of the room id, if actor
// manages the room (else ErrForbidden, or ErrNotFound for a private room).
// It fails with ErrUserNotFound for an unknown user, ErrIsHost for the
// room's owner, ErrUserBanned for a banned user and ErrTooManyCohosts past
// Config.MaxCohosts. Adding a co-host twice is no error: added is false.
func (s *Service) AddCohost(ctx context.Context, actor *store.User, id, userID string) (r *store.Room, m *Member, added bool, err error) {
	if r, err = s.manage(ctx, actor, id); err != nil {
		return nil, nil, false, err
	}
	u, err := s.st.UserByID(ctx, userID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, false, fmt.Errorf("room %q: add co-host %q: %w", id, userID, ErrUserNotFound)
	}
	if err != nil {
		return nil, nil, false, fmt.Errorf("room %q: add co-host: %w", id, err)
	}
	switch {
	case u.ID == r.OwnerID:
		return nil, nil, false, fmt.Errorf("room %q: add co-host %q: %w", id, userID, ErrIsHost)
	case u.Banned:
		return nil, nil, false, fmt.Errorf("room %q: add co-host %q: %w", id, userID, ErrUserBanned)
	}
	_, err = s.st.AddCohost(ctx, r.ID, u.ID, s.cfg.MaxCohosts, s.cfg.Now())
	switch {
	case errors.Is(err, store.ErrConflict):
	case errors.Is(err, store.ErrLimit):
		if s.cfg.QuotaRefused != nil {
			s.cfg.QuotaRefused(quota.CohostsPerRoom)
		}
		return nil, nil, false, fmt.Errorf("room %q: add co-host %q: %w (at most %d)", id, userID, ErrTooManyCohosts, s.cfg.MaxCohosts)
	case err != nil:
		return nil, nil, false, fmt.Errorf("room %q: add co-host: %w", id, err)
	default:
		added = true
	}
	return r, s.member(actor, r, u, RoleCohost), added, nil
}

// RemoveCohost removes the co-host userID from the room id, if actor
// manages the room or is that co-host leaving (else ErrForbidden, or
// ErrNotFound for a private room it may not see). A user that is no
// co-host fails with ErrNotCohost. It returns the room and the co-host's
// stream, whose publish the caller ends at once.
func (s *Service) RemoveCohost(ctx context.Context, actor *store.User, id, userID string) (*store.Room, string, error) {
	r, err := s.Get(ctx, actor, id)
	if err != nil {
		return nil, "", err
	}
	if !CanRemoveCohost(actor, r, userID) {
		return nil, "", fmt.Errorf("room %q: remove co-host: %w", id, ErrForbidden)
	}
	err = s.st.RemoveCohost(ctx, r.ID, userID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, "", fmt.Errorf("room %q: remove %q: %w", id, userID, ErrNotCohost)
	}
	if err != nil {
		return nil, "", fmt.Errorf("room %q: remove co-host: %w", id, err)
	}
	return r, MemberStream(r.Stream, userID), nil
}

// IsCohost reports whether u is a co-host of r.
func (s *Service) IsCohost(ctx context.Context, r *store.Room, u *store.User) (bool, error) {
	if u == nil {
		return false, nil
	}
	ok, err := s.st.IsCohost(ctx, r.ID, u.ID)
	if err != nil {
		return false, fmt.Errorf("room %q: %w", r.ID, err)
	}
	return ok, nil
}

// Members returns the room's host and co-hosts, host first, with their
// play URLs; the caller checked that viewer may see r.
func (s *Service) Members(ctx context.Context, viewer *store.User, r *store.Room) ([]Member, error) {
	owner, err := s.st.UserByID(ctx, r.OwnerID)
	if err != nil {
		return nil, fmt.Errorf("room %q: members: %w", r.ID, err)
	}
	out := []Member{*s.member(viewer, r, owner, RoleHost)}
	cs, err := s.st.Cohosts(ctx, r.ID)
	if err != nil {
		return nil, fmt.Errorf("room %q: members: %w", r.ID, err)
	}
	for _, c := range cs {
		u, err := s.st.UserByID(ctx, c.UserID)
		if errors.Is(err, store.ErrNotFound) {
			continue // deleted meanwhile
		}
		if err != nil {
			return nil, fmt.Errorf("room %q: members: %w", r.ID, err)
		}
		out = append(out, *s.member(viewer, r, u, RoleCohost))
	}
	return out, nil
}

// Member returns the member entry of u in r with the given role, as seen
// by viewer. Callers that announce a member (chat events) use it.
func (s *Service) Member(viewer *store.User, r *store.Room, u *store.User, role string) *Member {
	return s.member(viewer, r, u, role)
}

func (s *Service) member(viewer *store.User, r *store.Room, u *store.User, role string) *Member {
	stream := r.Stream
	if role == RoleCohost {
		stream = MemberStream(r.Stream, u.ID)
	}
	// The callers checked that viewer may see r (Get, List), or send to
	// the room's chat, which only those who may see it join.
	return &Member{UserID: u.ID, UserName: u.Name, Role: role, Stream: stream, Live: s.cfg.Live(stream), Play: s.streamURLs(r, stream)}
}

// CohostStreams returns the streams of the room's co-hosts.
func (s *Service) CohostStreams(ctx context.Context, r *store.Room) ([]string, error) {
	cs, err := s.st.Cohosts(ctx, r.ID)
	if err != nil {
		return nil, fmt.Errorf("room %q: co-hosts: %w", r.ID, err)
	}
	out := make([]string, 0, len(cs))
	for _, c := range cs {
		out = append(out, MemberStream(r.Stream, c.UserID))
	}
	return out, nil
}
