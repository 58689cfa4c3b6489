package rtmp

import (
	"context"
	"errors"
	"io"
	"net"
	"net/url"
	"sync"
	"testing"
	"time"

	"roomcast/internal/protocol/amf"
	"roomcast/internal/protocol/rtmp"
)

// rawClient speaks RTMP message by message, for the exchanges the client
// of package rtmp does not make (AMF3 commands, _checkbw, small windows).
type rawClient struct {
	t    *testing.T
	nc   net.Conn
	cr   *rtmp.ChunkReader
	cw   *rtmp.ChunkWriter
	sent *countWriter // bytes written after the handshake
}

func rawDial(t *testing.T, base string) *rawClient {
	t.Helper()
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	nc, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	_ = nc.SetDeadline(time.Now().Add(5 * time.Second))
	if err := rtmp.ClientHandshake(nc); err != nil {
		t.Fatal(err)
	}
	cw := &countWriter{w: nc}
	return &rawClient{t: t, nc: nc, cr: rtmp.NewChunkReader(nc, rtmp.Limits{}), cw: rtmp.NewChunkWriter(cw, rtmp.DefaultChunkSize), sent: cw}
}

func (c *rawClient) send(m *rtmp.Message) {
	c.t.Helper()
	if err := c.cw.WriteMessage(m); err != nil {
		c.t.Fatal(err)
	}
}

// call sends a command as an AMF0 (type 20) or AMF3 (type 17) message.
func (c *rawClient) call(typ uint8, streamID uint32, name string, tx float64, obj any, args ...any) {
	c.t.Helper()
	m, err := (&rtmp.Command{Name: name, TransactionID: tx, Object: obj, Args: args}).Message(3, streamID)
	if err != nil {
		c.t.Fatal(err)
	}
	if typ == rtmp.TypeCommandAMF3 {
		m.Type, m.Data = typ, append([]byte{0}, m.Data...)
	}
	c.send(m)
}

// next reads the next message, failing the test on an error.
func (c *rawClient) next() *rtmp.Message {
	c.t.Helper()
	m, err := c.cr.ReadMessage()
	if err != nil {
		c.t.Fatalf("read: %v", err)
	}
	return m
}

// reply reads messages up to the next command, which must be name with
// transaction id tx.
func (c *rawClient) reply(name string, tx float64) *rtmp.Command {
	c.t.Helper()
	for {
		m := c.next()
		if m.Type != rtmp.TypeCommandAMF0 {
			continue
		}
		cmd, err := rtmp.ParseCommand(m)
		if err != nil {
			c.t.Fatal(err)
		}
		if cmd.Name != name || cmd.TransactionID != tx {
			c.t.Fatalf("got %s (tx %v) %v %v, want %s (tx %v)", cmd.Name, cmd.TransactionID, cmd.Object, cmd.Args, name, tx)
		}
		return cmd
	}
}

// status reads messages up to the next onStatus and returns its code.
func (c *rawClient) status() string {
	c.t.Helper()
	cmd := c.reply("onStatus", 0)
	if len(cmd.Args) == 0 {
		c.t.Fatalf("onStatus without an info object")
	}
	info, _ := cmd.Args[0].(amf.Object)
	return info.String("code")
}

// open connects (AMF0) with the command object obj and creates stream 1.
func (c *rawClient) open(obj amf.Object) {
	c.t.Helper()
	c.call(rtmp.TypeCommandAMF0, 0, "connect", 1, obj)
	c.reply("_result", 1)
	c.call(rtmp.TypeCommandAMF0, 0, "createStream", 2, nil)
	c.reply("_result", 2)
}

// publish publishes name on stream 1 and fails the test unless it starts.
func (c *rawClient) publish(name string) {
	c.t.Helper()
	c.call(rtmp.TypeCommandAMF0, 1, "publish", 0, nil, name, "live")
	if code := c.status(); code != codePublishStart {
		c.t.Fatalf("publish status %s", code)
	}
}

