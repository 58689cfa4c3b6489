package keepalive

import (
	"bufio"
	"context"
	"net"
	"net/http"
	"syscall"
	"time"

	"roomcast/internal/sockio"
)

// conn is a taken-over connection. Its methods run on its one goroutine.
type conn struct {
	srv     *Server
	nc      net.Conn
	br      *bufio.Reader
	sw      *sockio.Conn    // writev without the net package's copies; nil: nc.Write
	raw     syscall.RawConn // to watch for a client that leaves; nil: not watched
	handler http.Handler
	remote  string
	head    []byte // the current request's header, kept to hand it back
	w       response
}

// run serves the connection's requests until it closes or goes back to
// net/http.
func (c *conn) run() {
	for {
		req, back := c.next()
		if back {
			c.srv.handBack(c, c.head)
			return
		}
		if req == nil {
			c.close()
			return
		}
		if !c.serve(req, c.srv.ctx) {
			c.close()
			return
		}
	}
}

// next reads the next request the loop serves. back: the connection goes
// to net/http (c.head holds what was consumed of it); nil, false: it
// closes (idle, gone, or the Server closed).
func (c *conn) next() (req *http.Request, back bool) {
	_ = c.nc.SetReadDeadline(time.Now().Add(c.srv.cfg.IdleTimeout))
	c.head = c.head[:0]
	head, method, path, ok := c.waitHead()
	if !ok {
		return nil, false
	}
	if head == nil || !c.srv.cfg.Match(method, path) {
		return nil, true // nothing consumed: net/http reads it all
	}
	c.head = append(c.head, head...)
	buffered := c.br.Buffered()
	req, err := http.ReadRequest(c.br)
	if err != nil || !bare(req) {
		// net/http answers it as it answers any request (a malformed one
		// with its 400, a body or an upgrade as usual): it reads the
		// header from c.head, then what follows it.
		if rest := len(head) - (buffered - c.br.Buffered()); rest > 0 {
			_, _ = c.br.Discard(rest) // what a failed parse left of the header
		}
		return nil, true
	}
	c.head = c.head[:0]
	req.RemoteAddr = c.remote
	return req, false
}

// waitHead waits until the reader holds the next request's whole header,
// without consuming it. head is nil (and ok true) when the header does not
// fit the buffer, or its request line is not one the loop may serve
// (method and path are then ""). ok is false when the connection ended or
// timed out.
func (c *conn) waitHead() (head []byte, method, path string, ok bool) {
	started := false
	for {
		buf, _ := c.br.Peek(c.br.Buffered())
		if len(buf) > 0 {
			state, n, m, p := parseHead(buf)
			if state == headComplete {
				if m == "" {
					return nil, "", "", true
				}
				return buf[:n], m, p, true
			}
			if len(buf) >= c.br.Size() {
				return nil, "", "", true // too long for the loop: net/http judges it
			}
			if !started {
				started = true
				_ = c.nc.SetReadDeadline(time.Now().Add(c.srv.cfg.ReadHeaderTimeout))
			}
		}
		if _, err := c.br.Peek(len(buf) + 1); err != nil {
			return nil, "", "", false // gone, or too slow (idle or within a header): closed, as net/http does
		}
	}
}

// serve answers one request with the handler, under a context derived
// from base that ends when the client leaves; false: the connection must
// close (the client or the handler asked, a write failed, or the response
// was cut short).
func (c *conn) serve(req *http.Request, base context.Context) bool {
	_ = c.nc.SetWriteDeadline(time.Now().Add(c.srv.cfg.WriteTimeout))
	rc := &requestContext{Context: base, c: c}
	req = req.WithContext(rc)
	w := &c.w
	w.reset(req)
	c.handler.ServeHTTP(w, req)
	rc.end()
	// No body to drain: the loop takes bare requests only.
	return w.finish() && !w.closeAfter
}

// close ends the connection.
func (c *conn) close() {
	c.srv.forget(c)
	_ = c.nc.Close()
}

// write sends head then body, in one writev where the socket allows.
func (c *conn) write(head, body []byte) error {
	if c.sw != nil {
		var bufs [1][]byte
		bufs[0] = body
		_, err := c.sw.Write(head, bufs[:])
		return err
	}
	bufs := net.Buffers{head, body}
	_, err := bufs.WriteTo(c.nc)
	return err
}
