package chat

import (
	"net/http"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// The announcement is stored: it reaches clients that join after the room's
// last client left (the channel was closed and reopened), and unpin clears
// it for good.
func TestPinnedSurvivesEmptyRoom(t *testing.T) {
	e := newEnv(t, Config{})
	owner, _ := e.join("r1", "t-owner")
	if r := e.post("/api/v1/rooms/r1/moderation/pin", "t-owner", `{"text":"giveaway at 8"}`); r.StatusCode != http.StatusNoContent {
		t.Fatalf("pin: %d", r.StatusCode)
	}
	if f := owner.expect("notice"); f.Kind != NoticePinned || f.Text != "giveaway at 8" {
		t.Fatalf("notice %s", f.Raw)
	}
	owner.conn.Close(websocket.StatusNormalClosure, "")
	waitClosed(t, e.srv, "r1")

	c := e.dial("r1", "", "")
	if f := c.expect("welcome"); f.Pinned != "giveaway at 8" {
		t.Fatalf("welcome after reopen: %s", f.Raw)
	}
	if text, err := e.db.ChatPin(t.Context(), "r1"); err != nil || text != "giveaway at 8" {
		t.Fatalf("stored pin %q, %v", text, err)
	}
	if r := e.post("/api/v1/rooms/r1/moderation/unpin", "t-owner", ""); r.StatusCode != http.StatusNoContent {
		t.Fatalf("unpin: %d", r.StatusCode)
	}
	c.expectWhere("notice", func(f frame) bool { return f.Kind == NoticeUnpinned })
	c.conn.Close(websocket.StatusNormalClosure, "")
	waitClosed(t, e.srv, "r1")
	if f := e.dial("r1", "", "").expect("welcome"); f.Pinned != "" {
		t.Fatalf("welcome after unpin: %s", f.Raw)
	}
}

// Guests from one address are capped; logged-in users are not counted
// against it, and a slot frees when a guest leaves.
func TestGuestConnsPerIP(t *testing.T) {
	e := newEnv(t, Config{MaxGuestConnsPerIP: 2})
	g1, _ := e.join("r1", "")
	e.join("r1", "")
	c := e.dial("r1", "", "")
	if f := c.expect("error"); f.Code != "too_many_connections" {
		t.Fatalf("third guest: %s", f.Raw)
	}
	if ce := c.expectClose(); ce.Code != websocket.StatusPolicyViolation || ce.Reason != "too_many_connections" {
		t.Fatalf("close = %v", ce)
	}
	e.join("r1", "t-alice") // users are not guests
	g1.conn.Close(websocket.StatusNormalClosure, "")
	deadline := time.Now().Add(5 * time.Second)
	for {
		c := e.dial("r1", "", "")
		f, err := c.read()
		if err == nil && f.Type == "welcome" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no guest slot freed: %s %v", f.Raw, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitClosed waits until the room's channel is closed on s (its last
// client left).
func waitClosed(t *testing.T, s *Server, roomID string) {
	t.Helper()
	open := func() bool {
		return s.channels.get(roomID) != nil
	}
	deadline := time.Now().Add(5 * time.Second)
	for open() {
		if time.Now().After(deadline) {
			t.Fatalf("room %s: channel still open", roomID)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
