package rtmp

import (
	"bytes"
	"context"
	"errors"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"roomcast/internal/protocol/amf"
)

// testServer is a minimal RTMP server built from this package's primitives.
// It accepts one stream name per behaviour: "bad" is refused on publish,
// "missing" on play; app "private" refuses connect.
type testServer struct {
	t  *testing.T
	ln net.Listener
	wg sync.WaitGroup

	mu        sync.Mutex
	published []*Message // media received from publishers
	commands  []*Command // every command received
	pongs     []uint32   // ping responses received
	acks      []uint32   // acknowledgements received
	chunkSize int        // last chunk size the client set
}

func newTestServer(t *testing.T) *testServer {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &testServer{t: t, ln: ln}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				defer conn.Close()
				s.serve(conn)
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		s.wg.Wait()
	})
	return s
}

func (s *testServer) url(app, stream string) string {
	return "rtmp://" + s.ln.Addr().String() + "/" + app + "/" + stream
}

func (s *testServer) serve(conn net.Conn) {
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	if err := ServerHandshake(conn); err != nil {
		s.t.Errorf("server handshake: %v", err)
		return
	}
	cr := NewChunkReader(conn, Limits{})
	cw := NewChunkWriter(conn, DefaultChunkSize)
	reply := func(streamID uint32, name string, tx float64, obj any, args ...any) {
		m, err := (&Command{Name: name, TransactionID: tx, Object: obj, Args: args}).Message(CSIDCommand, streamID)
		if err == nil {
			err = cw.WriteMessage(m)
		}
		if err != nil {
			s.t.Errorf("server write: %v", err)
		}
	}
	status := func(streamID uint32, level, code string) {
		reply(streamID, "onStatus", 0, nil, StatusObject(level, code, "test"))
	}
	for {
		m, err := cr.ReadMessage()
		if err != nil {
			return
		}
		s.mu.Lock()
		s.chunkSize = cr.ChunkSize()
		switch m.Type {
		case TypeAudio, TypeVideo, TypeDataAMF0:
			s.published = append(s.published, m)
		case TypeAck:
			v, _ := ParseUint32(m.Data)
			s.acks = append(s.acks, v)
		case TypeUserControl:
			if ev, vals, _ := ParseUserControl(m.Data); ev == EventPingResponse {
				s.pongs = append(s.pongs, vals[0])
			}
		}
		s.mu.Unlock()
		if m.Type != TypeCommandAMF0 {
			continue
		}
		cmd, err := ParseCommand(m)
		if err != nil {
			s.t.Errorf("server: %v", err)
			return
		}
		s.mu.Lock()
		s.commands = append(s.commands, cmd)
		s.mu.Unlock()
		var name string
		if len(cmd.Args) > 0 {
			name, _ = cmd.Args[0].(string)
		}
		switch cmd.Name {
		case "connect":
			obj, _ := cmd.Object.(amf.Object)
			if obj.String("app") == "private" {
				reply(0, "_error", cmd.TransactionID, nil, StatusObject(LevelError, CodeConnectRejected, "no"))
				continue
			}
			cw.WriteMessage(NewWindowAckSize(20000))
			cw.WriteMessage(NewSetPeerBandwidth(20000, LimitDynamic))
			cw.SetChunkSize(1000)
			reply(0, "onBWDone", 0, nil)
			reply(0, "_result", cmd.TransactionID, amf.Object{{Key: "fmsVer", Value: "FMS/3,0,1,123"}},
				StatusObject(LevelStatus, CodeConnectSuccess, "ok"))
		case "releaseStream":
			reply(0, "_error", cmd.TransactionID, nil, StatusObject(LevelError, "NetConnection.Call.Failed", "ignored"))
		case "createStream":
			reply(0, "_result", cmd.TransactionID, nil, 1)
		case "publish":
			if name == "bad" {
				status(m.StreamID, LevelError, CodePublishBadName)
				continue
			}
			status(m.StreamID, LevelStatus, CodePublishStart)
		case "play":
			if name == "missing" {
				status(m.StreamID, LevelError, CodePlayStreamNotFound)
				continue
			}
			cw.WriteMessage(NewStreamBegin(m.StreamID))
			status(m.StreamID, LevelStatus, CodePlayReset)
			status(m.StreamID, LevelStatus, CodePlayStart)
			s.sendMedia(cw, m.StreamID)
		}
	}
}

