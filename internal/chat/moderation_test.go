package chat

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"testing"

	"github.com/coder/websocket"
)

func TestModerationOverWebSocket(t *testing.T) {
	e := newEnv(t, Config{})
	owner, _ := e.join("r1", "t-owner")
	bob, _ := e.join("r1", "t-bob")
	alice, _ := e.join("r1", "t-alice")

	// mute: bob is told and may not send; others may.
	owner.send(map[string]any{"type": "mute", "user_id": "u-bob", "seconds": 60})
	if f := bob.expect("muted"); f.Until == 0 {
		t.Errorf("muted = %s", f.Raw)
	}
	bob.send(map[string]any{"type": "chat", "text": "let me talk"})
	if f := bob.expect("error"); f.Code != codeMuted {
		t.Errorf("error = %s", f.Raw)
	}
	owner.send(map[string]any{"type": "unmute", "user_id": "u-bob"})
	bob.expect("unmuted")
	bob.send(map[string]any{"type": "chat", "text": "thanks"})
	bob.expect("chat")

	// delete: everybody gets deleted; history and paging leave it out.
	alice.send(map[string]any{"type": "chat", "text": "rude"})
	m := owner.expectWhere("chat", func(f frame) bool { return f.Text == "rude" })
	owner.send(map[string]any{"type": "delete", "message_id": m.ID})
	for _, c := range []*wsClient{owner, bob, alice} {
		if f := c.expect("deleted"); f.ID != m.ID || f.Seq != m.Seq {
			t.Errorf("deleted = %s", f.Raw)
		}
	}
	owner.send(map[string]any{"type": "delete", "message_id": m.ID})
	if f := owner.expect("error"); f.Code != codeNotFound {
		t.Errorf("second delete: %s", f.Raw)
	}
	_, h := e.join("r1", "")
	for _, hm := range h.Messages {
		if hm.ID == m.ID {
			t.Errorf("deleted message in history")
		}
	}

	// pin: a notice for all.
	owner.send(map[string]any{"type": "pin", "text": "welcome!"})
	if f := alice.expect("notice"); f.Kind != NoticePinned || f.Text != "welcome!" {
		t.Errorf("notice = %s", f.Raw)
	}

	// kick: bob is told, disconnected and may not rejoin.
	owner.send(map[string]any{"type": "kick", "user_id": "u-bob", "seconds": 60})
	bob.expect("kicked")
	if ce := bob.expectClose(); ce.Code != websocket.StatusPolicyViolation || ce.Reason != "kicked" {
		t.Errorf("close = %v", ce)
	}
	again := e.dial("r1", "t-bob", "")
	if f := again.expect("error"); f.Code != "kicked" {
		t.Errorf("rejoin: %s", f.Raw)
	}
	again.expectClose()

	// the owner cannot be sanctioned.
	owner.send(map[string]any{"type": "ban", "user_id": "u-owner"})
	if f := owner.expect("error"); f.Code != codeBadRequest {
		t.Errorf("ban owner: %s", f.Raw)
	}
}

func TestModerationREST(t *testing.T) {
	e := newEnv(t, Config{})
	alice, _ := e.join("r1", "t-alice")
	for _, tc := range []struct {
		name, token, action, body string
		status                    int
	}{
		{"no token", "", "pin", `{"text":"x"}`, http.StatusUnauthorized},
		{"not owner", "t-bob", "pin", `{"text":"x"}`, http.StatusForbidden},
		{"unknown action", "t-owner", "dance", `{}`, http.StatusBadRequest},
		{"bad body", "t-owner", "mute", `{`, http.StatusBadRequest},
		{"unknown field", "t-owner", "mute", `{"user":"u-bob"}`, http.StatusBadRequest},
		{"no user", "t-owner", "mute", `{}`, http.StatusBadRequest},
		{"pin", "t-owner", "pin", `{"text":"hello all"}`, http.StatusNoContent},
		{"ban", "t-owner", "ban", `{"user_id":"u-alice"}`, http.StatusNoContent},
		{"unban", "t-owner", "unban", `{"user_id":"u-alice"}`, http.StatusNoContent},
		{"delete missing", "t-owner", "delete", `{"message_id":"nope"}`, http.StatusNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := e.post("/api/v1/rooms/r1/moderation/"+tc.action, tc.token, tc.body)
			if resp.StatusCode != tc.status {
				t.Errorf("status %d, want %d", resp.StatusCode, tc.status)
			}
		})
	}
	if f := alice.expect("notice"); f.Text != "hello all" {
		t.Errorf("notice = %s", f.Raw)
	}
	alice.expect("banned")
	if ce := alice.expectClose(); ce.Reason != "banned" {
		t.Errorf("close = %v", ce)
	}
	e.join("r1", "t-alice") // unbanned
}

func TestMessagesPaging(t *testing.T) {
	e := newEnv(t, Config{})
	e.seed("r1", 7)
	get := func(query string) (int, MessagesPage) {
		resp, err := http.Get(e.hs.URL + "/api/v1/rooms/r1/messages" + query)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		var p MessagesPage
		_ = json.Unmarshal(b, &p)
		return resp.StatusCode, p
	}
	seqs := func(p MessagesPage) string {
		var s []int64
		for _, m := range p.Messages {
			var f frame
			_ = json.Unmarshal(m, &f)
			s = append(s, f.Seq)
		}
		return fmt.Sprint(s, " next ", p.NextBefore)
	}
	for _, tc := range []struct {
		query  string
		status int
		want   string
	}{
		{"", 200, "[1 2 3 4 5 6 7] next 0"},
		{"?limit=3", 200, "[5 6 7] next 5"},
		{"?limit=3&before=5", 200, "[2 3 4] next 2"},
		{"?limit=3&before=2", 200, "[1] next 0"},
		{"?before=0", 400, "[] next 0"},
		{"?limit=9999", 400, "[] next 0"},
	} {
		t.Run(tc.query, func(t *testing.T) {
			status, p := get(tc.query)
			if status != tc.status || seqs(p) != tc.want {
				t.Errorf("got %d %s, want %d %s", status, seqs(p), tc.status, tc.want)
			}
		})
	}
	resp, _ := http.Get(e.hs.URL + "/api/v1/rooms/r2/messages")
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("private room for guest: %d", resp.StatusCode)
	}
}
