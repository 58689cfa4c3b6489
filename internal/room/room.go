// Package room holds the live-room rules of roomcast: who may create, see,
// edit and delete a room, the room's status as its stream goes live and
// ends, signed push and play URLs, and the decisions whether an RTMP
// publisher or a viewer may use a stream. It declares the small store
// interface it needs (Store) and imports neither the hub nor HTTP.
//
// # Visibility
//
// A public room is visible to everyone and plays without a signature. A
// private room is visible only to its owner and to admins (to anyone else it
// does not exist: ErrNotFound); the play URLs they get are signed with the
// play key and expire after Config.PlayTTL, and AuthorizePlay refuses
// unsigned or expired requests for its stream. Owners share a private room
// by sharing such a signed URL.
package room

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"roomcast/internal/auth"
	"roomcast/internal/media"
	"roomcast/internal/store"
)

// Defaults of Config.
const (
	DefaultPushTTL    = 24 * time.Hour
	DefaultPlayTTL    = 2 * time.Hour
	DefaultPublicURL  = "http://127.0.0.1:8080"
	DefaultPublicRTMP = "rtmp://127.0.0.1:1935"
	DefaultApp        = "live"
)

// Prefixes of generated identifiers. Both are followed by 26 characters of
// lower-case base32 (128 random bits), so ids and stream names are
// unguessable and valid stream names.
const (
	idPrefix     = "room_"
	streamPrefix = "s_"
)

// Errors returned (wrapped) by the Service. Callers test them with errors.Is.
var (
	// ErrNotFound is store.ErrNotFound: no such room, or a private room the
	// caller may not see, or (for the stream events) a stream without a room.
	ErrNotFound = store.ErrNotFound
	// ErrForbidden: the caller may see the room but not change it (only
	// its owner and admins may).
	ErrForbidden = errors.New("room: only the room's owner or an admin may do this")
	// ErrDenied is matched by every refusal of AuthorizePublish and
	// AuthorizePlay, whatever the cause; their other errors (a failing
	// store) are not refusals of the client.
	ErrDenied = errors.New("room: access to stream denied")
	// ErrNoRoom: no room uses the stream (AuthorizePublish, AuthorizePlay).
	ErrNoRoom = errors.New("no room uses this stream")
	// ErrOwnerBanned: the room's owner is banned, so its stream may not be
	// published.
	ErrOwnerBanned = errors.New("the room's owner is banned")
	// ErrInvalidStream: the stream name is not 1-128 characters of
	// [A-Za-z0-9_-].
	ErrInvalidStream = errors.New("invalid stream name")
)

// Store is the part of the store the room service needs; *sqlite.DB
// implements it.
type Store interface {
	CreateRoom(ctx context.Context, r *store.Room) error
	RoomByID(ctx context.Context, id string) (*store.Room, error)
	RoomByStream(ctx context.Context, stream string) (*store.Room, error)
	ListRooms(ctx context.Context, f store.RoomFilter) ([]store.Room, string, error)
	UpdateRoom(ctx context.Context, id string, fn func(*store.Room) error) (*store.Room, error)
	DeleteRoom(ctx context.Context, id string) error
	SetRoomStatus(ctx context.Context, stream, status string, at time.Time) (*store.Room, error)
	UserByID(ctx context.Context, id string) (*store.User, error)

	AddCohost(ctx context.Context, roomID, userID string, max int, at time.Time) (*store.Member, error)
	RemoveCohost(ctx context.Context, roomID, userID string) error
	Cohosts(ctx context.Context, roomID string) ([]store.Member, error)
	IsCohost(ctx context.Context, roomID, userID string) (bool, error)
}