// sendMedia sends what TestClientPlay expects to read.
func (s *testServer) sendMedia(cw *ChunkWriter, sid uint32) {
	data, _ := amf.Append(nil, "onMetaData", amf.ECMAArray{{Key: "width", Value: 640.0}})
	cw.WriteMessage(&Message{Type: TypeDataAMF0, ChunkStreamID: CSIDData, StreamID: sid, Data: data})
	cw.WriteMessage(&Message{Type: TypeAudio, ChunkStreamID: CSIDAudio, StreamID: sid, Timestamp: 10, Data: []byte("aac")})
	cw.WriteMessage(NewPingRequest(777))
	cw.WriteMessage(&Message{Type: TypeVideo, ChunkStreamID: CSIDVideo, StreamID: sid, Timestamp: 20, Data: bytes.Repeat([]byte("v"), 30000)})
	agg := join(tag(TypeAudio, 500, "a1"), tag(TypeVideo, 540, "v1"))
	cw.WriteMessage(&Message{Type: TypeAggregate, ChunkStreamID: CSIDVideo, StreamID: sid, Timestamp: 60, Data: agg})
	cw.WriteMessage(&Message{Type: TypeCommandAMF0, ChunkStreamID: CSIDCommand, StreamID: sid,
		Data: mustAMF("onStatus", 0, nil, StatusObject(LevelStatus, CodePlayUnpublish, "gone"))})
	cw.WriteMessage(&Message{Type: TypeCommandAMF0, ChunkStreamID: CSIDCommand, StreamID: sid,
		Data: mustAMF("onStatus", 0, nil, StatusObject(LevelError, CodePlayFailed, "broken"))})
}

