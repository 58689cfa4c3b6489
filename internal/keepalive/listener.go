package keepalive

import (
	"bufio"
	"io"
	"net"
	"sync"
)

// listener yields the connections handed back to net/http.
type listener struct {
	ch   chan net.Conn
	done chan struct{}
	once sync.Once
}

func newListener() *listener {
	return &listener{ch: make(chan net.Conn), done: make(chan struct{})}
}

// put hands c to the next Accept; an error when the listener is closed.
func (l *listener) put(c net.Conn) error {
	select {
	case l.ch <- c:
		return nil
	case <-l.done:
		return ErrClosed
	}
}

// Accept implements net.Listener.
func (l *listener) Accept() (net.Conn, error) {
	select {
	case c := <-l.ch:
		return c, nil
	case <-l.done:
		return nil, ErrClosed
	}
}

// Close implements net.Listener.
func (l *listener) Close() error {
	l.once.Do(func() { close(l.done) })
	return nil
}

// Addr implements net.Listener.
func (l *listener) Addr() net.Addr { return handedBack{} }

// handedBack is the listener's address.
type handedBack struct{}

func (handedBack) Network() string { return "keepalive" }
func (handedBack) String() string  { return "handed back" }

// replay returns nc reading first prefix, then what br holds, then nc. A
// TCP connection keeps its concrete methods (SyscallConn for writev), for
// handlers that take it over again. A connection handed back before is
// unwrapped, so that wrappers do not pile up on a connection going back
// and forth.
func replay(nc net.Conn, prefix []byte, br *bufio.Reader) net.Conn {
	r := &replayReader{prefix: append([]byte(nil), prefix...), br: br}
	switch c := nc.(type) {
	case *replayTCPConn:
		r.then = c.r.pending()
		return &replayTCPConn{TCPConn: c.TCPConn, r: r}
	case *replayConn:
		r.then = c.r.pending()
		return &replayConn{Conn: c.Conn, r: r}
	case *net.TCPConn:
		return &replayTCPConn{TCPConn: c, r: r}
	}
	return &replayConn{Conn: nc, r: r}
}

// replayReader reads prefix, then br's buffered bytes, then what then
// has; then it is done.
type replayReader struct {
	prefix []byte
	br     *bufio.Reader
	then   *replayReader
}

// read reads from what is left to replay; false when nothing is.
func (r *replayReader) read(p []byte) (int, bool) {
	if len(r.prefix) > 0 {
		n := copy(p, r.prefix)
		r.prefix = r.prefix[n:]
		return n, true
	}
	if r.br != nil && r.br.Buffered() > 0 {
		n, _ := r.br.Read(p)
		return n, true
	}
	r.br = nil
	if r.then != nil {
		if n, ok := r.then.read(p); ok {
			return n, true
		}
		r.then = nil
	}
	return 0, false
}

// pending returns r if it has bytes left to replay, else nil.
func (r *replayReader) pending() *replayReader {
	if r == nil {
		return nil
	}
	if len(r.prefix) > 0 || r.br != nil && r.br.Buffered() > 0 || r.then.pending() != nil {
		return r
	}
	return nil
}

// replayTCPConn is a handed-back TCP connection.
type replayTCPConn struct {
	*net.TCPConn
	r *replayReader
}

// Read implements net.Conn.
func (c *replayTCPConn) Read(p []byte) (int, error) {
	if n, ok := c.r.read(p); ok {
		return n, nil
	}
	return c.TCPConn.Read(p)
}

// WriteTo implements io.WriterTo through Read, so that the replayed bytes
// come first (the TCP connection's own WriteTo reads the socket).
func (c *replayTCPConn) WriteTo(w io.Writer) (int64, error) {
	return io.Copy(w, struct{ io.Reader }{c})
}

// replayConn is any other handed-back connection.
type replayConn struct {
	net.Conn
	r *replayReader
}

// Read implements net.Conn.
func (c *replayConn) Read(p []byte) (int, error) {
	if n, ok := c.r.read(p); ok {
		return n, nil
	}
	return c.Conn.Read(p)
}