func connectObject(tcURL string) amf.Object {
	return amf.Object{{Key: "app", Value: "live"}, {Key: "tcUrl", Value: tcURL}, {Key: "objectEncoding", Value: float64(3)}}
}

// TestCommandsAMF3: a client that sends every command as an AMF3 command
// message (type 17) connects, calls the optional commands and publishes;
// each call gets its _result.
func TestCommandsAMF3(t *testing.T) {
	base, h := startServer(t, nil)
	c := rawDial(t, base)
	A3 := rtmp.TypeCommandAMF3
	c.call(A3, 0, "connect", 1, connectObject(base+"/live"))
	res := c.reply("_result", 1)
	if info, _ := res.Args[0].(amf.Object); info.String("code") != codeConnectSuccess || info.Number("objectEncoding") != 3 {
		t.Fatalf("connect result %v", res.Args)
	}
	c.call(A3, 0, "releaseStream", 2, nil, "a3")
	c.reply("_result", 2)
	c.call(A3, 0, "FCPublish", 3, nil, "a3")
	c.reply("_result", 3)
	c.call(A3, 0, "createStream", 4, nil)
	if res := c.reply("_result", 4); len(res.Args) != 1 || res.Args[0] != float64(1) {
		t.Fatalf("createStream result %v", res.Args)
	}
	c.call(A3, 0, "_checkbw", 5, nil)
	c.reply("_result", 5)
	c.call(A3, 0, "getStreamLength", 6, nil, "a3")
	if res := c.reply("_result", 6); len(res.Args) != 1 || res.Args[0] != float64(0) {
		t.Fatalf("getStreamLength result %v (a live stream has length 0)", res.Args)
	}
	c.call(A3, 0, "noSuchCommand", 7, nil)
	if res := c.reply("_error", 7); len(res.Args) != 1 {
		t.Fatalf("unknown command answer %v", res.Args)
	}
	c.call(A3, 1, "publish", 0, nil, "a3", "live")
	if code := c.status(); code != codePublishStart {
		t.Fatalf("publish status %s", code)
	}
	c.send(&rtmp.Message{Type: rtmp.TypeVideo, ChunkStreamID: 6, StreamID: 1, Data: avcSeq})
	waitFor(t, func() bool { s := h.Stream("a3"); return s != nil && s.Stats().Video != nil })
	c.call(A3, 1, "FCUnpublish", 8, nil, "a3")
	if code := c.status(); code != codeUnpublishSuccess {
		t.Fatalf("unpublish status %s", code)
	}
	c.reply("_result", 8)
	c.call(A3, 0, "deleteStream", 9, nil, float64(1))
	c.reply("_result", 9)
}

// TestAcknowledgements: the server acknowledges the bytes it received each
// time a window the client set with Window Acknowledgement Size is full,
// and answers pings.
func TestAcknowledgements(t *testing.T) {
	base, _ := startServer(t, nil)
	c := rawDial(t, base)
	const window = 5000
	c.send(rtmp.NewWindowAckSize(window))
	c.open(connectObject(base + "/live"))
	c.publish("acks")
	// Larger chunks than the default, as encoders send them.
	if err := c.cw.SetChunkSize(4096); err != nil {
		t.Fatal(err)
	}
	frame := append([]byte{0x27, 1, 0, 0, 0}, make([]byte, 3000)...)
	sent := func() uint64 { return c.sent.n }
	for i := range 10 {
		c.send(&rtmp.Message{Type: rtmp.TypeVideo, ChunkStreamID: 6, StreamID: 1, Timestamp: uint32(40 * i), Data: frame})
	}
	c.send(rtmp.NewPingRequest(1234))
	var acks []uint32
	for {
		m := c.next()
		if m.Type == rtmp.TypeAck {
			v, err := rtmp.ParseUint32(m.Data)
			if err != nil {
				t.Fatal(err)
			}
			acks = append(acks, v)
		}
		if m.Type == rtmp.TypeUserControl {
			ev, vals, err := rtmp.ParseUserControl(m.Data)
			if err != nil {
				t.Fatal(err)
			}
			if ev == rtmp.EventPingResponse {
				if vals[0] != 1234 {
					t.Fatalf("ping response %v", vals)
				}
				break
			}
		}
	}
	// An acknowledgement goes out at the first message boundary after a
	// full window: never early, at most one message late, and none is
	// missed. The counts may or may not include the handshake (3073 bytes).
	const slack = 3073 + 64
	late := uint64(window + len(frame) + slack)
	total := sent()
	prev := uint32(0)
	for _, a := range acks {
		if a-prev < window-slack || uint64(a-prev) > late || uint64(a) > total+slack {
			t.Fatalf("acknowledgements %v for %d bytes sent with a %d-byte window", acks, total, window)
		}
		prev = a
	}
	if len(acks) == 0 || total-uint64(prev) > late {
		t.Fatalf("acknowledgements %v for %d bytes sent with a %d-byte window: a window went unacknowledged", acks, total, window)
	}
}

