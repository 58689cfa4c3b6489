package rtmp

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"strings"
	"sync"
	"syscall"
	"time"

	"roomcast/internal/hub"
	"roomcast/internal/media"
	"roomcast/internal/protocol/rtmp"
	"roomcast/internal/sockio"
)

// Window sizes announced to clients.
const (
	windowAckSize = 2_500_000
	peerBandwidth = 2_500_000
)

// Chunk streams the server sends on.
const (
	csidCommand = 3
	csidAudio   = 4
	csidData    = 5
	csidVideo   = 6
)

// errRejected ends a connection after a refusal was sent to the client.
var errRejected = errors.New("request refused")

// conn is one RTMP connection. Its reader goroutine owns all state except
// what the player goroutine uses; writes to the socket go through wmu.
type conn struct {
	srv *Server
	nc  net.Conn
	log *slog.Logger

	rd  *deadlineReader
	cr  *rtmp.ChunkReader
	raw syscall.RawConn // the socket, nil if not a plain one (TLS)

	wmu       sync.Mutex
	cw        *rtmp.ChunkWriter
	wdeadline time.Time // write deadline in effect; zero: none (wmu)
	kept      [][]byte  // play data the socket did not take yet (wmu)

	connected bool
	tcURL     string
	query     url.Values // from the tcUrl and app
	streams   uint32     // message streams created
	ackWindow uint64
	lastAck   uint64

	pub        *hub.Publisher
	pubStream  string
	unwrappers [2]media.Unwrapper // audio, video
	player     *player
}

func newConn(s *Server, nc net.Conn) *conn {
	c := &conn{srv: s, nc: nc, log: s.log.With("remote", nc.RemoteAddr().String())}
	c.rd = &deadlineReader{conn: nc}
	c.cw = rtmp.NewChunkWriter(nc, 128)
	if sc, ok := nc.(syscall.Conn); ok {
		c.raw, _ = sc.SyscallConn()
	}
	return c
}

// serve runs the connection until it ends and logs why.
func (c *conn) serve(ctx context.Context) {
	defer c.nc.Close()
	start := time.Now()
	c.log.Debug("connection opened")
	err := c.run(ctx)
	c.stop(err)
	level := slog.LevelInfo
	if err != nil && !isClosed(err) && !errors.Is(err, errRejected) {
		level = slog.LevelWarn
	}
	c.log.Log(ctx, level, "connection closed", "reason", reasonText(err), "duration", time.Since(start).Round(time.Millisecond), "bytes_in", c.cr.BytesRead())
}

func isClosed(err error) bool {
	return err == nil || errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed)
}

func reasonText(err error) string {
	switch {
	case err == nil:
		return "closed"
	case errors.Is(err, io.EOF):
		return "client closed the connection"
	case errors.Is(err, net.ErrClosed):
		return "connection closed by the server"
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return "time-out: " + err.Error()
	}
	return err.Error()
}

func (c *conn) run(ctx context.Context) error {
	cfg := c.srv.cfg
	c.rd.until(time.Now().Add(cfg.HandshakeTimeout))
	br := c.srv.readers.Get().(*bufio.Reader)
	br.Reset(c.rd)
	c.cr = rtmp.NewChunkReader(br, rtmp.Limits{MaxMessageSize: cfg.MaxMessageSize})
	_ = c.nc.SetWriteDeadline(time.Now().Add(cfg.HandshakeTimeout))
	if err := rtmp.ServerHandshake(struct {
		io.Reader
		io.Writer
	}{br, c.nc}); err != nil {
		return fmt.Errorf("handshake: %w", err)
	}
	for {
		if c.player != nil {
			c.idle()
		}
		m, err := c.cr.ReadMessage()
		if err != nil {
			return err
		}
		if err := c.handle(ctx, m); err != nil {
			return err
		}
		if c.ackWindow > 0 {
			if n := c.cr.BytesRead(); n-c.lastAck >= c.ackWindow {
				c.lastAck = n
				if err := c.write(rtmp.NewAck(uint32(n))); err != nil {
					return err
				}
			}
		}
	}
}

// idle waits, on a plain socket with nothing buffered, until the client
// sends something (an acknowledgement, a command) or the connection ends;
// the read that follows sees which. A player spends nearly all its life
// here, so it waits without its read buffer (back in the server's pool)
// and in a shallow frame, which lets the collector shrink the goroutine's
// stack: an RTMP viewer's memory was mostly that buffer and stack.
func (c *conn) idle() {
	if c.raw == nil || c.cr.Buffered() > 0 {
		return
	}
	br := c.cr.Reader()
	c.cr.SetReader(nil)
	br.Reset(nil) // keep no reference to this connection in the pool
	c.srv.readers.Put(br)
	// Data, the end of the stream or an error: the read that follows
	// meets it too. An error of the wait itself (closed) as well.
	_, _ = sockio.WaitReadable(c.raw)
	br = c.srv.readers.Get().(*bufio.Reader)
	br.Reset(c.rd)
	c.cr.SetReader(br)
}

