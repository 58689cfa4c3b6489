package chat

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"roomcast/internal/bus"
	"roomcast/internal/room"
	"roomcast/internal/store"
)

// Config tunes the chat server. Its zero value is usable: New fills every
// zero field with the default named in its comment.
type Config struct {
	// NoGuests refuses connections without a session token. By default
	// guests may connect to rooms they may see, read-only.
	NoGuests bool
	// MaxTextLen is the longest chat message or announcement, in
	// characters (runes), after trimming. Default 500.
	MaxTextLen int
	// SensitiveWords are masked with '*' (one per rune) wherever they
	// occur in a message, case-insensitively.
	SensitiveWords []string
	// HistorySize is how many messages a joining client receives. Default 50.
	HistorySize int
	// MaxResume bounds what a client resuming with ?since=SEQ receives.
	// Default 200.
	MaxResume int
	// RateMessages messages per RateWindow per user and room. Defaults 5
	// and 10s.
	RateMessages int
	RateWindow   time.Duration
	// LikeBurst likes at once, refilled at LikesPerSecond per user and
	// room. Defaults 100 and 20.
	LikeBurst      int
	LikesPerSecond int
	// FloodLimit refused frames (rate-limited, invalid) per RateWindow a
	// connection may send before it is disconnected. Default 20.
	FloodLimit int
	// MaxFrameBytes is the read limit on one client frame. Default 4096.
	MaxFrameBytes int64
	// PingInterval between keep-alive pings; a ping not answered within
	// PongTimeout disconnects the client. Defaults 25s and 15s.
	PingInterval time.Duration
	PongTimeout  time.Duration
	// WriteTimeout bounds one write to a client. Default 10s.
	WriteTimeout time.Duration
	// SendQueue frames may wait for a client; a client whose queue is
	// full is disconnected as too slow. Default 256.
	SendQueue int
	// MaxLag is how far a client may fall behind the room: when the
	// oldest broadcast waiting for it is older than MaxLag, the waiting
	// broadcasts are skipped (a notice "skipped" tells how many messages
	// it missed). Default 1s.
	MaxLag time.Duration
	// MaxSkips skips per SkipWindow are allowed; a client skipped once
	// more is disconnected as too slow. Defaults 5 and 1m.
	MaxSkips   int
	SkipWindow time.Duration
	// MaxBatch frames at most are written as one JSON array. Default 64.
	MaxBatch int
	// BroadcastInterval is how long (at most) a room's broadcast waits
	// for the ones that follow it, to go out together as one message: a
	// frame after a quiet interval goes out at once, the ones that come
	// within the interval after it are batched. Default 100ms.
	BroadcastInterval time.Duration
	// MaxConnsPerUser is the number of simultaneous chat connections of
	// one logged-in user, all rooms together. Default 5.
	MaxConnsPerUser int
	// MaxGuestConnsPerIP is the number of simultaneous chat connections
	// of guests (no token) from one client IP address, all rooms
	// together. Default 20: several viewers behind one NAT still fit, one
	// script cannot hold thousands of sockets. The address is the
	// connection's (RemoteAddr), or the one ClientIP returns.
	MaxGuestConnsPerIP int
	// ClientIP returns the client address of a request, for
	// MaxGuestConnsPerIP; nil: the host of r.RemoteAddr. Behind a reverse
	// proxy, set it to take the address the proxy forwards.
	ClientIP func(r *http.Request) string
	// LikesInterval is how often a room's new likes are stored and the
	// total broadcast (at most). Default 500ms.
	LikesInterval time.Duration
	// PresenceInterval is how often (at most) the online count is
	// broadcast when it changed. Default 1s.
	PresenceInterval time.Duration
	// PresenceTTL is, in a cluster (Deps.Cluster), how long another
	// node's count of a room's clients counts without being repeated:
	// nodes repeat theirs every third of it, and a node that died drops
	// out of `online` after it. Default 15s.
	PresenceTTL time.Duration
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// CohostRequestTTL is how long a co-host request waits for an answer.
	// Default DefaultCohostRequestTTL.
	CohostRequestTTL time.Duration
}

