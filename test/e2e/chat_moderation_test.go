package e2e

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// Moderation through the real server: REST and WebSocket commands of the
// room's owner reach every client; a non-owner is refused; a kick holds
// until it ends; a reconnecting client resumes with only what it missed;
// the announcement outlives the room's clients and a restart.
func TestChatModeration(t *testing.T) {
	srv := startServer(t, roomRules)
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	host := srv.register(ctx, t, "modhost")
	fan := srv.register(ctx, t, "modfan")
	room := srv.createRoom(ctx, t, host, "Moderated room", false)

	hostChat := dialChatQuery(ctx, t, srv, room.ID, host.Token, "")
	fanChat := dialChatQuery(ctx, t, srv, room.ID, fan.Token, "")
	guest := dialChat(ctx, t, srv, room.ID, "")
	all := []*chatClient{hostChat, fanChat, guest}
	if w := hostChat.expect(ctx, t, "welcome"); w["can_moderate"] != true {
		t.Fatalf("owner's welcome %v", w)
	}
	for _, c := range all {
		c.expect(ctx, t, "history")
	}
	chatFrom := func(c *chatClient, text string) map[string]any {
		t.Helper()
		return c.expectWhere(ctx, t, "chat", func(m map[string]any) bool { return m["text"] == text })
	}

	fanChat.send(ctx, t, map[string]any{"type": "chat", "text": "first"})
	first := chatFrom(hostChat, "first")
	chatFrom(guest, "first")
	chatFrom(fanChat, "first")

	t.Run("not the owner", func(t *testing.T) {
		srv.moderate(ctx, t, fan.Token, room.ID, "mute", map[string]any{"user_id": host.ID}, http.StatusForbidden, "forbidden")
		srv.moderate(ctx, t, fan.Token, room.ID, "pin", map[string]any{"text": "mine now"}, http.StatusForbidden, "forbidden")
		srv.moderate(ctx, t, "", room.ID, "mute", map[string]any{"user_id": fan.ID}, http.StatusUnauthorized, "unauthorized")
		fanChat.send(ctx, t, map[string]any{"type": "kick", "user_id": host.ID})
		if m := fanChat.expect(ctx, t, "error"); m["code"] != "forbidden" {
			t.Fatalf("fan's kick command: %v", m)
		}
	})

	var backSeq float64 // the guest's last message before it reconnects
	t.Run("mute and unmute", func(t *testing.T) {
		srv.moderate(ctx, t, host.Token, room.ID, "mute", map[string]any{"user_id": fan.ID, "seconds": 600}, http.StatusNoContent, "")
		if m := fanChat.expect(ctx, t, "muted"); m["until"] == nil {
			t.Fatalf("muted frame %v", m)
		}
		fanChat.send(ctx, t, map[string]any{"type": "chat", "text": "can you hear me"})
		if m := fanChat.expect(ctx, t, "error"); m["code"] != "muted" {
			t.Fatalf("muted send: %v", m)
		}
		srv.moderate(ctx, t, host.Token, room.ID, "unmute", map[string]any{"user_id": fan.ID}, http.StatusNoContent, "")
		fanChat.expect(ctx, t, "unmuted")
		fanChat.send(ctx, t, map[string]any{"type": "chat", "text": "back again"})
		chatFrom(hostChat, "back again")
		backSeq, _ = chatFrom(guest, "back again")["seq"].(float64)
		chatFrom(fanChat, "back again")
	})

	t.Run("delete over WebSocket", func(t *testing.T) {
		hostChat.send(ctx, t, map[string]any{"type": "delete", "message_id": first["id"]})
		for i, c := range all {
			if m := c.expect(ctx, t, "deleted"); m["id"] != first["id"] || m["seq"] != first["seq"] {
				t.Fatalf("client %d: deleted %v, want id %v seq %v", i, m, first["id"], first["seq"])
			}
		}
		msgs := srv.chatMessages(ctx, t, fan.Token, room.ID)
		if _, ok := msgs[first["id"].(string)]; ok {
			t.Errorf("GET /messages still serves the deleted message: %v", msgs)
		}
		if len(msgs) != 1 {
			t.Errorf("GET /messages = %v, want only \"back again\"", msgs)
		}
	})

	t.Run("pin", func(t *testing.T) {
		srv.moderate(ctx, t, host.Token, room.ID, "pin", map[string]any{"text": "Giveaway at 8pm!"}, http.StatusNoContent, "")
		for i, c := range all {
			if m := c.expect(ctx, t, "notice"); m["kind"] != "pinned" || m["text"] != "Giveaway at 8pm!" {
				t.Fatalf("client %d: notice %v", i, m)
			}
		}
	})

	t.Run("resume after reconnect", func(t *testing.T) {
		guest.c.Close(websocket.StatusNormalClosure, "")
		for i := 1; i <= 2; i++ {
			hostChat.send(ctx, t, map[string]any{"type": "chat", "text": fmt.Sprintf("missed %d", i)})
		}
		chatFrom(fanChat, "missed 2")
		back := dialChatQuery(ctx, t, srv, room.ID, "", fmt.Sprintf("since=%.0f", backSeq))
		if w := back.expect(ctx, t, "welcome"); w["pinned"] != "Giveaway at 8pm!" {
			t.Errorf("welcome after reconnect: %v", w)
		}
		h := back.expect(ctx, t, "history")
		msgs, _ := h["messages"].([]any)
		var texts []string
		for _, m := range msgs {
			texts = append(texts, m.(map[string]any)["text"].(string))
		}
		if h["resumed"] != true || h["truncated"] != false || fmt.Sprint(texts) != "[missed 1 missed 2]" {
			t.Fatalf("resume history %v: texts %q", h, texts)
		}
		back.c.Close(websocket.StatusNormalClosure, "")
	})

	t.Run("kick", func(t *testing.T) {
		srv.moderate(ctx, t, host.Token, room.ID, "kick", map[string]any{"user_id": fan.ID, "seconds": 3}, http.StatusNoContent, "")
		status, reason, frames := fanChat.expectClose(ctx, t)
		if status != websocket.StatusPolicyViolation || reason != "kicked" {
			t.Fatalf("kicked socket: close %d %q, want 1008 \"kicked\" (frames %v)", status, reason, frames)
		}
		if !strings.Contains(strings.Join(frames, " "), `"type":"kicked"`) {
			t.Errorf("no kicked frame before the close: %v", frames)
		}
		expectChatRefused(ctx, t, srv, room.ID, fan.Token, "kicked")
		// Once the kick is over, the user may join again.
		deadline := time.Now().Add(chatWait)
		for {
			cc := dialChatQuery(ctx, t, srv, room.ID, fan.Token, "")
			m := cc.nextAny(ctx, t)
			if m["type"] == "welcome" {
				cc.c.Close(websocket.StatusNormalClosure, "")
				break
			}
			if m["type"] != "error" || m["code"] != "kicked" || time.Now().After(deadline) {
				t.Fatalf("rejoining after the kick: %v", m)
			}
			cc.c.CloseNow()
			time.Sleep(250 * time.Millisecond)
		}
	})

	t.Run("pin survives the room emptying and a restart", func(t *testing.T) {
		hostChat.c.Close(websocket.StatusNormalClosure, "")
		w := dialChatQuery(ctx, t, srv, room.ID, "", "").expect(ctx, t, "welcome")
		if w["pinned"] != "Giveaway at 8pm!" {
			t.Errorf("welcome after the room emptied: %v", w)
		}
		srv.stop(t)
		srv2 := launchServer(t, srv.cfg)
		w = dialChatQuery(ctx, t, srv2, room.ID, "", "").expect(ctx, t, "welcome")
		if w["pinned"] != "Giveaway at 8pm!" {
			t.Fatalf("welcome after a restart: %v", w)
		}
		srv2.moderate(ctx, t, host.Token, room.ID, "unpin", nil, http.StatusNoContent, "")
		w = dialChatQuery(ctx, t, srv2, room.ID, "", "").expect(ctx, t, "welcome")
		if _, ok := w["pinned"]; ok {
			t.Errorf("welcome after unpin: %v", w)
		}
	})
}
