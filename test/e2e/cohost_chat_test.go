package e2e

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"roomcast/internal/config"
)

// TestCohostChatFlow asks to co-host through the real server's chat: the
// host's client is notified, accepts, the requester is told and gets a
// push URL for its own stream, and everybody learns the new member; a
// rejected request and an expired one are answered so; a muted user and a
// banned one cannot ask; a co-host leaving through the API is announced.
func TestCohostChatFlow(t *testing.T) {
	srv := startServer(t, roomRules, func(c *config.Config) {
		c.Cohost.Mix = false
		c.Cohost.RequestTTL = 2 * time.Second
	})
	ctx := testContext(t)
	host := srv.register(ctx, t, "host")
	fan := srv.register(ctx, t, "fan")
	shy := srv.register(ctx, t, "shy")
	rude := srv.register(ctx, t, "rude")
	rm := srv.createRoom(ctx, t, host, "Ask me", false)

	hostChat := dialChat(ctx, t, srv, rm.ID, host.Token)
	hostChat.expect(ctx, t, "welcome")
	fanChat := dialChat(ctx, t, srv, rm.ID, fan.Token)
	fanChat.expect(ctx, t, "welcome")
	shyChat := dialChat(ctx, t, srv, rm.ID, shy.Token)
	shyChat.expect(ctx, t, "welcome")
	rudeChat := dialChat(ctx, t, srv, rm.ID, rude.Token)
	rudeChat.expect(ctx, t, "welcome")
	guest := dialChat(ctx, t, srv, rm.ID, "")
	guest.expect(ctx, t, "welcome")

	user := func(m map[string]any) string {
		u, _ := m["user"].(map[string]any)
		id, _ := u["id"].(string)
		return id
	}

	// Request → the host is notified → accept → the requester is told and
	// may push.
	guest.send(ctx, t, map[string]any{"type": "cohost_request"})
	if e := guest.expect(ctx, t, "error"); e["code"] != "unauthorized" {
		t.Errorf("a guest's request: %v", e)
	}
	srv.expectError(ctx, t, http.MethodPost, "/api/v1/rooms/"+rm.ID+"/push-url", fan.Token, nil, http.StatusForbidden, "forbidden")
	fanChat.send(ctx, t, map[string]any{"type": "cohost_request"})
	req := hostChat.expect(ctx, t, "cohost_request")
	if user(req) != fan.ID {
		t.Fatalf("host notified of %v", req)
	}
	hostChat.send(ctx, t, map[string]any{"type": "cohost_accept", "user_id": fan.ID})
	ans := fanChat.expectWhere(ctx, t, "cohost_answer", func(m map[string]any) bool { return user(m) == fan.ID })
	if ans["answer"] != "accepted" {
		t.Fatalf("fan told %v", ans)
	}
	joined := shyChat.expect(ctx, t, "member_joined")
	if m, _ := joined["member"].(map[string]any); m["stream"] != rm.Stream+"-"+fan.ID || m["role"] != "cohost" {
		t.Errorf("member_joined %v", joined)
	}
	push := srv.pushURL(ctx, t, fan, rm.ID)
	if !strings.HasPrefix(push.URL, srv.rtmpURL(rm.Stream+"-"+fan.ID)+"?") {
		t.Errorf("fan's push URL %s", push.URL)
	}

	// The co-host goes live and offline: every client is told.
	pub := cohostPublish(t, push.URL, "red", 880)
	if live := shyChat.expectWhere(ctx, t, "member_live", func(m map[string]any) bool { return user(m["member"].(map[string]any)) == fan.ID }); live == nil {
		t.Fatal("no member_live")
	}
	pub.kill()
	shyChat.expectWhere(ctx, t, "member_offline", func(m map[string]any) bool { return user(m["member"].(map[string]any)) == fan.ID })

	// Reject.
	shyChat.send(ctx, t, map[string]any{"type": "cohost_request"})
	hostChat.expectWhere(ctx, t, "cohost_request", func(m map[string]any) bool { return user(m) == shy.ID })
	hostChat.send(ctx, t, map[string]any{"type": "cohost_reject", "user_id": shy.ID})
	if a := shyChat.expect(ctx, t, "cohost_answer"); a["answer"] != "rejected" {
		t.Errorf("shy told %v", a)
	}
	// Expiry: nobody answers within -cohost-request-ttl.
	shyChat.send(ctx, t, map[string]any{"type": "cohost_request"})
	hostChat.expectWhere(ctx, t, "cohost_request", func(m map[string]any) bool { return user(m) == shy.ID })
	if a := shyChat.expect(ctx, t, "cohost_answer"); a["answer"] != "expired" {
		t.Errorf("shy told %v", a)
	}
	hostChat.send(ctx, t, map[string]any{"type": "cohost_accept", "user_id": shy.ID})
	if e := hostChat.expect(ctx, t, "error"); e["code"] != "not_found" {
		t.Errorf("accepting an expired request: %v", e)
	}

	// Muted and banned users cannot ask.
	srv.moderate(ctx, t, host.Token, rm.ID, "mute", map[string]any{"user_id": rude.ID, "seconds": 600}, http.StatusNoContent, "")
	rudeChat.expect(ctx, t, "muted")
	rudeChat.send(ctx, t, map[string]any{"type": "cohost_request"})
	if e := rudeChat.expect(ctx, t, "error"); e["code"] != "muted" {
		t.Errorf("muted request: %v", e)
	}
	srv.moderate(ctx, t, host.Token, rm.ID, "ban", map[string]any{"user_id": rude.ID}, http.StatusNoContent, "")
	expectChatRefused(ctx, t, srv, rm.ID, rude.Token, "banned")

	// A co-host leaving through the API is announced.
	srv.mustCall(ctx, t, http.MethodDelete, "/api/v1/rooms/"+rm.ID+"/cohosts/"+fan.ID, fan.Token, nil, http.StatusNoContent, nil)
	left := hostChat.expect(ctx, t, "member_left")
	if user(left["member"].(map[string]any)) != fan.ID {
		t.Errorf("member_left %v", left)
	}
}
