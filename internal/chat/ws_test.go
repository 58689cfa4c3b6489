package chat

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

func TestJoinHistoryAndChat(t *testing.T) {
	e := newEnv(t, Config{HistorySize: 3})
	e.seed("r1", 5)
	a := e.dial("r1", "t-alice", "")
	w := a.expect("welcome")
	if !w.CanSend || w.LastSeq != 5 || w.User == nil || w.User.Name != "alice" {
		t.Errorf("welcome = %s", w.Raw)
	}
	h := a.expect("history")
	var seqs []int64
	for _, m := range h.Messages {
		seqs = append(seqs, m.Seq)
	}
	if len(seqs) != 3 || seqs[0] != 3 || seqs[2] != 5 || h.Messages[2].Text != "m5" {
		t.Errorf("history seqs %v (%s)", seqs, h.Raw)
	}

	b, _ := e.join("r1", "t-bob")
	a.send(map[string]any{"type": "chat", "text": "  hello bob  "})
	for _, c := range []*wsClient{a, b} {
		m := c.expect("chat")
		if m.Seq != 6 || m.Text != "hello bob" || m.User == nil || m.User.ID != "u-alice" || m.User.Name != "alice" || m.ID == "" {
			t.Errorf("chat = %s", m.Raw)
		}
	}
	// A new client sees the new message in its history.
	_, h = e.join("r1", "")
	if n := len(h.Messages); n != 3 || h.Messages[n-1].Text != "hello bob" {
		t.Errorf("history after chat: %s", h.Raw)
	}
}

func TestSendErrors(t *testing.T) {
	e := newEnv(t, Config{MaxTextLen: 10, RateMessages: 2, SensitiveWords: []string{"Bad"}})
	a, _ := e.join("r1", "t-alice")
	guest, _ := e.join("r1", "")
	for _, tc := range []struct {
		name string
		c    *wsClient
		send map[string]any
		code string
	}{
		{"too long", a, map[string]any{"type": "chat", "text": strings.Repeat("é", 11)}, codeTooLong},
		{"empty", a, map[string]any{"type": "chat", "text": "   "}, codeEmpty},
		{"unknown type", a, map[string]any{"type": "dance"}, codeBadRequest},
		{"no type", a, map[string]any{"text": "x"}, codeBadRequest},
		{"guest chat", guest, map[string]any{"type": "chat", "text": "hi"}, codeUnauthorized},
		{"guest like", guest, map[string]any{"type": "like", "count": 1}, codeUnauthorized},
		{"not a moderator", a, map[string]any{"type": "mute", "user_id": "u-bob"}, codeForbidden},
		{"too many likes at once", a, map[string]any{"type": "like", "count": 1000}, codeBadRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.c.send(tc.send)
			if f := tc.c.expect("error"); f.Code != tc.code {
				t.Errorf("error = %s, want code %s", f.Raw, tc.code)
			}
		})
	}
	t.Run("mask and rate limit", func(t *testing.T) {
		a.send(map[string]any{"type": "chat", "text": "so bAd!"})
		if m := a.expect("chat"); m.Text != "so ***!" {
			t.Errorf("masked text = %q", m.Text)
		}
		a.send(map[string]any{"type": "chat", "text": "two"})
		a.expect("chat")
		a.send(map[string]any{"type": "chat", "text": "three"})
		if f := a.expect("error"); f.Code != codeRateLimited {
			t.Errorf("error = %s, want rate_limited", f.Raw)
		}
		a.send(map[string]any{"type": "ping"}) // still connected
		a.expect("pong")
	})
}

func TestFloodDisconnects(t *testing.T) {
	e := newEnv(t, Config{RateMessages: 1, FloodLimit: 3})
	a, _ := e.join("r1", "t-alice")
	for range 10 {
		a.send(map[string]any{"type": "chat", "text": "spam"})
	}
	ce := a.expectClose()
	if ce.Code != websocket.StatusPolicyViolation || ce.Reason != "flooding" {
		t.Errorf("close = %v", ce)
	}
}