// Config configures the Service. The zero value of a field means its
// default, except the keys, which are required.
type Config struct {
	// PushKey signs and verifies push (publish) URLs.
	PushKey string
	// PlayKey signs and verifies play URLs of private rooms. It must differ
	// from PushKey, or a play URL would also let its holder publish.
	PlayKey string
	// PushTTL is the lifetime of issued push URLs (default 24h); a push URL
	// whose txTime lies further ahead is refused.
	PushTTL time.Duration
	// PlayTTL is the lifetime of signed play URLs (default 2h); a play URL
	// whose txTime lies further ahead is refused.
	PlayTTL time.Duration
	// PublicURL is the HTTP base clients reach the server at (default
	// "http://127.0.0.1:8080"); FLV, WebSocket-FLV and HLS URLs start
	// with it. It may carry a path prefix.
	PublicURL string
	// PublicRTMP is the RTMP base clients reach the server at (default
	// "rtmp://127.0.0.1:1935").
	PublicRTMP string
	// App is the application name in rtmp://HOST/APP/STREAM and
	// http://HOST/APP/STREAM.flv (default "live").
	App string
	// Viewers returns the number of viewers of a stream over all protocols
	// (the app passes the hub's count); nil means always 0.
	Viewers func(stream string) int
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
	// MaxRoomsPerUser is how many rooms a user who is not an admin may own
	// (0: DefaultMaxRoomsPerUser; negative: no limit).
	MaxRoomsPerUser int
	// QuotaRefused, when set, is called with the quota's name on each
	// refusal past a quota (the app counts them in /metrics).
	QuotaRefused func(quota string)
	// MaxCohosts is how many co-hosts a room may have besides its host (0:
	// DefaultMaxCohosts; negative: none).
	MaxCohosts int
	// Live reports whether a stream has a publisher now (the app passes the
	// hub's); nil means never.
	Live func(stream string) bool
}

// Service implements the room rules. Its methods are safe for concurrent
// use.
type Service struct {
	st         Store
	cfg        Config
	push, play *auth.Signer
	httpBase   string // PublicURL without a trailing slash
	wsBase     string // the same with scheme ws or wss
	rtmpBase   string // PublicRTMP without a trailing slash
}

// New returns a Service over st. It checks cfg: both keys set and
// different, positive TTLs, an http(s) PublicURL, an rtmp PublicRTMP and a
// valid App.
func New(st Store, cfg Config) (*Service, error) {
	if st == nil {
		return nil, errors.New("room: nil store")
	}
	if cfg.PushKey == "" || cfg.PlayKey == "" {
		return nil, errors.New("room: push key and play key are required")
	}
	if cfg.PushKey == cfg.PlayKey {
		return nil, errors.New("room: push key and play key must differ")
	}
	def := func(d *time.Duration, v time.Duration) { *d = cmpOr(*d, v) }
	def(&cfg.PushTTL, DefaultPushTTL)
	def(&cfg.PlayTTL, DefaultPlayTTL)
	if cfg.PushTTL < time.Second || cfg.PlayTTL < time.Second {
		return nil, fmt.Errorf("room: push TTL %s and play TTL %s must be at least 1s", cfg.PushTTL, cfg.PlayTTL)
	}
	cfg.PublicURL = cmpOr(cfg.PublicURL, DefaultPublicURL)
	cfg.PublicRTMP = cmpOr(cfg.PublicRTMP, DefaultPublicRTMP)
	cfg.App = cmpOr(cfg.App, DefaultApp)
	if !media.ValidName(cfg.App) {
		return nil, fmt.Errorf("room: app %q must be 1-128 characters of A-Z a-z 0-9 _ -", cfg.App)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.MaxRoomsPerUser == 0 {
		cfg.MaxRoomsPerUser = DefaultMaxRoomsPerUser
	}
	if cfg.Viewers == nil {
		cfg.Viewers = func(string) int { return 0 }
	}
	switch {
	case cfg.MaxCohosts == 0:
		cfg.MaxCohosts = DefaultMaxCohosts
	case cfg.MaxCohosts < 0:
		cfg.MaxCohosts = 0
	}
	if cfg.Live == nil {
		cfg.Live = func(string) bool { return false }
	}
	s := &Service{st: st, cfg: cfg}
	var err error
	if s.httpBase, err = baseURL(cfg.PublicURL, "http", "https"); err != nil {
		return nil, fmt.Errorf("room: public URL: %w", err)
	}
	if s.rtmpBase, err = baseURL(cfg.PublicRTMP, "rtmp"); err != nil {
		return nil, fmt.Errorf("room: public RTMP URL: %w", err)
	}
	s.wsBase = "ws" + strings.TrimPrefix(s.httpBase, "http")
	s.push = &auth.Signer{Key: cfg.PushKey, Now: cfg.Now, MaxTTL: cfg.PushTTL}
	s.play = &auth.Signer{Key: cfg.PlayKey, Now: cfg.Now, MaxTTL: cfg.PlayTTL}
	return s, nil
}

func cmpOr[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

// baseURL checks that raw is an absolute URL with one of schemes, a host
// and no query or fragment, and returns it without a trailing slash.
func baseURL(raw string, schemes ...string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", err
	}
	ok := false
	for _, s := range schemes {
		ok = ok || u.Scheme == s
	}
	if !ok || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("%q must be %s://HOST[:PORT][/PATH] without query or fragment", raw, strings.Join(schemes, " or "))
	}
	return strings.TrimSuffix(u.String(), "/"), nil
}

