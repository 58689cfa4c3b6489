package chat

import (
	"bytes"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"roomcast/internal/protocol/websocket"
	"roomcast/internal/store"
)

func TestParseFrame(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    inFrame
		wantErr bool
	}{
		{`{"type":"chat","text":"hi"}`, inFrame{Type: "chat", Text: "hi"}, false},
		{`{"type":"like","count":3,"extra":1}`, inFrame{Type: "like", Count: 3}, false},
		{`{"type":"mute","user_id":"u","seconds":5}`, inFrame{Type: "mute", UserID: "u", Seconds: 5}, false},
		{`{"text":"no type"}`, inFrame{}, true},
		{`{"type":"chat"} {"type":"chat"}`, inFrame{}, true},
		{`[{"type":"chat"}]`, inFrame{}, true},
		{`{"type":1}`, inFrame{}, true},
		{``, inFrame{}, true},
	} {
		got, err := parseFrame([]byte(tc.in))
		if (err != nil) != tc.wantErr || (err == nil && got != tc.want) {
			t.Errorf("parseFrame(%s) = %+v, %v", tc.in, got, err)
		}
	}
}

func FuzzParseFrame(f *testing.F) {
	for _, s := range []string{`{"type":"chat","text":"hi"}`, `{"type":"like","count":3}`, `[]`, `{"type":"pin","text":"\u0000"}`} {
		f.Add([]byte(s))
	}
	filter := newTextFilter(500, []string{"bad"})
	f.Fuzz(func(t *testing.T, b []byte) {
		fr, err := parseFrame(b)
		if err != nil {
			return
		}
		if fr.Type == "" {
			t.Fatal("accepted a frame without type")
		}
		if text, err := filter.clean(fr.Text); err == nil && (text == "" || len([]rune(text)) > 500) {
			t.Fatalf("clean accepted %q", text)
		}
	})
}

func TestTextFilter(t *testing.T) {
	f := newTextFilter(5, []string{"foo", " ", "Ünï"})
	for _, tc := range []struct {
		in, want, code string
	}{
		{" hi ", "hi", ""},
		{"FOOfo", "***fo", ""},
		{"ünïx", "***x", ""},
		{"12345", "12345", ""},
		{"123456", "", codeTooLong},
		{"\t\n ", "", codeEmpty},
		{"a\x00b", "", codeBadRequest},
		{"a\xffb", "", codeBadRequest},
	} {
		got, err := f.clean(tc.in)
		code := ""
		if ie, ok := err.(*InvalidError); ok {
			code = ie.Code
		}
		if got != tc.want || code != tc.code {
			t.Errorf("clean(%q) = %q, %v; want %q, %s", tc.in, got, err, tc.want, tc.code)
		}
	}
}

func TestBatch(t *testing.T) {
	b := newBatch([]outFrame{
		{b: []byte(`{"a":1}`), seq: 7, class: classChat},
		{b: []byte(`{"b":2}`), class: classKeep},
		{b: []byte(`{"l":1}`), class: classLikes},
		{b: []byte(`{"l":2}`), class: classLikes},
		{b: []byte(`{"c":3}`), seq: 9, class: classChat},
	}, time.Now())
	want := `[{"a":1},{"b":2},{"l":1},{"l":2},{"c":3}]`
	if !bytes.Equal(b.frame, websocket.Frame(websocket.OpText, []byte(want))) {
		t.Errorf("batch frame %q, want the text frame of %s", b.frame, want)
	}
	if b.chats != 2 || b.lastSeq != 9 || len(b.keep) != 1 || string(b.likes) != `{"l":2}` || b.presence != nil {
		t.Errorf("batch info %+v", b)
	}
	one := newBatch([]outFrame{{b: []byte(`{"a":1}`), class: classChat, seq: 1}}, time.Now())
	if !bytes.Equal(one.frame, websocket.Frame(websocket.OpText, []byte(`{"a":1}`))) {
		t.Errorf("single frame %q", one.frame)
	}
}

func TestSlowClientDisconnected(t *testing.T) {
	cfg := Config{SendQueue: 2}
	cfg.setDefaults()
	conn, peer := net.Pipe() // the peer never reads: writes block
	defer peer.Close()
	c := newClient(conn, nil, false, &cfg, nil)
	// One frame in the writer's hands, two pending, the fourth overflows.
	for range 4 {
		c.enqueue(websocket.Frame(websocket.OpText, []byte(`{}`)))
	}
	if !c.isClosing() {
		t.Fatal("client with a full queue was not closed")
	}
	if c.status != websocket.ClosePolicyViolation || !strings.Contains(c.reason, "slow") || !c.slow {
		t.Errorf("status %v reason %q slow %v", c.status, c.reason, c.slow)
	}
	c.enqueue([]byte(`{}`)) // no panic, no block after close
	// The blocked write is cut short (1 s), then the socket is closed.
	select {
	case <-c.flushed:
	case <-time.After(5 * time.Second):
		t.Fatal("the slow client's connection was not dropped")
	}
	if _, err := conn.Write([]byte("x")); err == nil {
		t.Error("the slow client's connection is still open")
	}
}

// discardConn is a connection that takes every write at once.
type discardConn struct{ net.Conn }

func (discardConn) Write(b []byte) (int, error)      { return len(b), nil }
func (discardConn) SetWriteDeadline(time.Time) error { return nil }
func (discardConn) SetReadDeadline(time.Time) error  { return nil }
func (discardConn) Close() error                     { return nil }

// BenchmarkBroadcast measures fanning one chat message out to N clients:
// one encode and one framing per message, then one queue push per client,
// each client's writer writing to a connection that takes it at once.
func BenchmarkBroadcast(b *testing.B) {
	for _, n := range []int{10, 100, 1000, 10000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			cfg := Config{SendQueue: 1 << 20, HistorySize: 50, BroadcastInterval: time.Nanosecond}
			cfg.setDefaults()
			s := &Server{cfg: cfg}
			ch := &roomChannel{s: s, id: "r", clients: make(map[*client]struct{})}
			for range n {
				c := newClient(discardConn{}, nil, false, &cfg, nil)
				ch.clients[c] = struct{}{}
			}
			m := &store.ChatMessage{RoomID: "r", ID: "msg_x", UserID: "u", UserName: "name", Text: strings.Repeat("x", 40)}
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				m.Seq = int64(i + 1)
				ev := mustJSON(event{Kind: evChat, Seq: m.Seq, ID: m.ID, Frame: encodeChat(m)})
				// One pass per message: the adaptive gap would batch them.
				ch.mu.Lock()
				ch.flushGap, ch.lastFlush = 0, time.Time{}
				ch.mu.Unlock()
				ch.onEvent(ev)
			}
			b.StopTimer()
			for c := range ch.clients {
				if c.isClosing() {
					b.Fatalf("a client was dropped as slow")
				}
			}
		})
	}
}
