package httpflv

import (
	"bufio"
	"bytes"
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
	"roomcast/internal/sockio"
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
	sock    *sockio.Conn // nil: not a plain socket (TLS)
	timeout time.Duration

	mu       sync.Mutex
	deadline time.Time
	header   []byte
	store    [][]byte    // header and payload slices of the frame being written
	bufs     net.Buffers // store, consumed by the write
	kept     [][]byte    // the rest of a frame the socket did not take
	closed   bool
}

// WriteBatch implements hub.BatchWriter: the rest of a frame that
// TryWriteBatch kept, then one binary frame for b (if not empty), waiting
// for the socket.
func (c *wsConn) WriteBatch(b [][]byte) (int, error) {
	n := sockio.Len(b)
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.renewDeadline(); err != nil {
		return 0, err
	}
	if err := c.flushKept(); err != nil {
		return 0, err
	}
	if len(b) == 0 {
		return 0, nil
	}
	c.header = websocket.AppendFrameHeader(c.header[:0], websocket.OpBinary, n)
	var written int
	var err error
	if c.sock != nil {
		written, err = c.sock.Write(c.header, b)
	} else {
		c.store = append(append(c.store[:0], c.header), b...)
		c.bufs = c.store
		var w int64
		w, err = c.bufs.WriteTo(c.conn)
		written = int(w)
		clear(c.store)
	}
	return max(written-len(c.header), 0), err
}

// TryWriteBatch implements hub.DirectWriter: one binary frame for b,
// written without waiting; what the socket does not take is kept for the
// next write. A connection busy with a control frame takes nothing.
func (c *wsConn) TryWriteBatch(b [][]byte) (int, bool, error) {
	if !c.mu.TryLock() {
		return 0, false, nil
	}
	defer c.mu.Unlock()
	if c.closed {
		return 0, true, net.ErrClosed
	}
	if len(c.kept) > 0 {
		return 0, false, nil
	}
	if !c.deadline.IsZero() {
		c.deadline = time.Time{}
		if err := c.conn.SetWriteDeadline(c.deadline); err != nil {
			return 0, true, err
		}
	}
	n := sockio.Len(b)
	c.header = websocket.AppendFrameHeader(c.header[:0], websocket.OpBinary, n)
	written, err := c.sock.TryWrite(c.header, b)
	if err == nil && written < len(c.header)+n {
		// The rest must not share the header buffer the next frame reuses.
		c.kept = sockio.Rest(c.kept[:0], bytes.Clone(c.header), b, written)
	}
	return max(written-len(c.header), 0), true, err
}

// flushKept writes what TryWriteBatch kept, so that a control frame never
// lands inside a data frame. mu held.
func (c *wsConn) flushKept() error {
	if len(c.kept) == 0 {
		return nil
	}
	_, err := c.sock.Write(nil, c.kept)
	clear(c.kept)
	c.kept = c.kept[:0]
	return err
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
	if err := c.flushKept(); err != nil {
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

// serveWS streams FLV as binary WebSocket messages, one per batch. On a
// plain socket the viewer is handed to the stream's delivery loop and a
// reader goroutine of its own, with a small buffer (handedOff: the handler
// returns, and done is called when the viewer goes); on TLS it is pumped
// from this goroutine.
func (s *Server) serveWS(ctx context.Context, w http.ResponseWriter, r *http.Request, sub *hub.Subscriber, log *viewerLog, done func()) (handedOff bool, err error) {
	key, err := websocket.CheckUpgrade(r)
	if err != nil {
		w.Header().Set("Sec-WebSocket-Version", "13")
		http.Error(w, err.Error(), http.StatusBadRequest)
		return false, err
	}
	nc, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		http.Error(w, "WebSocket needs HTTP/1.1", http.StatusHTTPVersionNotSupported)
		return false, err
	}
	c := &wsConn{conn: nc, timeout: s.writeTimeout, sock: sockio.New(nc)}
	_ = nc.SetWriteDeadline(time.Now().Add(s.writeTimeout))
	if _, err := io.WriteString(nc, websocket.UpgradeResponse(key)); err != nil {
		nc.Close()
		return false, err
	}
	if c.sock != nil {
		_ = nc.SetWriteDeadline(time.Time{})
		s.deliverWS(c, brw.Reader, sub, log, done)
		return true, nil
	}
	defer nc.Close()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	readDone := make(chan struct{})
	go c.readLoop(brw.Reader, func() { cancel(); close(readDone) })
	stop := context.AfterFunc(ctx, func() { _ = nc.SetReadDeadline(time.Now()) })
	defer stop()

	err = sub.Pump(ctx, c, hub.FormatFLV, flv.EncodeTag, header)
	s.closeWS(c, err)
	// Give the client a moment to answer the close, then drop it.
	_ = nc.SetReadDeadline(time.Now().Add(time.Second))
	<-readDone
	return false, err
}

// closeWS sends the close frame that tells the viewer why it ends.
func (s *Server) closeWS(c *wsConn, err error) {
	switch {
	case errors.Is(err, hub.ErrEnded):
		_ = c.close(websocket.CloseNormal, "stream ended")
	case errors.Is(err, hub.ErrSlow):
		_ = c.close(websocket.ClosePolicyViolation, "viewer too slow")
	case errors.Is(s.base.Err(), context.Canceled):
		_ = c.close(websocket.CloseGoingAway, "server shutting down")
	}
}

// wsReadBuffer is the read buffer of a delivered WebSocket-FLV viewer: it
// sends nothing but pings and close frames.
const wsReadBuffer = 512

// deliverWS runs a plain-socket WebSocket-FLV viewer without the HTTP
// server's goroutine and buffers: its stream's delivery loop writes the
// media, a reader goroutine with a small buffer answers control frames.
func (s *Server) deliverWS(c *wsConn, early *bufio.Reader, sub *hub.Subscriber, log *viewerLog, done func()) {
	start := time.Now()
	nc := c.conn
	var src io.Reader = nc
	if n := early.Buffered(); n > 0 {
		b, _ := early.Peek(n)
		src = io.MultiReader(bytes.NewReader(bytes.Clone(b)), nc)
	}
	readDone := make(chan struct{})
	// The client leaving (or its close frame) ends the delivery.
	go c.readLoop(bufio.NewReaderSize(src, wsReadBuffer), func() { sub.Close(); close(readDone) })
	stop := context.AfterFunc(s.base, sub.Close)
	sub.Deliver(hub.Delivery{
		Writer: c,
		Format: hub.FormatFLV,
		Encode: flv.EncodeTag,
		First:  header,
		Done: func(err error) {
			stop()
			s.closeWS(c, err)
			// Give the client a moment to answer the close, then drop it.
			_ = nc.SetReadDeadline(time.Now().Add(time.Second))
			<-readDone
			nc.Close()
			sub.Close()
			log.disconnected(err, start)
			done()
		},
	})
}
