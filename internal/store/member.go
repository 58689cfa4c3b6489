package store

import (
	"errors"
	"time"
)

// ErrLimit: adding the row would pass a limit the caller set, e.g. the
// number of co-hosts a room may have.
var ErrLimit = errors.New("store: limit reached")

// Member is a co-host of a room: a user who publishes its own stream in the
// room beside the host (the room's owner, who is not stored as a member).
type Member struct {
	RoomID  string
	UserID  string
	AddedAt time.Time
}
