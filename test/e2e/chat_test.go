package e2e

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// chatClient reads a room's chat WebSocket frame by frame, unpacking
// batched arrays.
type chatClient struct {
	c       *websocket.Conn
	pending []map[string]any
}

func dialChat(ctx context.Context, t *testing.T, s *testServer, roomID, token string) *chatClient {
	t.Helper()
	url := "ws://" + s.httpAddr + "/api/v1/rooms/" + roomID + "/chat"
	if token != "" {
		url += "?token=" + token
	}
	c, _, err := websocket.Dial(ctx, url, nil)
	if err != nil {
		t.Fatalf("chat dial: %v", err)
	}
	t.Cleanup(func() { c.CloseNow() })
	return &chatClient{c: c}
}

// next returns the next server message of type typ, skipping others.
func (cc *chatClient) next(ctx context.Context, t *testing.T, typ string) map[string]any {
	t.Helper()
	for {
		for len(cc.pending) > 0 {
			m := cc.pending[0]
			cc.pending = cc.pending[1:]
			if m["type"] == typ {
				return m
			}
		}
		_, data, err := cc.c.Read(ctx)
		if err != nil {
			t.Fatalf("waiting for %q: %v", typ, err)
		}
		if strings.HasPrefix(string(data), "[") {
			if err := json.Unmarshal(data, &cc.pending); err != nil {
				t.Fatalf("bad batch %s: %v", data, err)
			}
			continue
		}
		var m map[string]any
		if err := json.Unmarshal(data, &m); err != nil {
			t.Fatalf("bad frame %s: %v", data, err)
		}
		cc.pending = append(cc.pending, m)
	}
}

func (cc *chatClient) send(ctx context.Context, t *testing.T, v any) {
	t.Helper()
	b, _ := json.Marshal(v)
	if err := cc.c.Write(ctx, websocket.MessageText, b); err != nil {
		t.Fatalf("chat send: %v", err)
	}
}

// Chat through the real server: a message typed by one user reaches
// another and a guest, likes are totalled, and the room's chat is told when
// its live starts.
func TestChatInRoom(t *testing.T) {
	srv := startServer(t, roomRules)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	host := srv.register(ctx, t, "chathost")
	fan := srv.register(ctx, t, "chatfan")
	room := srv.createRoom(ctx, t, host, "Chat room", false)

	hostChat := dialChat(ctx, t, srv, room.ID, host.Token)
	fanChat := dialChat(ctx, t, srv, room.ID, fan.Token)
	guest := dialChat(ctx, t, srv, room.ID, "")
	for _, c := range []*chatClient{hostChat, fanChat, guest} {
		c.next(ctx, t, "history")
	}

	fanChat.send(ctx, t, map[string]any{"type": "chat", "text": "  hello host  "})
	for _, c := range []*chatClient{hostChat, guest} {
		m := c.next(ctx, t, "chat")
		user, _ := m["user"].(map[string]any)
		if m["text"] != "hello host" || user["name"] != "chatfan" || m["seq"] == nil {
			t.Fatalf("chat message %v", m)
		}
	}
	guest.send(ctx, t, map[string]any{"type": "chat", "text": "guest here"})
	if m := guest.next(ctx, t, "error"); m["code"] != "unauthorized" {
		t.Fatalf("guest send: %v", m)
	}

	fanChat.send(ctx, t, map[string]any{"type": "like", "count": 3})
	if m := hostChat.next(ctx, t, "likes"); m["total"] != float64(3) {
		t.Fatalf("likes %v", m)
	}

	push := srv.pushURL(ctx, t, host, room.ID)
	startPublisher(t, push.URL)
	if m := guest.next(ctx, t, "notice"); m["kind"] != "stream_started" {
		t.Fatalf("notice %v", m)
	}

	// The message is stored: REST paging serves it.
	resp, err := srv.call(ctx, "GET", "/api/v1/rooms/"+room.ID+"/messages?limit=10", fan.Token, nil)
	if err != nil || resp.Status != 200 || !strings.Contains(string(resp.Body), "hello host") {
		t.Fatalf("messages: %v %v", resp, err)
	}
}