// Likes are stored and broadcast per LikesInterval, not per tap; the
// interval is long enough for the taps, sent back to back, to fall within
// two of them even on a busy machine.
func TestLikesAggregated(t *testing.T) {
	e := newEnv(t, Config{LikesInterval: time.Second})
	a, _ := e.join("r1", "t-alice")
	b, _ := e.join("r1", "t-bob")
	for range 10 {
		a.send(map[string]any{"type": "like"})
	}
	b.send(map[string]any{"type": "like", "count": 5})
	frames := 0
	a.expectWhere("likes", func(f frame) bool { frames++; return f.Total == 15 })
	if frames > 2 {
		t.Errorf("%d likes frames for 15 taps; want them aggregated", frames)
	}
	r, err := e.db.RoomByID(t.Context(), "r1")
	if err != nil || r.Likes != 15 {
		t.Errorf("stored likes = %d, %v", r.Likes, err)
	}
}

func TestPresence(t *testing.T) {
	e := newEnv(t, Config{})
	a, _ := e.join("r1", "t-alice")
	a.expectWhere("presence", func(f frame) bool { return f.Online == 1 && f.Viewers == 7 })
	b, _ := e.join("r1", "")
	a.expectWhere("presence", func(f frame) bool { return f.Online == 2 })
	_ = b.conn.Close(websocket.StatusNormalClosure, "")
	a.expectWhere("presence", func(f frame) bool { return f.Online == 1 })
	if n := e.srv.Online("r1"); n != 1 {
		t.Errorf("Online = %d", n)
	}
}

func TestResume(t *testing.T) {
	e := newEnv(t, Config{HistorySize: 2, MaxResume: 3})
	e.seed("r1", 6)
	for _, tc := range []struct {
		name      string
		since     string
		want      []int64
		truncated bool
	}{
		{"from ring", "4", []int64{5, 6}, false},
		{"up to date", "6", nil, false},
		{"beyond ring", "2", []int64{3, 4, 5, 6}[1:], true}, // 4 missed, MaxResume 3
		{"store and ring", "3", []int64{4, 5, 6}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := e.dial("r1", "", "since="+tc.since)
			c.expect("welcome")
			h := c.expect("history")
			var got []int64
			for _, m := range h.Messages {
				got = append(got, m.Seq)
			}
			var raw struct{ Truncated bool }
			_ = json.Unmarshal(h.Raw, &raw)
			if !h.Resumed || raw.Truncated != tc.truncated || len(got) != len(tc.want) {
				t.Fatalf("history = %s, want seqs %v truncated %v", h.Raw, tc.want, tc.truncated)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Errorf("seqs %v, want %v", got, tc.want)
				}
			}
		})
	}
}

func TestRefusals(t *testing.T) {
	e := newEnv(t, Config{MaxConnsPerUser: 1})
	for _, tc := range []struct {
		name, room, token, query string
		status                   int
	}{
		{"bad token", "r1", "nope", "", http.StatusUnauthorized},
		{"private room for guest", "r2", "", "", http.StatusNotFound},
		{"private room for stranger", "r2", "t-alice", "", http.StatusNotFound},
		{"no room", "zz", "", "", http.StatusNotFound},
		{"bad since", "r1", "", "since=x", http.StatusBadRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.tryDial(tc.room, tc.token, tc.query)
			if err == nil || !strings.Contains(err.Error(), http.StatusText(tc.status)) && !strings.Contains(err.Error(), itoa(tc.status)) {
				t.Errorf("dial error %v, want status %d", err, tc.status)
			}
		})
	}
	e.join("r2", "t-owner") // the owner sees the private room
	t.Run("connection cap", func(t *testing.T) {
		c := e.dial("r1", "t-owner", "")
		if f := c.expect("error"); f.Code != "too_many_connections" {
			t.Errorf("error = %s", f.Raw)
		}
		if ce := c.expectClose(); ce.Code != websocket.StatusPolicyViolation {
			t.Errorf("close = %v", ce)
		}
	})
	t.Run("no guests", func(t *testing.T) {
		e2 := newEnv(t, Config{NoGuests: true})
		if _, err := e2.tryDial("r1", "", ""); err == nil {
			t.Error("guest connected with NoGuests")
		}
	})
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }
