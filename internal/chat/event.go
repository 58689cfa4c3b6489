package chat

import (
	"encoding/json"
	"fmt"
)

// event is what travels on the bus subject of a room ("chat.ROOM_ID"), so
// that every node with clients in the room applies it. Frame is the encoded
// client frame, shared by all the node's clients.
type event struct {
	Kind   string          `json:"k"`
	Frame  json.RawMessage `json:"f,omitempty"`
	Seq    int64           `json:"seq,omitempty"`
	ID     string          `json:"id,omitempty"`
	UserID string          `json:"u,omitempty"`
	Until  int64           `json:"until,omitempty"` // Unix ms; 0: none
	Text   string          `json:"text,omitempty"`
	Total  int64           `json:"total,omitempty"` // likes: the room's total
	// Presence: Node's count of the room's clients (Online); Ask asks
	// the other nodes to announce theirs now.
	Node   string `json:"n,omitempty"`
	Online int    `json:"on,omitempty"`
	Ask    bool   `json:"ask,omitempty"`
}

// Event kinds.
const (
	evChat    = "chat"    // a new message: Seq, ID, Frame
	evDeleted = "deleted" // a deleted message: ID, Frame
	evFrame   = "frame"   // a frame for every client (likes, notices)
	evPin     = "pin"     // the announcement changed: Text, Frame
	evMute    = "mute"    // UserID muted until Until: Frame to the user
	evUnmute  = "unmute"  // UserID unmuted: Frame to the user
	evKick    = "kick"    // UserID kicked or banned: Frame, then disconnect
	evClosed  = "closed"  // the room was deleted: Frame to all, then disconnect
	evLikes   = "likes"   // the like total: Total, Frame (older totals are dropped)
	// evPresence is a node's count of the room's clients: Node, Online,
	// Ask. Only nodes sharing a network bus send it (Deps.Cluster).
	evPresence = "presence"
)

func subject(roomID string) string { return "chat." + roomID }

func decodeEvent(b []byte) (event, error) {
	var e event
	if err := json.Unmarshal(b, &e); err != nil {
		return e, fmt.Errorf("chat: bad bus event: %w", err)
	}
	return e, nil
}
