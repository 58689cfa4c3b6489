package chat

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"roomcast/internal/protocol/websocket"
)

// rawClient is a WebSocket client written by hand, to send what a library
// would not (fragments, bytes right behind the handshake, bad frames) and
// to not answer pings.
type rawClient struct {
	t    *testing.T
	conn net.Conn
	br   *bufio.Reader
}

// rawDial opens the room's chat and sends extra right behind the
// handshake request, in the same write.
func (e *env) rawDial(roomID, token string, extra []byte) *rawClient {
	e.t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(e.hs.URL, "http://"))
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { _ = conn.Close() })
	req := "GET /api/v1/rooms/" + roomID + "/chat?token=" + token + " HTTP/1.1\r\nHost: x\r\n" +
		"Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
	if _, err := conn.Write(append([]byte(req), extra...)); err != nil {
		e.t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols || resp.Header.Get("Sec-WebSocket-Accept") != "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" {
		e.t.Fatalf("handshake: %s %v", resp.Status, resp.Header)
	}
	return &rawClient{t: e.t, conn: conn, br: br}
}

// clientFrame builds a masked client frame.
func clientFrame(fin bool, op byte, payload []byte) []byte {
	b0 := op
	if fin {
		b0 |= 0x80
	}
	out := []byte{b0}
	switch {
	case len(payload) < 126:
		out = append(out, 0x80|byte(len(payload)))
	default:
		out = binary.BigEndian.AppendUint16(append(out, 0x80|126), uint16(len(payload)))
	}
	mask := [4]byte{9, 8, 7, 6}
	out = append(out, mask[:]...)
	for i, c := range payload {
		out = append(out, c^mask[i&3])
	}
	return out
}

// serverFrame is one frame from the server.
type serverFrame struct {
	op      byte
	payload []byte
}

// next reads one server frame (unmasked, final).
func (c *rawClient) next() (serverFrame, error) {
	var h [2]byte
	if _, err := io.ReadFull(c.br, h[:]); err != nil {
		return serverFrame{}, err
	}
	if h[0]&0x80 == 0 || h[1]&0x80 != 0 {
		c.t.Fatalf("server frame header %x: want final and unmasked", h)
	}
	n := int(h[1] & 0x7f)
	switch n {
	case 126:
		var e [2]byte
		if _, err := io.ReadFull(c.br, e[:]); err != nil {
			return serverFrame{}, err
		}
		n = int(binary.BigEndian.Uint16(e[:]))
	case 127:
		var e [8]byte
		if _, err := io.ReadFull(c.br, e[:]); err != nil {
			return serverFrame{}, err
		}
		n = int(binary.BigEndian.Uint64(e[:]))
	}
	p := make([]byte, n)
	_, err := io.ReadFull(c.br, p)
	return serverFrame{op: h[0] & 0x0f, payload: p}, err
}

// until reads frames until one satisfies ok, answering nothing.
func (c *rawClient) until(what string, ok func(serverFrame) bool) serverFrame {
	c.t.Helper()
	for {
		f, err := c.next()
		if err != nil {
			c.t.Fatalf("waiting for %s: %v", what, err)
		}
		if ok(f) {
			return f
		}
	}
}

// textHas matches a text message (or batch) that contains s.
func textHas(s string) func(serverFrame) bool {
	return func(f serverFrame) bool { return f.op == websocket.OpText && bytes.Contains(f.payload, []byte(s)) }
}

func isClose(f serverFrame) bool { return f.op == websocket.OpClose }

func closeOf(t *testing.T, f serverFrame) (uint16, string) {
	t.Helper()
	code, reason, err := websocket.ParseClose(f.payload)
	if err != nil {
		t.Fatalf("close frame %x: %v", f.payload, err)
	}
	return code, reason
}

// A message sent in the same packet as the handshake, in two fragments
// with a ping between them, is handled; the ping is answered; a close from
// the client is answered with the same status and the socket closed.
func TestRawClientFramesAndClose(t *testing.T) {
	e := newEnv(t, Config{})
	watcher, _ := e.join("r1", "t-bob")
	chat := []byte(`{"type":"chat","text":"fragmented hello"}`)
	early := append(clientFrame(false, websocket.OpText, chat[:10]), clientFrame(true, websocket.OpPing, []byte("p1"))...)
	early = append(early, clientFrame(true, websocket.OpContinuation, chat[10:])...)
	c := e.rawDial("r1", "t-alice", early)
	c.until("the pong", func(f serverFrame) bool { return f.op == websocket.OpPong && string(f.payload) == "p1" })
	if f := watcher.expect("chat"); f.Text != "fragmented hello" {
		t.Fatalf("chat %v", f)
	}
	if _, err := c.conn.Write(clientFrame(true, websocket.OpClose, websocket.ClosePayload(websocket.CloseGoingAway, "bye"))); err != nil {
		t.Fatal(err)
	}
	if code, _ := closeOf(t, c.until("the close answer", isClose)); code != websocket.CloseGoingAway {
		t.Fatalf("close answered with %d, want 1001", code)
	}
	if _, err := c.next(); !errors.Is(err, io.EOF) {
		t.Fatalf("after the close: %v, want EOF", err)
	}
	waitOnline(t, e, "r1", 1)
	waitLog(t, e, `msg="chat connection closed"`, `room=r1 user=u-alice`, `reason="closed by the client: 1001"`)
}