func (c *Config) setDefaults() {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	defD := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&c.MaxTextLen, 500)
	def(&c.HistorySize, 50)
	def(&c.MaxResume, 200)
	def(&c.RateMessages, 5)
	defD(&c.RateWindow, 10*time.Second)
	def(&c.LikeBurst, 100)
	def(&c.LikesPerSecond, 20)
	def(&c.FloodLimit, 20)
	if c.MaxFrameBytes <= 0 {
		c.MaxFrameBytes = 4096
	}
	defD(&c.PingInterval, 25*time.Second)
	defD(&c.PongTimeout, 15*time.Second)
	defD(&c.WriteTimeout, 10*time.Second)
	def(&c.SendQueue, 256)
	defD(&c.MaxLag, time.Second)
	def(&c.MaxSkips, 5)
	defD(&c.SkipWindow, time.Minute)
	def(&c.MaxBatch, 64)
	defD(&c.BroadcastInterval, 100*time.Millisecond)
	def(&c.MaxConnsPerUser, 5)
	def(&c.MaxGuestConnsPerIP, 20)
	if c.ClientIP == nil {
		c.ClientIP = remoteIP
	}
	defD(&c.LikesInterval, 500*time.Millisecond)
	defD(&c.PresenceInterval, time.Second)
	defD(&c.CohostRequestTTL, DefaultCohostRequestTTL)
	defD(&c.PresenceTTL, 15*time.Second)
	if c.Now == nil {
		c.Now = time.Now
	}
}

// remoteIP returns the host part of r.RemoteAddr.
func remoteIP(r *http.Request) string {
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return host
	}
	return r.RemoteAddr
}

// Store is the persistence chat needs; *sqlite.DB implements it.
type Store interface {
	AppendChatMessage(ctx context.Context, m *store.ChatMessage) error
	ChatMessagesBefore(ctx context.Context, roomID string, before int64, limit int) ([]store.ChatMessage, error)
	ChatMessagesAfter(ctx context.Context, roomID string, after int64, limit int) ([]store.ChatMessage, error)
	DeleteChatMessage(ctx context.Context, roomID, id string) (*store.ChatMessage, error)
	PutChatSanction(ctx context.Context, s *store.ChatSanction) error
	DeleteChatSanction(ctx context.Context, roomID, userID, kind string) error
	ChatSanctions(ctx context.Context, roomID, userID string) ([]store.ChatSanction, error)
	AddLikes(ctx context.Context, roomID string, n int64) (int64, error)
	// SetChatPin stores the room's announcement; "" clears it.
	SetChatPin(ctx context.Context, roomID, text string) error
	// ChatPin returns the room's announcement, "" when there is none.
	ChatPin(ctx context.Context, roomID string) (string, error)
}

// Users authenticates session tokens; *user.Service implements it.
// Authenticate fails with an error (user.ErrUnauthenticated, user.ErrBanned)
// for a token that does not give a usable account.
type Users interface {
	Authenticate(ctx context.Context, token string) (*store.User, error)
}

// Rooms resolves a room as seen by a viewer (nil: anonymous); a room the
// viewer may not see fails with an error wrapping store.ErrNotFound.
// *room.Service implements it.
type Rooms interface {
	Get(ctx context.Context, viewer *store.User, id string) (*store.Room, error)
}

// Deps are the collaborators of a Server. Store, Users, Rooms and Bus are
// required.
type Deps struct {
	Store Store
	Users Users
	Rooms Rooms
	Bus   bus.Bus
	// Viewers returns the media viewer count of a stream (for presence
	// frames); nil: always 0.
	Viewers func(stream string) int
	// CanManage reports whether u may moderate r; nil: room.CanManage.
	CanManage func(u *store.User, r *store.Room) bool
	// Cohosts, if set, turns the co-host requests on.
	Cohosts Cohosts
	// Log; nil discards.
	Log *slog.Logger
	// Cluster tells that Bus reaches other nodes serving the same rooms
	// (NATS): each node then announces its count of each room's clients,
	// so that `online` counts every node's. A Bus that reports its
	// reconnections (OnReconnect) is caught up from the store after an
	// outage, cluster or not.
	Cluster bool
}

func (d *Deps) check() error {
	if d.Store == nil || d.Users == nil || d.Rooms == nil || d.Bus == nil {
		return errors.New("chat: Store, Users, Rooms and Bus are required")
	}
	if d.Viewers == nil {
		d.Viewers = func(string) int { return 0 }
	}
	if d.CanManage == nil {
		d.CanManage = room.CanManage
	}
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	return nil
}

// Errors returned (wrapped) by Moderate and Send; check with errors.Is.
var (
	// ErrUnauthorized: the action needs a logged-in user.
	ErrUnauthorized = errors.New("chat: log in to do this")
	// ErrForbidden: only the room's owner or an admin may moderate it.
	ErrForbidden = errors.New("chat: only the room's owner or an admin may moderate")
	// ErrNotFound: no such room (or not visible), or no such message.
	ErrNotFound = store.ErrNotFound
)

// InvalidError is a rejected client input; Code is the protocol error code
// (too_long, empty, bad_request).
type InvalidError struct {
	Code    string
	Message string
}

func (e *InvalidError) Error() string { return fmt.Sprintf("chat: %s: %s", e.Code, e.Message) }

func invalid(code, format string, args ...any) error {
	return &InvalidError{Code: code, Message: fmt.Sprintf(format, args...)}
}
