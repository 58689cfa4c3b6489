package e2e

import (
	"fmt"
	"testing"
	"time"

	"roomcast/internal/config"
)

// TestChatHistoryRetention: a room's chat of 8 messages, kept whole at no
// limit, is pruned to the newest 5 when the server starts again with
// -chat-history-max 5; numbering goes on after the kept ones.
func TestChatHistoryRetention(t *testing.T) {
	ctx := testContext(t)
	dir := t.TempDir()
	configure := func(keep int) func(*config.Config) {
		return func(c *config.Config) {
			roomRules(c)
			c.DataDir = dir
			c.Chat.RateMessages = 100
			c.Quotas.ChatHistoryCount = keep
		}
	}
	s := launchServer(t, testConfig(t, configure(0)))
	host := s.register(ctx, t, "retentionhost")
	room := s.createRoom(ctx, t, host, "retention", false)
	cc := dialChat(ctx, t, s, room.ID, host.Token)
	cc.next(ctx, t, "history")
	for i := range 8 {
		cc.send(ctx, t, map[string]any{"type": "chat", "text": fmt.Sprintf("message %d", i+1)})
		cc.next(ctx, t, "chat")
	}
	if got := s.chatMessages(ctx, t, host.Token, room.ID); len(got) != 8 {
		t.Fatalf("before the restart: %d messages, want 8", len(got))
	}
	s.stop(t)

	s = launchServer(t, testConfig(t, configure(5)))
	var texts map[string]string
	for deadline := time.Now().Add(20 * time.Second); ; {
		texts = s.chatMessages(ctx, t, host.Token, room.ID)
		if len(texts) == 5 || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	want := map[string]bool{"message 4": true, "message 5": true, "message 6": true, "message 7": true, "message 8": true}
	for _, text := range texts {
		delete(want, text)
	}
	if len(texts) != 5 || len(want) != 0 {
		t.Fatalf("after the restart with -chat-history-max 5: %v (missing %v)", texts, want)
	}
	cc = dialChat(ctx, t, s, room.ID, host.Token)
	cc.next(ctx, t, "history")
	cc.send(ctx, t, map[string]any{"type": "chat", "text": "after"})
	if m := cc.next(ctx, t, "chat"); m["seq"] != float64(9) {
		t.Fatalf("next message %v, want seq 9", m)
	}
}