// Config returns the configuration in effect, with defaults filled in.
func (s *Service) Config() Config { return s.cfg }

// CanManage reports whether u may edit, delete and get push URLs for r:
// its owner and admins may. A nil u may not.
func CanManage(u *store.User, r *store.Room) bool {
	return u != nil && (u.ID == r.OwnerID || u.Role == store.RoleAdmin)
}

// CanSee reports whether u (nil: anonymous) may see r: everyone may see a
// public room, only managers a private one.
func CanSee(u *store.User, r *store.Room) bool {
	return !r.Private || CanManage(u, r)
}

// Input is the editable part of a room. In Create, nil fields take their
// defaults (empty description, public); in Update, nil fields are left as
// they are.
type Input struct {
	Title       *string
	Description *string
	Private     *bool
}

// Create creates a room owned by owner. The title is required; fields are
// checked with Validate.
func (s *Service) Create(ctx context.Context, owner *store.User, in Input) (*store.Room, error) {
	if owner == nil {
		return nil, errors.New("room: create: no owner")
	}
	if in.Title == nil {
		return nil, &ValidationError{Field: "title", Message: "is required"}
	}
	r := &store.Room{OwnerID: owner.ID, Status: store.StatusIdle, CreatedAt: s.cfg.Now()}
	if err := apply(r, in); err != nil {
		return nil, err
	}
	if err := s.checkRoomQuota(ctx, owner); err != nil {
		return nil, err
	}
	var err error
	if r.ID, err = auth.NewID(idPrefix); err != nil {
		return nil, fmt.Errorf("room: create: %w", err)
	}
	if r.Stream, err = auth.NewID(streamPrefix); err != nil {
		return nil, fmt.Errorf("room: create: %w", err)
	}
	if err := s.st.CreateRoom(ctx, r); err != nil {
		return nil, fmt.Errorf("room: create: %w", err)
	}
	return r, nil
}

// apply validates in and copies its set fields into r.
func apply(r *store.Room, in Input) error {
	if in.Title != nil {
		t, err := ValidateTitle(*in.Title)
		if err != nil {
			return err
		}
		r.Title = t
	}
	if in.Description != nil {
		d, err := ValidateDescription(*in.Description)
		if err != nil {
			return err
		}
		r.Description = d
	}
	if in.Private != nil {
		r.Private = *in.Private
	}
	return nil
}

// Get returns the room with the given ID as seen by viewer (nil:
// anonymous): a private room the viewer may not see fails with ErrNotFound.
func (s *Service) Get(ctx context.Context, viewer *store.User, id string) (*store.Room, error) {
	r, err := s.st.RoomByID(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("room: get: %w", err)
	}
	if !CanSee(viewer, r) {
		// A private room's co-hosts see it too.
		if ok, err := s.IsCohost(ctx, r, viewer); err != nil || !ok {
			return nil, errors.Join(fmt.Errorf("room: get %q: %w", id, ErrNotFound), err)
		}
	}
	return r, nil
}

// ListQuery selects rooms for List.
type ListQuery struct {
	// Status is "" for every status, or store.StatusIdle, StatusLive or
	// StatusEnded. Live rooms are ordered by LiveSince, others by creation,
	// newest first.
	Status string
	// OwnerID, if set, lists only that user's rooms.
	OwnerID string
	// Cursor is "" for the first page, else the next cursor of the
	// previous page.
	Cursor string
	// Limit is the page size (store.DefaultPageSize when <= 0).
	Limit int
}

// List returns a page of rooms viewer may see and the cursor of the next
// page ("" after the last). Private rooms are listed only for admins and
// for their owner when q.OwnerID is the owner. A bad cursor fails with an
// error wrapping store.ErrInvalidCursor.
func (s *Service) List(ctx context.Context, viewer *store.User, q ListQuery) ([]store.Room, string, error) {
	if q.Status != "" && !store.ValidStatus(q.Status) {
		return nil, "", &ValidationError{Field: "status", Message: "must be live, idle, ended or all"}
	}
	f := store.RoomFilter{Status: q.Status, OwnerID: q.OwnerID, Cursor: q.Cursor, Limit: q.Limit, PublicOnly: true}
	if viewer != nil && (viewer.Role == store.RoleAdmin || q.OwnerID == viewer.ID) {
		f.PublicOnly = false
	}
	rooms, next, err := s.st.ListRooms(ctx, f)
	if err != nil {
		return nil, "", fmt.Errorf("room: list: %w", err)
	}
	return rooms, next, nil
}

