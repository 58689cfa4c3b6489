package httpflv

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"roomcast/internal/hub"
	"roomcast/internal/protocol/flv"
	"roomcast/internal/protocol/websocket"
)

// WebSocket-FLV speaks just enough of RFC 6455 to stream
// (internal/protocol/websocket): the handshake, unmasked binary frames out
// (one per batch, its payload the shared tag bytes written with writev,
// never copied), and a reader that answers pings and close frames. A
// general WebSocket library copies every message into its own writer, which
// costs more than the rest of the fan-out.

// maxClientFrame bounds a message a viewer may send; viewers have nothing
// to say but pings and close frames.
const maxClientFrame = 4096

// wsConn is one WebSocket-FLV viewer: the pump writes binary frames, the
// reader answers control frames; mu keeps frames whole.
type wsConn struct {
	conn    net.Conn
	timeout time.Duration

	mu       sync.Mutex
	deadline time.Time
	header   []byte
	store    [][]byte    // header and payload slices of the frame being written
	bufs     net.Buffers // store, consumed by the write
	closed   bool
}

// WriteBatch implements hub.BatchWriter: one binary frame per batch.
func (c *wsConn) WriteBatch(b [][]byte) (int, error) {
	n := 0
	for _, p := range b {
		n += len(p)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.renewDeadline(); err != nil {
		return 0, err
	}
	c.header = websocket.AppendFrameHeader(c.header[:0], websocket.OpBinary, n)
	c.store = append(append(c.store[:0], c.header), b...)
	c.bufs = c.store
	written, err := c.bufs.WriteTo(c.conn)
	clear(c.store)
	return max(int(written)-len(c.header), 0), err
}

// renewDeadline extends the write deadline at most every quarter of the
// time-out. mu held.
func (c *wsConn) renewDeadline() error {
	now := time.Now()
	if c.deadline.Sub(now) < c.timeout*3/4 {
		c.deadline = now.Add(c.timeout)
		return c.conn.SetWriteDeadline(c.deadline)
	}
	return nil
}

// control writes a control frame (close, pong).
func (c *wsConn) control(op byte, payload []byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return net.ErrClosed
	}
	if op == websocket.OpClose {
		c.closed = true
	}
	if err := c.renewDeadline(); err != nil {
		return err
	}
	_, err := c.conn.Write(websocket.Frame(op, payload))
	return err
}

// close sends a close frame with code and reason.
func (c *wsConn) close(code uint16, reason string) error {
	return c.control(websocket.OpClose, websocket.ClosePayload(code, reason))
}

// readLoop answers pings and close frames until the client goes, then
// calls done. Data messages from the viewer are ignored.
func (c *wsConn) readLoop(br *bufio.Reader, done func()) {
	defer done()
	r := websocket.NewReader(br, maxClientFrame)
	for {
		m, err := r.Next()
		switch {
		case errors.Is(err, websocket.ErrTooBig):
			_ = c.close(websocket.CloseTooBig, "frame too big")
			return
		case errors.Is(err, websocket.ErrProtocol):
			_ = c.close(websocket.CloseProtocolError, strings.TrimPrefix(err.Error(), "websocket: "))
			return
		case err != nil:
			return // gone, or the read deadline of the close
		}
		switch m.Op {
		case websocket.OpPing:
			_ = c.control(websocket.OpPong, m.Payload)
		case websocket.OpClose:
			code := []byte(nil)
			if len(m.Payload) >= 2 {
				code = m.Payload[:2]
			}
			_ = c.control(websocket.OpClose, code)
			return
		}
	}
}

// serveWS streams FLV as binary WebSocket messages, one per batch.
func (s *Server) serveWS(ctx context.Context, w http.ResponseWriter, r *http.Request, sub *hub.Subscriber) error {
	key, err := websocket.CheckUpgrade(r)
	if err != nil {
		w.Header().Set("Sec-WebSocket-Version", "13")
		http.Error(w, err.Error(), http.StatusBadRequest)
		return err
	}
	nc, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		http.Error(w, "WebSocket needs HTTP/1.1", http.StatusHTTPVersionNotSupported)
		return err
	}
	defer nc.Close()
	c := &wsConn{conn: nc, timeout: s.writeTimeout}
	_ = nc.SetWriteDeadline(time.Now().Add(s.writeTimeout))
	if _, err := io.WriteString(nc, websocket.UpgradeResponse(key)); err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	readDone := make(chan struct{})
	go c.readLoop(brw.Reader, func() { cancel(); close(readDone) })
	stop := context.AfterFunc(ctx, func() { _ = nc.SetReadDeadline(time.Now()) })
	defer stop()

	err = sub.Pump(ctx, c, hub.FormatFLV, flv.EncodeTag, header)
	switch {
	case errors.Is(err, hub.ErrEnded):
		_ = c.close(websocket.CloseNormal, "stream ended")
	case errors.Is(err, hub.ErrSlow):
		_ = c.close(websocket.ClosePolicyViolation, "viewer too slow")
	case errors.Is(s.base.Err(), context.Canceled):
		_ = c.close(websocket.CloseGoingAway, "server shutting down")
	}
	// Give the client a moment to answer the close, then drop it.
	_ = nc.SetReadDeadline(time.Now().Add(time.Second))
	<-readDone
	return err
}