// countWriter counts the bytes written through it (one goroutine).
type countWriter struct {
	w io.Writer
	n uint64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += uint64(n)
	return n, err
}

// recordingAuthorizer keeps the requests it is asked about.
type recordingAuthorizer struct {
	mu   sync.Mutex
	reqs []Request
}

func (a *recordingAuthorizer) AuthorizePublish(_ context.Context, r Request) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.reqs = append(a.reqs, r)
	return nil
}

func (a *recordingAuthorizer) AuthorizePlay(ctx context.Context, r Request) error {
	return a.AuthorizePublish(ctx, r)
}

// TestQueryPlacement: the query reaches the authorizer wherever the client
// put it: on the stream name (ffmpeg, OBS), on the tcUrl and app (librtmp
// style), or on both (the stream name's values win).
func TestQueryPlacement(t *testing.T) {
	auth := &recordingAuthorizer{}
	base, _ := startServer(t, func(c *Config) { c.Authorizer = auth })
	tests := []struct {
		name        string
		app, tcURL  string
		stream      string
		wantStream  string
		wantSecret  string
		wantTime    string
		wantTcQuery bool
	}{
		{"on the stream name", "live", base + "/live", "q1?txSecret=s1&txTime=t1", "q1", "s1", "t1", false},
		{"on the tcUrl and app", "live?txSecret=s2&txTime=t2", base + "/live?txSecret=s2&txTime=t2", "q2", "q2", "s2", "t2", true},
		{"on the tcUrl only", "live", base + "/live?txSecret=s3&txTime=t3", "q3", "q3", "s3", "t3", true},
		{"both: the stream name wins", "live?txSecret=old", base + "/live?txSecret=old&txTime=t4", "q4?txSecret=s4", "q4", "s4", "t4", true},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := rawDial(t, base)
			c.open(amf.Object{{Key: "app", Value: tt.app}, {Key: "tcUrl", Value: tt.tcURL}})
			c.publish(tt.stream)
			auth.mu.Lock()
			if len(auth.reqs) != i+1 {
				auth.mu.Unlock()
				t.Fatalf("%d authorizer calls", len(auth.reqs))
			}
			r := auth.reqs[i]
			auth.mu.Unlock()
			if r.App != "live" || r.Stream != tt.wantStream || r.Query.Get("txSecret") != tt.wantSecret || r.Query.Get("txTime") != tt.wantTime || r.TcURL != tt.tcURL {
				t.Fatalf("request %+v", r)
			}
		})
	}
}