// manage loads the room and checks that actor may manage it. A private room
// the actor may not see is ErrNotFound, a public one ErrForbidden.
func (s *Service) manage(ctx context.Context, actor *store.User, id string) (*store.Room, error) {
	r, err := s.Get(ctx, actor, id)
	if err != nil {
		return nil, err
	}
	if !CanManage(actor, r) {
		return nil, fmt.Errorf("room %q: %w", id, ErrForbidden)
	}
	return r, nil
}

// Update changes the set fields of in on the room, if actor is its owner or
// an admin (else ErrForbidden, or ErrNotFound for a private room). An empty
// Input returns the room unchanged. Viewers already watching a room that
// becomes private are not disconnected.
func (s *Service) Update(ctx context.Context, actor *store.User, id string, in Input) (*store.Room, error) {
	r, err := s.manage(ctx, actor, id)
	if err != nil {
		return nil, err
	}
	if in == (Input{}) {
		return r, nil
	}
	var check store.Room // validate before taking the store's write lock
	if err := apply(&check, in); err != nil {
		return nil, err
	}
	r, err = s.st.UpdateRoom(ctx, id, func(r *store.Room) error {
		r.UpdatedAt = s.cfg.Now()
		return apply(r, in)
	})
	if err != nil {
		return nil, fmt.Errorf("room: update: %w", err)
	}
	return r, nil
}

// Delete deletes the room, if actor is its owner or an admin. It returns the
// deleted room so that the caller can stop its stream.
func (s *Service) Delete(ctx context.Context, actor *store.User, id string) (*store.Room, error) {
	r, err := s.manage(ctx, actor, id)
	if err != nil {
		return nil, err
	}
	if err := s.st.DeleteRoom(ctx, id); err != nil {
		return nil, fmt.Errorf("room: delete: %w", err)
	}
	return r, nil
}

// LiveStreams returns the stream names of the user's rooms that are live,
// so that an admin banning the user can stop them.
func (s *Service) LiveStreams(ctx context.Context, ownerID string) ([]string, error) {
	var out []string
	f := store.RoomFilter{OwnerID: ownerID, Status: store.StatusLive, Limit: store.MaxPageSize}
	for {
		rooms, next, err := s.st.ListRooms(ctx, f)
		if err != nil {
			return nil, fmt.Errorf("room: live streams of %q: %w", ownerID, err)
		}
		for _, r := range rooms {
			out = append(out, r.Stream)
		}
		if next == "" {
			return out, nil
		}
		f.Cursor = next
	}
}

// Viewers returns the current number of viewers of the room over all
// protocols: of its programme (what its play URLs carry) and of the host's
// stream itself.
func (s *Service) Viewers(r *store.Room) int { return s.StreamViewers(r.Stream) }

// StreamViewers is Viewers for the room whose stream is roomStream.
func (s *Service) StreamViewers(roomStream string) int {
	return s.cfg.Viewers(roomStream) + s.cfg.Viewers(ProgrammeStream(roomStream))
}

// StreamPublished records that the stream went live at at and returns its
// room. The app calls it on the hub's published event. A stream without a
// room fails with ErrNotFound. A repeated event changes nothing.
func (s *Service) StreamPublished(ctx context.Context, stream string, at time.Time) (*store.Room, error) {
	return s.setStatus(ctx, stream, store.StatusLive, at)
}

// StreamEnded records that the stream's broadcast ended at at and returns
// its room. The app calls it when the hub ends the stream (after the
// reconnect grace). A stream without a room fails with ErrNotFound.
func (s *Service) StreamEnded(ctx context.Context, stream string, at time.Time) (*store.Room, error) {
	return s.setStatus(ctx, stream, store.StatusEnded, at)
}

func (s *Service) setStatus(ctx context.Context, stream, status string, at time.Time) (*store.Room, error) {
	if !media.ValidName(stream) {
		return nil, fmt.Errorf("room: stream %q: %w", stream, ErrNotFound)
	}
	r, err := s.st.SetRoomStatus(ctx, stream, status, at)
	if err != nil {
		return nil, fmt.Errorf("room: %w", err)
	}
	return r, nil
}
