package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// chatWait bounds every single wait of the chat tests.
const chatWait = 10 * time.Second

// dialChatQuery dials the room's chat with the token and an extra raw
// query ("since=4"; "" for none).
func dialChatQuery(ctx context.Context, t *testing.T, s *testServer, roomID, token, query string) *chatClient {
	t.Helper()
	url := "ws://" + s.httpAddr + "/api/v1/rooms/" + roomID + "/chat?token=" + token
	if query != "" {
		url += "&" + query
	}
	ctx, cancel := context.WithTimeout(ctx, chatWait)
	defer cancel()
	c, _, err := websocket.Dial(ctx, url, nil)
	if err != nil {
		t.Fatalf("chat dial: %v", err)
	}
	t.Cleanup(func() { c.CloseNow() })
	return &chatClient{c: c}
}

// expect is next bounded by chatWait.
func (cc *chatClient) expect(ctx context.Context, t *testing.T, typ string) map[string]any {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, chatWait)
	defer cancel()
	return cc.next(ctx, t, typ)
}

// nextAny returns the next server message, whatever its type, within
// chatWait.
func (cc *chatClient) nextAny(ctx context.Context, t *testing.T) map[string]any {
	t.Helper()
	if len(cc.pending) == 0 {
		ctx, cancel := context.WithTimeout(ctx, chatWait)
		defer cancel()
		_, data, err := cc.c.Read(ctx)
		if err != nil {
			t.Fatalf("waiting for a frame: %v", err)
		}
		if strings.HasPrefix(string(data), "[") {
			if err := json.Unmarshal(data, &cc.pending); err != nil {
				t.Fatalf("bad batch %s: %v", data, err)
			}
		} else {
			var m map[string]any
			if err := json.Unmarshal(data, &m); err != nil {
				t.Fatalf("bad frame %s: %v", data, err)
			}
			cc.pending = append(cc.pending, m)
		}
	}
	m := cc.pending[0]
	cc.pending = cc.pending[1:]
	return m
}

// expectWhere returns the next frame of type typ for which ok holds,
// skipping others.
func (cc *chatClient) expectWhere(ctx context.Context, t *testing.T, typ string, ok func(map[string]any) bool) map[string]any {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, chatWait)
	defer cancel()
	for {
		if m := cc.next(ctx, t, typ); ok(m) {
			return m
		}
	}
}

// expectClose reads until the server closes the connection and returns the
// close status and reason, and the frames read meanwhile (as JSON).
func (cc *chatClient) expectClose(ctx context.Context, t *testing.T) (websocket.StatusCode, string, []string) {
	t.Helper()
	var frames []string
	for _, m := range cc.pending {
		b, _ := json.Marshal(m)
		frames = append(frames, string(b))
	}
	cc.pending = nil
	ctx, cancel := context.WithTimeout(ctx, chatWait)
	defer cancel()
	for {
		_, data, err := cc.c.Read(ctx)
		if err == nil {
			frames = append(frames, string(data))
			continue
		}
		var ce websocket.CloseError
		if !errors.As(err, &ce) {
			t.Fatalf("connection ended without a close frame: %v (frames %v)", err, frames)
		}
		return ce.Code, ce.Reason, frames
	}
}

// expectChatRefused checks that joining the room's chat is refused after
// the upgrade: an error frame with code, then close 1008 with code as the
// reason.
func expectChatRefused(ctx context.Context, t *testing.T, s *testServer, roomID, token, code string) {
	t.Helper()
	cc := dialChatQuery(ctx, t, s, roomID, token, "")
	if m := cc.expect(ctx, t, "error"); m["code"] != code {
		t.Fatalf("refusal: error frame %v, want code %s", m, code)
	}
	if status, reason, _ := cc.expectClose(ctx, t); status != websocket.StatusPolicyViolation || reason != code {
		t.Fatalf("refusal: close %d %q, want 1008 %q", status, reason, code)
	}
}

// moderate calls POST /rooms/{id}/moderation/{action} and checks the status
// (and, for an error, the code).
func (s *testServer) moderate(ctx context.Context, t *testing.T, token, roomID, action string, body any, status int, code string) {
	t.Helper()
	path := "/api/v1/rooms/" + roomID + "/moderation/" + action
	if status == http.StatusNoContent {
		s.mustCall(ctx, t, http.MethodPost, path, token, body, status, nil)
		return
	}
	s.expectError(ctx, t, http.MethodPost, path, token, body, status, code)
}

// chatMessages returns the texts of GET /rooms/{id}/messages by message id.
func (s *testServer) chatMessages(ctx context.Context, t *testing.T, token, roomID string) map[string]string {
	t.Helper()
	var page struct {
		Messages []struct {
			ID   string `json:"id"`
			Text string `json:"text"`
		} `json:"messages"`
	}
	s.mustCall(ctx, t, http.MethodGet, "/api/v1/rooms/"+roomID+"/messages?limit=100", token, nil, http.StatusOK, &page)
	out := map[string]string{}
	for _, m := range page.Messages {
		out[m.ID] = m.Text
	}
	return out
}
