package httpflv

import (
	"context"
	"net"
	"time"

	"roomcast/internal/hub"
	"roomcast/internal/protocol/flv"
	"roomcast/internal/sockio"
)

// A plain-socket HTTP-FLV viewer is written by its stream's delivery loop
// (hub.Subscriber.Deliver): after the response head the handler returns,
// so neither a goroutine nor net/http's buffers are kept per viewer. A
// client that goes away shows up as a failed write.

// directConn is a hijacked HTTP-FLV connection as a hub.DirectWriter. The
// hub calls it from one goroutine at a time (the loop, or the viewer's own
// while its socket is full), so it needs no lock.
type directConn struct {
	conn     net.Conn
	sock     *sockio.Conn
	timeout  time.Duration
	deadline time.Time // zero: no write deadline set
	head     []byte    // response head, sent with the first batch
	kept     [][]byte  // what the socket did not take, sent first
}

// TryWriteBatch implements hub.DirectWriter.
func (c *directConn) TryWriteBatch(b [][]byte) (int, bool, error) {
	if len(c.kept) > 0 {
		return 0, false, nil
	}
	if !c.deadline.IsZero() {
		// A non-blocking write needs none, and one that passed would fail it.
		c.deadline = time.Time{}
		if err := c.conn.SetWriteDeadline(c.deadline); err != nil {
			return 0, true, err
		}
	}
	head := c.head
	c.head = nil
	n, err := c.sock.TryWrite(head, b)
	if err == nil && n < len(head)+sockio.Len(b) {
		c.kept = sockio.Rest(c.kept[:0], head, b, n)
	}
	return max(n-len(head), 0), true, err
}

// WriteBatch implements hub.BatchWriter: what was kept, then b, waiting
// for the socket up to the write time-out.
func (c *directConn) WriteBatch(b [][]byte) (int, error) {
	if now := time.Now(); c.deadline.Sub(now) < c.timeout*3/4 {
		c.deadline = now.Add(c.timeout)
		if err := c.conn.SetWriteDeadline(c.deadline); err != nil {
			return 0, err
		}
	}
	n := 0
	if len(c.kept) > 0 {
		m, err := c.sock.Write(nil, c.kept)
		clear(c.kept)
		c.kept = c.kept[:0]
		if n += m; err != nil {
			return n, err
		}
	}
	head := c.head
	c.head = nil
	m, err := c.sock.Write(head, b)
	return n + max(m-len(head), 0), err
}

// deliverFLV hands a hijacked plain-socket viewer to the stream's delivery
// loop and returns at once; done is called when the viewer has gone.
func (s *Server) deliverFLV(conn net.Conn, sock *sockio.Conn, sub *hub.Subscriber, log *viewerLog, done func()) {
	start := time.Now()
	c := &directConn{conn: conn, sock: sock, timeout: s.writeTimeout, head: []byte(responseHead)}
	stop := context.AfterFunc(s.base, func() {
		sub.Close()
		conn.Close() // a write waiting for the socket returns
	})
	sub.Deliver(hub.Delivery{
		Writer: c,
		Format: hub.FormatFLV,
		Encode: flv.EncodeTag,
		First:  header,
		Done: func(err error) {
			stop()
			conn.Close()
			sub.Close()
			log.disconnected(err, start)
			done()
		},
	})
}