// handle dispatches one message from the client.
func (c *conn) handle(ctx context.Context, m *rtmp.Message) error {
	switch m.Type {
	case rtmp.TypeAudio, rtmp.TypeVideo:
		return c.onMedia(m)
	case rtmp.TypeDataAMF0, rtmp.TypeDataAMF3:
		return c.onData(m)
	case rtmp.TypeCommandAMF0, rtmp.TypeCommandAMF3:
		cmd, err := rtmp.ParseCommand(m)
		if err != nil {
			return fmt.Errorf("malformed command: %w", err)
		}
		return c.onCommand(ctx, cmd, m.StreamID)
	case rtmp.TypeAggregate:
		parts, err := rtmp.SplitAggregate(m)
		if err != nil {
			return fmt.Errorf("malformed aggregate message: %w", err)
		}
		for _, p := range parts {
			if err := c.handle(ctx, p); err != nil {
				return err
			}
		}
	case rtmp.TypeWindowAckSize:
		size, err := rtmp.ParseUint32(m.Data)
		if err != nil {
			return fmt.Errorf("malformed window acknowledgement size: %w", err)
		}
		c.ackWindow = uint64(size)
	case rtmp.TypeUserControl:
		event, values, err := rtmp.ParseUserControl(m.Data)
		if err != nil {
			return fmt.Errorf("malformed user control message: %w", err)
		}
		if event == rtmp.EventPingRequest && len(values) > 0 {
			return c.write(rtmp.NewPingResponse(values[0]))
		}
	}
	// Set Chunk Size and Abort are applied by the chunk reader;
	// acknowledgements, peer bandwidth and shared objects need nothing.
	return nil
}

// write sends a control or command message.
func (c *conn) write(m *rtmp.Message) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.wdeadline = time.Now().Add(c.srv.cfg.WriteTimeout)
	_ = c.nc.SetWriteDeadline(c.wdeadline)
	if len(c.kept) > 0 {
		// The rest of a play message goes first: messages stay whole.
		bufs := net.Buffers(c.kept)
		_, err := bufs.WriteTo(c.nc)
		c.kept = nil
		if err != nil {
			return fmt.Errorf("write: %w", err)
		}
	}
	if err := c.cw.WriteMessage(m); err != nil {
		return fmt.Errorf("write: %w", err)
	}
	return nil
}

// renewDeadlineLocked extends the write deadline at most every quarter of
// the time-out. wmu held.
func (c *conn) renewDeadlineLocked() error {
	timeout := c.srv.cfg.WriteTimeout
	if now := time.Now(); c.wdeadline.Sub(now) < timeout*3/4 {
		c.wdeadline = now.Add(timeout)
		return c.nc.SetWriteDeadline(c.wdeadline)
	}
	return nil
}

// stop releases the publisher and player when the connection ends.
func (c *conn) stop(reason error) {
	if c.pub != nil {
		c.pub.Close(reason)
		c.pub = nil
	}
	if c.player != nil {
		c.player.stop()
		c.player = nil
	}
}

// splitQuery splits "name?query" and parses the query.
func splitQuery(s string) (string, url.Values) {
	name, raw, _ := strings.Cut(s, "?")
	q, _ := url.ParseQuery(raw)
	return name, q
}

// merge adds src's values to dst, replacing keys present in both.
func merge(dst, src url.Values) url.Values {
	out := make(url.Values, len(dst)+len(src))
	for k, v := range dst {
		out[k] = v
	}
	for k, v := range src {
		out[k] = v
	}
	return out
}

// deadlineReader renews a rolling read deadline, or holds a fixed one,
// without a system call per read.
type deadlineReader struct {
	conn     net.Conn
	rolling  time.Duration // 0: fixed deadline (or none)
	deadline time.Time
}

// until sets a fixed deadline (zero: none).
func (d *deadlineReader) until(t time.Time) {
	d.rolling = 0
	d.deadline = t
	_ = d.conn.SetReadDeadline(t)
}

// every sets a rolling deadline of timeout after the last read.
func (d *deadlineReader) every(timeout time.Duration) {
	d.rolling = timeout
	d.deadline = time.Time{}
}

// Read implements io.Reader.
func (d *deadlineReader) Read(p []byte) (int, error) {
	if d.rolling > 0 {
		now := time.Now()
		if d.deadline.Sub(now) < d.rolling*3/4 {
			d.deadline = now.Add(d.rolling)
			if err := d.conn.SetReadDeadline(d.deadline); err != nil {
				return 0, err
			}
		}
	}
	return d.conn.Read(p)
}