// waitLog waits for a log line that has every one of parts.
func waitLog(t *testing.T, e *env, parts ...string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		for line := range strings.SplitSeq(e.log.String(), "\n") {
			ok := true
			for _, p := range parts {
				ok = ok && strings.Contains(line, p)
			}
			if ok {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no log line with %q in:\n%s", parts, e.log.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Bad frames close the connection with the status RFC 6455 names.
func TestRawClientBadFrames(t *testing.T) {
	tests := []struct {
		name  string
		frame []byte
		code  uint16
	}{
		{"too big", clientFrame(true, websocket.OpText, bytes.Repeat([]byte("x"), 5000)), websocket.CloseTooBig},
		{"unmasked", []byte{0x81, 0x02, 'h', 'i'}, websocket.CloseProtocolError},
		{"text not UTF-8", clientFrame(true, websocket.OpText, []byte{0xff}), websocket.CloseProtocolError},
		{"unknown opcode", clientFrame(true, 0x5, nil), websocket.CloseProtocolError},
	}
	e := newEnv(t, Config{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := e.rawDial("r1", "t-alice", nil)
			c.until("history", textHas(`"history"`))
			if _, err := c.conn.Write(tt.frame); err != nil {
				t.Fatal(err)
			}
			if code, reason := closeOf(t, c.until("close", isClose)); code != tt.code {
				t.Fatalf("close %d %q, want %d", code, reason, tt.code)
			}
		})
	}
}

// A client that answers no ping is dropped PongTimeout after a ping; one
// that answers stays. The time-out leaves the answering client most of a
// second: its reader may wait that long for the CPU on a busy machine.
func TestKeepAlive(t *testing.T) {
	const pongTimeout = 800 * time.Millisecond
	e := newEnv(t, Config{PingInterval: time.Second, PongTimeout: pongTimeout})
	alive, _ := e.join("r1", "t-bob") // the library answers pings while it reads
	go func() {
		for {
			if _, err := alive.read(); err != nil {
				return
			}
		}
	}()
	dead := e.rawDial("r1", "t-alice", nil)
	dead.until("a ping", func(f serverFrame) bool { return f.op == websocket.OpPing })
	f := dead.until("the close", isClose)
	if code, reason := closeOf(t, f); code != websocket.CloseGoingAway || reason != "ping timeout" {
		t.Fatalf("close %d %q, want 1001 ping timeout", code, reason)
	}
	waitOnline(t, e, "r1", 1)
	waitLog(t, e, `msg="chat connection closed"`, `room=r1 user=u-alice`, `reason="closed by the server: 1001 ping timeout"`)
	// Three more rounds of pings, each checked for answers.
	ch := e.srv.channels.get("r1")
	pingAt := func() time.Time {
		ch.mu.Lock()
		defer ch.mu.Unlock()
		return ch.pingAt
	}
	for range 3 {
		last := pingAt()
		waitFor(t, "the next ping", func() bool { return pingAt().After(last) })
	}
	waitFor(t, "the answers to a ping checked", func() bool {
		ch.mu.Lock()
		defer ch.mu.Unlock()
		return !ch.pongDue
	})
	if n := e.srv.Online("r1"); n != 1 {
		t.Fatalf("online %d after the answering client's pings, want 1", n)
	}
}

// Broadcasts within BroadcastInterval of each other go out as one JSON
// array message; the first after a quiet interval goes out alone. Presence
// goes out once (PresenceInterval is long), and the test waits until the
// room is quiet rather than for a time; the interval is long enough for
// the second and third messages to reach the server within it.
func TestBroadcastBatched(t *testing.T) {
	const interval = 2 * time.Second
	e := newEnv(t, Config{BroadcastInterval: interval, PresenceInterval: time.Hour, RateMessages: 10})
	sender, _ := e.join("r1", "t-alice")
	c := e.rawDial("r1", "t-bob", nil)
	c.until("history", textHas(`"history"`))
	ch := e.srv.channels.get("r1")
	waitFor(t, "a quiet room", func() bool {
		ch.mu.Lock()
		defer ch.mu.Unlock()
		return len(ch.outbox) == 0 && !ch.lastFlush.IsZero() && time.Since(ch.lastFlush) > max(interval, ch.flushGap)
	})
	for _, text := range []string{"one", "two", "three"} {
		sender.send(map[string]any{"type": "chat", "text": text})
	}
	first := c.until("the first message", textHas(`"one"`))
	var single map[string]any
	if err := json.Unmarshal(first.payload, &single); err != nil || single["text"] != "one" {
		t.Fatalf("first message %s: want it alone (%v)", first.payload, err)
	}
	rest := c.until("the batch", textHas(`"two"`))
	var arr []map[string]any
	if err := json.Unmarshal(rest.payload, &arr); err != nil || len(arr) != 2 || arr[0]["text"] != "two" || arr[1]["text"] != "three" {
		t.Fatalf("batch %s: want [two, three] (%v)", rest.payload, err)
	}
}

func waitOnline(t *testing.T, e *env, room string, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for e.srv.Online(room) != n {
		if time.Now().After(deadline) {
			t.Fatalf("online %d, want %d", e.srv.Online(room), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