// TestIdleTimeouts: a client that stops talking is disconnected: during
// the handshake, before publishing or playing, and while publishing.
func TestIdleTimeouts(t *testing.T) {
	const timeout = 300 * time.Millisecond
	base, _ := startServer(t, func(c *Config) { c.HandshakeTimeout, c.ReadTimeout = timeout, timeout })
	u, _ := url.Parse(base)
	closedWithin := func(t *testing.T, nc net.Conn, limit time.Duration) {
		t.Helper()
		start := time.Now()
		_ = nc.SetReadDeadline(time.Now().Add(5 * time.Second))
		_, err := io.Copy(io.Discard, nc)
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			t.Fatalf("not disconnected within 5s")
		}
		if d := time.Since(start); d > limit {
			t.Fatalf("disconnected after %v, want within %v", d, limit)
		}
	}
	t.Run("stalled handshake", func(t *testing.T) {
		nc, err := net.Dial("tcp", u.Host)
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		nc.Write([]byte{3, 0, 0, 0}) // C0 and the start of C1
		closedWithin(t, nc, 3*timeout)
	})
	t.Run("silent after the handshake", func(t *testing.T) {
		c := rawDial(t, base)
		_ = c.nc.SetDeadline(time.Time{})
		closedWithin(t, c.nc, 3*timeout)
	})
	t.Run("connected, never publishes", func(t *testing.T) {
		c := rawDial(t, base)
		c.call(rtmp.TypeCommandAMF0, 0, "connect", 1, connectObject(base+"/live"))
		c.reply("_result", 1)
		_ = c.nc.SetDeadline(time.Time{})
		closedWithin(t, c.nc, 3*timeout)
	})
	t.Run("silent publisher", func(t *testing.T) {
		c := rawDial(t, base)
		c.open(connectObject(base + "/live"))
		c.publish("silent")
		// Media keeps it open past the time-out.
		for i := range 4 {
			time.Sleep(timeout / 2)
			c.send(&rtmp.Message{Type: rtmp.TypeVideo, ChunkStreamID: 6, StreamID: 1, Timestamp: uint32(i * 40), Data: inter})
		}
		_ = c.nc.SetDeadline(time.Time{})
		closedWithin(t, c.nc, 3*timeout)
	})
	t.Run("player that stopped playing", func(t *testing.T) {
		pub := dial(t, base+"/live/idleplay")
		if err := pub.Publish(ctx5(t)); err != nil {
			t.Fatal(err)
		}
		// The publisher keeps talking, so that the stream stays live.
		stop := make(chan struct{})
		done := make(chan struct{})
		defer func() { close(stop); <-done }()
		go func() {
			defer close(done)
			for i := 0; ; i++ {
				if err := pub.WriteMedia(rtmp.TypeVideo, uint32(i*40), inter); err != nil {
					return
				}
				select {
				case <-stop:
					return
				case <-time.After(timeout / 4):
				}
			}
		}()
		c := rawDial(t, base)
		c.open(connectObject(base + "/live"))
		c.call(rtmp.TypeCommandAMF0, 1, "play", 0, nil, "idleplay")
		if code := c.status(); code != codePlayReset {
			t.Fatalf("play status %s", code)
		}
		// A silent player is fine while it plays: it is not cut off.
		_ = c.nc.SetDeadline(time.Now().Add(5 * time.Second))
		for end := time.Now().Add(3 * timeout); time.Now().Before(end); {
			c.next()
		}
		c.call(rtmp.TypeCommandAMF0, 1, "closeStream", 0, nil)
		_ = c.nc.SetDeadline(time.Time{})
		closedWithin(t, c.nc, 4*timeout)
	})
}