func mustAMF(vals ...any) []byte {
	b, err := amf.Append(nil, vals...)
	if err != nil {
		panic(err)
	}
	return b
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestClientPublish(t *testing.T) {
	s := newTestServer(t)
	c, err := Dial(testCtx(t), s.url("live", "room1?txSecret=abc&txTime=65"))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Publish(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	if c.StreamID() != 1 {
		t.Fatalf("StreamID = %d", c.StreamID())
	}
	if err := c.WriteMetadata(amf.ECMAArray{{Key: "width", Value: 1280.0}}); err != nil {
		t.Fatal(err)
	}
	video := bytes.Repeat([]byte{0x17}, 10000)
	if err := c.WriteMedia(TypeVideo, 0x1000000, video); err != nil {
		t.Fatal(err)
	}
	if err := c.WriteMedia(TypeAudio, 23, []byte{0xaf, 1}); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	s.ln.Close()
	s.wg.Wait()

	if len(s.published) != 3 {
		t.Fatalf("server got %d media messages, want 3", len(s.published))
	}
	vals, err := ParseData(s.published[0])
	if err != nil || len(vals) != 3 || vals[0] != "@setDataFrame" || vals[1] != "onMetaData" {
		t.Fatalf("metadata = %#v, %v", vals, err)
	}
	if v := s.published[1]; v.Type != TypeVideo || v.Timestamp != 0x1000000 || !bytes.Equal(v.Data, video) || v.StreamID != 1 {
		t.Fatalf("video = type %d ts %#x len %d sid %d", v.Type, v.Timestamp, len(v.Data), v.StreamID)
	}
	if s.chunkSize != clientChunkSize {
		t.Fatalf("client chunk size = %d, want %d", s.chunkSize, clientChunkSize)
	}
	var names []string
	for _, c := range s.commands {
		names = append(names, c.Name)
	}
	want := "connect releaseStream FCPublish createStream publish FCUnpublish deleteStream"
	if got := strings.Join(names, " "); got != want {
		t.Fatalf("commands = %q, want %q", got, want)
	}
	connect := s.commands[0].Object.(amf.Object)
	if connect.String("tcUrl") != "rtmp://"+s.ln.Addr().String()+"/live" || connect.String("app") != "live" {
		t.Fatalf("connect object = %#v", connect)
	}
	if s.commands[0].TransactionID != 1 {
		t.Fatalf("connect transaction ID = %v", s.commands[0].TransactionID)
	}
	if got := s.commands[4].Args[0]; got != "room1?txSecret=abc&txTime=65" {
		t.Fatalf("publish name = %v", got)
	}
}

func TestClientPlay(t *testing.T) {
	s := newTestServer(t)
	c, err := Dial(testCtx(t), s.url("live", "room1"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Play(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	type want struct {
		typ uint8
		ts  uint32
		n   int
	}
	wants := []want{{TypeDataAMF0, 0, 0}, {TypeAudio, 10, 3}, {TypeVideo, 20, 30000}, {TypeAudio, 60, 2}, {TypeVideo, 100, 2}}
	c.SetDeadline(time.Now().Add(5 * time.Second))
	for i, w := range wants {
		m, err := c.ReadMessage()
		if err != nil {
			t.Fatalf("ReadMessage %d: %v", i, err)
		}
		if m.Type != w.typ || m.Timestamp != w.ts || (w.n > 0 && len(m.Data) != w.n) {
			t.Fatalf("message %d = type %d ts %d len %d, want %+v", i, m.Type, m.Timestamp, len(m.Data), w)
		}
	}
	_, err = c.ReadMessage()
	var se *StatusError
	if !errors.As(err, &se) || se.Code != CodePlayFailed {
		t.Fatalf("ReadMessage after error status = %v, want StatusError %s", err, CodePlayFailed)
	}
	c.Close()
	s.ln.Close()
	s.wg.Wait()
	if len(s.pongs) != 1 || s.pongs[0] != 777 {
		t.Fatalf("server got pongs %v, want [777]", s.pongs)
	}
	if len(s.acks) == 0 {
		t.Fatal("client sent no acknowledgement after a 20000-byte window")
	}
}

func TestClientRefused(t *testing.T) {
	s := newTestServer(t)
	tests := []struct {
		name string
		app  string
		op   func(*Client) error
		code string
	}{
		{"connect rejected", "private", nil, CodeConnectRejected},
		{"publish bad name", "live", func(c *Client) error { return c.Publish(testCtx(t)) }, CodePublishBadName},
		{"play not found", "live", func(c *Client) error { return c.Play(testCtx(t)) }, CodePlayStreamNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stream := "bad"
			if tt.code == CodePlayStreamNotFound {
				stream = "missing"
			}
			c, err := Dial(testCtx(t), s.url(tt.app, stream))
			if err == nil {
				defer c.Close()
				err = tt.op(c)
			}
			var se *StatusError
			if !errors.As(err, &se) || se.Code != tt.code {
				t.Fatalf("error = %v, want StatusError %s", err, tt.code)
			}
		})
	}
}

func TestClientContext(t *testing.T) {
	// A server that accepts but never answers the handshake.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			defer conn.Close()
		}
	}()
	url := "rtmp://" + ln.Addr().String() + "/live/x"

	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = Dial(ctx, url)
	if !errors.Is(err, os.ErrDeadlineExceeded) && !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Dial with deadline = %v", err)
	}
	if time.Since(start) > 2*time.Second {
		t.Fatal("Dial ignored the deadline")
	}

	ctx, cancel = context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	if _, err = Dial(ctx, url); !errors.Is(err, context.Canceled) {
		t.Fatalf("Dial with cancel = %v", err)
	}

	ctx, cancel = context.WithCancel(context.Background())
	cancel()
	if _, err = Dial(ctx, url); !errors.Is(err, context.Canceled) {
		t.Fatalf("Dial with canceled context = %v", err)
	}
}

func TestParseURL(t *testing.T) {
	tests := []struct {
		raw  string
		want URL
		bad  bool
	}{
		{raw: "rtmp://example.com/live/room1", want: URL{"example.com:1935", "live", "room1", "rtmp://example.com:1935/live"}},
		{raw: "rtmp://127.0.0.1:19350/live/room1?txSecret=a&txTime=b",
			want: URL{"127.0.0.1:19350", "live", "room1?txSecret=a&txTime=b", "rtmp://127.0.0.1:19350/live"}},
		{raw: "rtmp://[::1]/app/a/b", want: URL{"[::1]:1935", "app", "a/b", "rtmp://[::1]:1935/app"}},
		{raw: "rtmp://h/app", want: URL{"h:1935", "app", "", "rtmp://h:1935/app"}},
		{raw: "rtmp://h/app/s%20x", want: URL{"h:1935", "app", "s x", "rtmp://h:1935/app"}},
		{raw: "http://h/app/s", bad: true},
		{raw: "rtmp:///app/s", bad: true},
		{raw: "rtmp://h/", bad: true},
		{raw: "rtmp://h:bad/app", bad: true},
	}
	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			got, err := ParseURL(tt.raw)
			if tt.bad {
				if err == nil {
					t.Fatalf("ParseURL = %+v, want error", got)
				}
				return
			}
			if err != nil || *got != tt.want {
				t.Fatalf("ParseURL = %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}
