package e2e

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	"github.com/coder/websocket"
)

// Chat across a restart: the messages, the like total and the deletions
// acknowledged before the server stopped are all there after it starts
// again on the same data; sessions still work; seq goes on where it was and
// a client resuming with since gets only what it missed.
func TestChatSurvivesRestart(t *testing.T) {
	srv1 := startServer(t, roomRules)
	ctx, cancel := context.WithTimeout(context.Background(), 2*testTimeout)
	defer cancel()
	host := srv1.register(ctx, t, "resthost")
	fan := srv1.register(ctx, t, "restfan")
	room := srv1.createRoom(ctx, t, host, "Restart room", false)

	fanChat := dialChat(ctx, t, srv1, room.ID, fan.Token)
	fanChat.expect(ctx, t, "history")
	sent := map[string]float64{} // text → seq
	var ids []string
	for i := 1; i <= 3; i++ {
		text := fmt.Sprintf("before restart %d", i)
		fanChat.send(ctx, t, map[string]any{"type": "chat", "text": text})
		m := fanChat.expect(ctx, t, "chat")
		seq, _ := m["seq"].(float64)
		id, _ := m["id"].(string)
		if m["text"] != text || seq == 0 || id == "" {
			t.Fatalf("echo of %q: %v", text, m)
		}
		sent[text] = seq
		ids = append(ids, id)
	}
	fanChat.send(ctx, t, map[string]any{"type": "like", "count": 7})
	if m := fanChat.expect(ctx, t, "likes"); m["total"] != float64(7) {
		t.Fatalf("likes before restart: %v", m)
	}
	// The host deletes the second message; the deletion is acknowledged
	// (204) before the server stops.
	srv1.moderate(ctx, t, host.Token, room.ID, "delete", map[string]any{"message_id": ids[1]}, http.StatusNoContent, "")
	fanChat.expect(ctx, t, "deleted")
	srv1.stop(t)

	srv2 := launchServer(t, srv1.cfg)
	// The old session token still works: sessions are stored.
	guest := dialChat(ctx, t, srv2, room.ID, "")
	w := guest.expect(ctx, t, "welcome")
	if w["likes"] != float64(7) {
		t.Errorf("likes after restart: %v, want 7", w["likes"])
	}
	if w["last_seq"] != sent["before restart 3"] {
		t.Errorf("last_seq after restart %v, want %v", w["last_seq"], sent["before restart 3"])
	}
	h := guest.expect(ctx, t, "history")
	msgs, _ := h["messages"].([]any)
	var texts []string
	for _, raw := range msgs {
		m, _ := raw.(map[string]any)
		texts = append(texts, fmt.Sprint(m["text"]))
	}
	if want := []string{"before restart 1", "before restart 3"}; fmt.Sprint(texts) != fmt.Sprint(want) {
		t.Errorf("history after restart %q, want %q (the deleted one left out)", texts, want)
	}
	if got := srv2.chatMessages(ctx, t, "", room.ID); len(got) != 2 || got[ids[1]] != "" {
		t.Errorf("GET messages after restart: %v, want the two not deleted", got)
	}

	fan2 := dialChatQuery(ctx, t, srv2, room.ID, fan.Token, fmt.Sprintf("since=%v", sent["before restart 1"]))
	if w := fan2.expect(ctx, t, "welcome"); w["can_send"] != true {
		t.Fatalf("the fan's session after restart: %v", w)
	}
	h = fan2.expect(ctx, t, "history")
	msgs, _ = h["messages"].([]any)
	if h["resumed"] != true || len(msgs) != 1 {
		t.Fatalf("resume after restart: %v, want the third message only", h)
	}
	fan2.send(ctx, t, map[string]any{"type": "chat", "text": "after restart"})
	m := fan2.expect(ctx, t, "chat")
	if seq, _ := m["seq"].(float64); seq <= sent["before restart 3"] {
		t.Errorf("seq after restart %v, want more than %v (never reused)", m["seq"], sent["before restart 3"])
	}
	fan2.send(ctx, t, map[string]any{"type": "like", "count": 2})
	if m := guest.expect(ctx, t, "likes"); m["total"] != float64(9) {
		t.Errorf("likes after restart and two more: %v, want 9", m)
	}
}

// Deleting a room ends its chat: every client gets the notice
// room_deleted and a normal close, and cannot join again.
func TestChatRoomDeleted(t *testing.T) {
	srv := startServer(t, roomRules)
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	host := srv.register(ctx, t, "delhost")
	room := srv.createRoom(ctx, t, host, "Short-lived", false)
	guest := dialChat(ctx, t, srv, room.ID, "")
	guest.expect(ctx, t, "history")

	srv.mustCall(ctx, t, http.MethodDelete, "/api/v1/rooms/"+room.ID, host.Token, nil, http.StatusNoContent, nil)
	if m := guest.expect(ctx, t, "notice"); m["kind"] != "room_deleted" {
		t.Fatalf("notice %v, want room_deleted", m)
	}
	if code, reason, _ := guest.expectClose(ctx, t); code != websocket.StatusNormalClosure || reason != "room deleted" {
		t.Fatalf("close %d %q, want 1000 room deleted", code, reason)
	}
	_, resp, err := websocket.Dial(ctx, "ws://"+srv.httpAddr+"/api/v1/rooms/"+room.ID+"/chat", nil)
	if err == nil || resp == nil || resp.StatusCode != http.StatusNotFound {
		t.Fatalf("joining the deleted room: %v %v, want 404", resp, err)
	}
}