// TestTimestampWrap: a publisher whose 32-bit timestamps wrap around (after
// 49.7 days, or from an encoder that starts near the top) gives the hub
// monotonic 64-bit timestamps, and RTMP players timestamps that continue
// modulo 2^32, with extended timestamps on the wire.
func TestTimestampWrap(t *testing.T) {
	base, h := startServer(t, nil)
	pub := dial(t, base+"/live/wrap")
	if err := pub.Publish(ctx5(t)); err != nil {
		t.Fatal(err)
	}
	start := uint32(1<<32 - 120)
	if err := pub.WriteMedia(rtmp.TypeVideo, start, avcSeq); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return h.Stream("wrap") != nil })
	sub, err := h.Subscribe("wrap", "")
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	play := dial(t, base+"/live/wrap")
	if err := play.Play(ctx5(t)); err != nil {
		t.Fatal(err)
	}
	const frames = 8
	for i := range frames {
		body := inter
		if i == 0 {
			body = key
		}
		if err := pub.WriteMedia(rtmp.TypeVideo, start+uint32(40*i), body); err != nil { // wraps after the third
			t.Fatal(err)
		}
	}

	var dts []int64
	for len(dts) < frames {
		fs, err := sub.Next(ctx5(t), nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range fs {
			if !f.Packet.SeqHeader {
				dts = append(dts, f.Packet.DTS)
			}
		}
	}
	for i := 1; i < len(dts); i++ {
		if dts[i]-dts[i-1] != 40 {
			t.Fatalf("hub timestamps %v: not 40 ms apart across the wrap", dts)
		}
	}

	_ = play.SetDeadline(time.Now().Add(5 * time.Second))
	var got []uint32
	for len(got) < frames {
		m, err := play.ReadMessage()
		if err != nil {
			t.Fatal(err)
		}
		if m.Type == rtmp.TypeVideo && len(m.Data) > 1 && m.Data[1] == 1 {
			got = append(got, m.Timestamp)
		}
	}
	for i := 1; i < len(got); i++ {
		if got[i]-got[i-1] != 40 { // modulo 2^32
			t.Fatalf("player timestamps %v: not 40 ms apart modulo 2^32", got)
		}
	}
	if got[0] < 1<<31 || got[len(got)-1] > 1<<31 {
		t.Fatalf("player timestamps %v do not cross the wrap", got)
	}
}

// TestPlayerReadsBetweenWaits: a player waits for its client without a
// read buffer (idle); what the chunk streams carry across such waits
// survives: the client's chunk size, and a message of which one chunk
// came before the wait and the other after it.
func TestPlayerReadsBetweenWaits(t *testing.T) {
	base, _ := startServer(t, nil)
	pub := dial(t, base+"/live/waits")
	if err := pub.Publish(ctx5(t)); err != nil {
		t.Fatal(err)
	}
	c := rawDial(t, base)
	c.open(connectObject(base + "/live"))
	c.call(rtmp.TypeCommandAMF0, 1, "play", 0, nil, "waits")
	if code := c.status(); code != codePlayReset {
		t.Fatalf("play status %s", code)
	}
	if err := c.cw.SetChunkSize(4); err != nil {
		t.Fatal(err)
	}
	// Ping requests of 6 bytes: two chunks each at a chunk size of 4.
	ping := func(v, csid uint32) []byte {
		m := rtmp.NewPingRequest(v)
		m.ChunkStreamID = csid
		return rtmp.AppendChunks(nil, m, 4)
	}
	waitPong := func(want uint32) {
		t.Helper()
		for {
			m := c.next()
			if m.Type != rtmp.TypeUserControl {
				continue
			}
			if ev, vals, err := rtmp.ParseUserControl(m.Data); err == nil && ev == rtmp.EventPingResponse {
				if vals[0] != want {
					t.Fatalf("ping response %d, want %d", vals[0], want)
				}
				return
			}
		}
	}
	write := func(b []byte) {
		t.Helper()
		if _, err := c.nc.Write(b); err != nil {
			t.Fatal(err)
		}
	}
	a, b := ping(1, 2), ping(2, 8)
	const firstChunk = 1 + 11 + 4
	for round := range 3 {
		write(a[:firstChunk]) // half of a
		write(b)              // all of b
		waitPong(2)           // the server read b and waits, a half read
		write(a[firstChunk:])
		waitPong(1)
		t.Logf("round %d: both answered", round)
	}
}
