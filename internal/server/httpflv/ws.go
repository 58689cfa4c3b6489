package httpflv

import (
	"bufio"
	"context"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"roomcast/internal/hub"
	"roomcast/internal/protocol/flv"
)

// WebSocket-FLV speaks just enough of RFC 6455 to stream: the handshake,
// unmasked binary frames out (one per batch, its payload the shared tag
// bytes written with writev, never copied), and a reader that answers pings
// and close frames. A general WebSocket library copies every message into its
// own writer, which costs more than the rest of the fan-out.

// WebSocket opcodes.
const (
	opContinuation = 0x0
	opText         = 0x1
	opBinary       = 0x2
	opClose        = 0x8
	opPing         = 0x9
	opPong         = 0xa
)

// WebSocket close codes.
const (
	closeNormal          = 1000
	closeGoingAway       = 1001
	closeProtocolError   = 1002
	closePolicyViolation = 1008
	closeTooBig          = 1009
)

// maxClientFrame bounds a frame a viewer may send; viewers have nothing to
// say but pings and close frames.
const maxClientFrame = 4096

const wsGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

var errBadUpgrade = errors.New("not a valid WebSocket upgrade")

// acceptKey returns the Sec-WebSocket-Accept value for a client key.
func acceptKey(key string) string {
	h := sha1.Sum([]byte(key + wsGUID))
	return base64.StdEncoding.EncodeToString(h[:])
}

// checkUpgrade validates a WebSocket opening handshake and returns the
// client's key.
func checkUpgrade(r *http.Request) (string, error) {
	key := r.Header.Get("Sec-WebSocket-Key")
	switch {
	case r.Method != http.MethodGet:
		return "", fmt.Errorf("%w: method %s", errBadUpgrade, r.Method)
	case !headerHas(r.Header, "Connection", "upgrade") || !headerHas(r.Header, "Upgrade", "websocket"):
		return "", fmt.Errorf("%w: Connection: upgrade and Upgrade: websocket required", errBadUpgrade)
	case r.Header.Get("Sec-WebSocket-Version") != "13":
		return "", fmt.Errorf("%w: Sec-WebSocket-Version must be 13", errBadUpgrade)
	}
	if raw, err := base64.StdEncoding.DecodeString(key); err != nil || len(raw) != 16 {
		return "", fmt.Errorf("%w: bad Sec-WebSocket-Key", errBadUpgrade)
	}
	return key, nil
}

// headerHas reports whether a comma-separated header contains token,
// case-insensitively.
func headerHas(h http.Header, name, token string) bool {
	for _, v := range h.Values(name) {
		for _, t := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}

// appendFrameHeader appends the header of an unmasked server frame.
func appendFrameHeader(dst []byte, op byte, n int) []byte {
	dst = append(dst, 0x80|op)
	switch {
	case n < 126:
		return append(dst, byte(n))
	case n <= 0xffff:
		return binary.BigEndian.AppendUint16(append(dst, 126), uint16(n))
	default:
		return binary.BigEndian.AppendUint64(append(dst, 127), uint64(n))
	}
}

// frame is a client frame as read: opcode and unmasked payload.
type frame struct {
	fin     bool
	op      byte
	payload []byte
}

// errFrameTooBig is returned for a client frame over maxClientFrame.
var errFrameTooBig = errors.New("websocket frame too big")

// readFrame reads one client frame. Client frames must be masked
// (RFC 6455 5.1); control frames are at most 125 bytes and not fragmented.
func readFrame(r *bufio.Reader, buf []byte) (frame, error) {
	var hdr [2]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return frame{}, err
	}
	f := frame{fin: hdr[0]&0x80 != 0, op: hdr[0] & 0x0f}
	if hdr[0]&0x70 != 0 {
		return f, errors.New("websocket: reserved bits set")
	}
	if hdr[1]&0x80 == 0 {
		return f, errors.New("websocket: unmasked client frame")
	}
	n := uint64(hdr[1] & 0x7f)
	switch n {
	case 126:
		var ext [2]byte
		if _, err := io.ReadFull(r, ext[:]); err != nil {
			return f, err
		}
		n = uint64(binary.BigEndian.Uint16(ext[:]))
	case 127:
		var ext [8]byte
		if _, err := io.ReadFull(r, ext[:]); err != nil {
			return f, err
		}
		n = binary.BigEndian.Uint64(ext[:])
	}
	if f.op >= opClose && (n > 125 || !f.fin) {
		return f, errors.New("websocket: bad control frame")
	}
	if n > maxClientFrame || n > uint64(cap(buf)) {
		return f, errFrameTooBig
	}
	var mask [4]byte
	if _, err := io.ReadFull(r, mask[:]); err != nil {
		return f, err
	}
	f.payload = buf[:n]
	if _, err := io.ReadFull(r, f.payload); err != nil {
		return f, err
	}
	for i := range f.payload {
		f.payload[i] ^= mask[i&3]
	}
	return f, nil
}

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
	c.header = appendFrameHeader(c.header[:0], opBinary, n)
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
	if op == opClose {
		c.closed = true
	}
	if err := c.renewDeadline(); err != nil {
		return err
	}
	_, err := c.conn.Write(append(appendFrameHeader(nil, op, len(payload)), payload...))
	return err
}

// close sends a close frame with code and reason.
func (c *wsConn) close(code uint16, reason string) error {
	return c.control(opClose, append(binary.BigEndian.AppendUint16(nil, code), reason...))
}

// readLoop answers pings and close frames until the client goes, then
// calls done. Data frames from the viewer are ignored.
func (c *wsConn) readLoop(br *bufio.Reader, done func()) {
	defer done()
	buf := make([]byte, maxClientFrame)
	for {
		f, err := readFrame(br, buf)
		switch {
		case errors.Is(err, errFrameTooBig):
			_ = c.close(closeTooBig, "frame too big")
			return
		case err != nil:
			quiet := errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
				errors.Is(err, net.ErrClosed) || errors.Is(err, os.ErrDeadlineExceeded)
			if !quiet {
				_ = c.close(closeProtocolError, err.Error())
			}
			return
		}
		switch f.op {
		case opPing:
			_ = c.control(opPong, f.payload)
		case opClose:
			code := []byte(nil)
			if len(f.payload) >= 2 {
				code = f.payload[:2]
			}
			_ = c.control(opClose, code)
			return
		case opPong, opText, opBinary, opContinuation:
		default:
			_ = c.close(closeProtocolError, "unknown opcode")
			return
		}
	}
}

// serveWS streams FLV as binary WebSocket messages, one per batch.
func (s *Server) serveWS(ctx context.Context, w http.ResponseWriter, r *http.Request, sub *hub.Subscriber) error {
	key, err := checkUpgrade(r)
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
	head := "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Accept: " + acceptKey(key) + "\r\n\r\n"
	if _, err := io.WriteString(nc, head); err != nil {
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
		_ = c.close(closeNormal, "stream ended")
	case errors.Is(err, hub.ErrSlow):
		_ = c.close(closePolicyViolation, "viewer too slow")
	case errors.Is(s.base.Err(), context.Canceled):
		_ = c.close(closeGoingAway, "server shutting down")
	}
	// Give the client a moment to answer the close, then drop it.
	_ = nc.SetReadDeadline(time.Now().Add(time.Second))
	<-readDone
	return err
}
