package store

import "time"

// User roles.
const (
	RoleAdmin = "admin"
	RoleUser  = "user"
)

// Room statuses.
const (
	StatusIdle  = "idle"  // created, never live or stopped being live normally
	StatusLive  = "live"  // a publisher is connected
	StatusEnded = "ended" // the last broadcast ended
)

// ValidRole reports whether r is a role the store accepts.
func ValidRole(r string) bool { return r == RoleAdmin || r == RoleUser }

// ValidStatus reports whether s is a room status the store accepts.
func ValidStatus(s string) bool { return s == StatusIdle || s == StatusLive || s == StatusEnded }

// User is an account. Name and WeChatOpenID are each unique when not empty;
// an empty string is stored as "no value", so many users may lack a name
// (WeChat-only accounts) or an openid (password-only accounts). Names are
// compared byte for byte: the user package normalizes them before storing.
type User struct {
	ID            string
	Name          string
	PasswordHash  string // empty: no password login
	WeChatOpenID  string
	WeChatUnionID string
	Role          string // RoleAdmin or RoleUser; empty means RoleUser on create
	Banned        bool
	CreatedAt     time.Time
}

// Session is a login session. Only the hash of the token the client holds is
// stored (see auth.HashToken).
type Session struct {
	TokenHash string
	UserID    string
	ExpiresAt time.Time
	CreatedAt time.Time
}

// Room is a live room. Stream is the unique stream name used in push/play URLs.
type Room struct {
	ID          string
	OwnerID     string
	Title       string
	Description string
	Private     bool
	Stream      string
	Status      string     // StatusIdle, StatusLive or StatusEnded; empty means idle on create
	LiveSince   *time.Time // start of the current (or last) broadcast; set whenever Status is live
	EndedAt     *time.Time // end of the last broadcast; nil while live
	Likes       int64
	Record      bool
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// RoomFilter selects and pages rooms for ListRooms. Rooms are ordered newest
// first: by LiveSince when Status is StatusLive, otherwise by CreatedAt.
type RoomFilter struct {
	Status     string // "" for all statuses, or one of the Status constants
	OwnerID    string // "" for all owners
	PublicOnly bool   // leave out private rooms (public listings)
	Cursor     string // "" for the first page, else the next value of the previous page
	Limit      int    // page size; see DefaultPageSize and MaxPageSize
}

// Event is an outgoing webhook event. Payload is the JSON body.
type Event struct {
	ID        string
	Type      string
	Payload   []byte
	CreatedAt time.Time
}

// Delivery is the state of one event's delivery to one webhook URL.
type Delivery struct {
	EventID       string
	URL           string
	Attempts      int
	NextAttemptAt time.Time
	DeliveredAt   *time.Time // nil until delivered
	LastError     string
}

// PendingDelivery is a delivery that is due, with its event, as returned by
// DueDeliveries: p.URL, p.Attempts, p.Type and p.Payload are all promoted.
type PendingDelivery struct {
	Delivery
	Event
}
