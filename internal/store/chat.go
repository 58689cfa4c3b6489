package store

import "time"

// ChatMessage is one chat message of a room. Seq numbers a room's messages
// from 1 upwards, with no reuse, so clients can resume after it; ID is a
// unique, opaque message id. A deleted message keeps its row (and seq) with
// DeletedAt set, and is no longer served.
type ChatMessage struct {
	RoomID    string
	Seq       int64
	ID        string
	UserID    string
	UserName  string // the author's name when the message was sent
	Text      string
	CreatedAt time.Time
	DeletedAt *time.Time
}

// Chat sanction kinds: what a room's moderators imposed on a user.
const (
	SanctionMute = "mute" // may read but not send until Until
	SanctionKick = "kick" // may not join until Until
	SanctionBan  = "ban"  // may not join until Until, or ever when Until is nil
)

// ValidSanction reports whether k is a sanction kind the store accepts.
func ValidSanction(k string) bool { return k == SanctionMute || k == SanctionKick || k == SanctionBan }

// ChatSanction is a mute, kick or ban of a user in one room. A room has at
// most one sanction of each kind per user.
type ChatSanction struct {
	RoomID    string
	UserID    string
	Kind      string     // SanctionMute, SanctionKick or SanctionBan
	Until     *time.Time // nil: until lifted
	CreatedAt time.Time
}

// Active reports whether s is in force at now.
func (s ChatSanction) Active(now time.Time) bool { return s.Until == nil || now.Before(*s.Until) }
