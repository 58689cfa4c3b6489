// Package keepalive serves the keep-alive requests of media clients (HLS
// players asking for a playlist and a segment every second or two) on
// connections taken over from net/http.
//
// net/http spends more per request than the bytes cost on loopback: a
// goroutine and a read started in the background to notice a client that
// leaves, the read deadline that stops it again, the response header
// written apart from its body, a context with its cancellation. A player's
// connection makes the same small requests for as long as it plays, so
// Wrap takes the connection over (Hijack) at its first matching request
// and serves it, and every later matching request on it, from one loop:
// the request is parsed from the connection's buffer, the same handler
// chain answers it (middleware, metrics, the media handlers), and the
// response header goes out with the body in one writev.
//
// A request the loop does not take (another path or method, HTTP/1.0, an
// upgrade, a header over the buffer's size) hands the connection back to
// net/http, bytes already read included, through the listener that
// Server.Listener returns: the http.Server must serve it too.
package keepalive

import (
	"bufio"
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"roomcast/internal/sockio"
)

// Config is what a Server needs.
type Config struct {
	// Match reports whether a request for path (not unescaped, without
	// its query) with method is one the loop serves. It must not block.
	Match func(method, path string) bool
	// IdleTimeout closes a connection that sends no request for this
	// long; ReadHeaderTimeout one whose request header takes this long to
	// arrive once it began. WriteTimeout bounds each response.
	IdleTimeout, ReadHeaderTimeout, WriteTimeout time.Duration
}

// Server takes over and serves keep-alive connections. Its zero value is
// not usable: see New.
type Server struct {
	cfg     Config
	ctx     context.Context
	handler http.Handler
	back    *listener
	date    dateLine

	taken, handedBack atomic.Uint64

	mu     sync.Mutex
	conns  map[*conn]struct{}
	closed bool
}

// Stats are a Server's figures.
type Stats struct {
	// Connections is how many connections the loop serves now.
	Connections int
	// Taken counts connections taken over from net/http, HandedBack those
	// given back to it (a connection may go back and forth).
	Taken, HandedBack uint64
}

// Stats returns the Server's figures.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	n := len(s.conns)
	s.mu.Unlock()
	return Stats{Connections: n, Taken: s.taken.Load(), HandedBack: s.handedBack.Load()}
}

// New returns a Server for cfg whose connections are closed when ctx ends.
// Zero timeouts take net/http's usual values for a media server: two
// minutes idle, 10 s for a header, 30 s for a response.
func New(ctx context.Context, cfg Config) *Server {
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = 2 * time.Minute
	}
	if cfg.ReadHeaderTimeout <= 0 {
		cfg.ReadHeaderTimeout = 10 * time.Second
	}
	if cfg.WriteTimeout <= 0 {
		cfg.WriteTimeout = 30 * time.Second
	}
	s := &Server{cfg: cfg, ctx: ctx, conns: make(map[*conn]struct{}), back: newListener()}
	go func() {
		<-ctx.Done()
		s.close()
	}()
	return s
}

// Listener returns the listener through which connections go back to
// net/http: the http.Server whose handler Wrap wrapped must Serve it.
func (s *Server) Listener() net.Listener { return s.back }

// Wrap returns next behind the take-over: a matching request on a plain
// HTTP/1.1 keep-alive connection is served, with every later matching one
// on its connection, by next called from the Server's loop; any other
// request goes to next as usual.
func (s *Server) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.takes(r) {
			next.ServeHTTP(w, r)
			return
		}
		nc, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			next.ServeHTTP(w, r)
			return
		}
		c := s.newConn(nc, brw.Reader, next)
		if c == nil {
			_ = nc.Close()
			return
		}
		// The first request is served here, while its context (net/http's)
		// is alive; the connection then gets a goroutine of its own with a
		// small stack.
		c.remote = r.RemoteAddr
		if !c.serve(r, r.Context()) {
			c.close()
			return
		}
		go c.run()
	})
}

// takes reports whether r is one the loop serves, on a connection it may
// take over.
func (s *Server) takes(r *http.Request) bool {
	if r.ProtoMajor != 1 || r.ProtoMinor != 1 || r.TLS != nil || r.Close || !bare(r) {
		return false
	}
	path, _, _ := strings.Cut(r.RequestURI, "?")
	return plainPath(path) && s.cfg.Match(r.Method, path)
}

// bare reports whether r has no body and asks for no upgrade: a request
// the loop answers and then reads the next one after.
func bare(r *http.Request) bool {
	return r.ContentLength == 0 && len(r.TransferEncoding) == 0 && r.Header.Get("Upgrade") == ""
}

// newConn registers a taken-over connection; nil when the Server is
// closed.
func (s *Server) newConn(nc net.Conn, br *bufio.Reader, h http.Handler) *conn {
	c := &conn{srv: s, nc: nc, br: br, sw: sockio.New(nc), handler: h}
	if sc, ok := nc.(syscall.Conn); ok {
		c.raw, _ = sc.SyscallConn()
	}
	c.w.c = c
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.conns[c] = struct{}{}
	s.taken.Add(1)
	return c
}

// forget drops a connection that ended or went back to net/http.
func (s *Server) forget(c *conn) {
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
}

// close closes every connection the Server holds and the listener back
// to net/http.
func (s *Server) close() {
	s.mu.Lock()
	s.closed = true
	conns := s.conns
	s.conns = map[*conn]struct{}{}
	s.mu.Unlock()
	for c := range conns {
		_ = c.nc.Close()
	}
	_ = s.back.Close()
}

// handBack gives a connection to net/http, to read prefix (what the loop
// consumed of the next request), then what the connection's reader holds.
func (s *Server) handBack(c *conn, prefix []byte) {
	s.forget(c)
	s.handedBack.Add(1)
	if err := s.back.put(replay(c.nc, prefix, c.br)); err != nil {
		_ = c.nc.Close()
	}
}

// ErrClosed is what the Listener's Accept returns once it is closed (at
// the end of the Server's context, or by Close).
var ErrClosed = errors.New("keepalive: listener closed")

// dateLine is the Date header line of the current second, formatted once
// a second rather than once a response.
type dateLine struct {
	cur atomic.Pointer[dated]
}

// dated is a Date header line and the second it names.
type dated struct {
	sec  int64
	line []byte
}

// line returns "Date: …\r\n" for now.
func (d *dateLine) line(now time.Time) []byte {
	sec := now.Unix()
	if c := d.cur.Load(); c != nil && c.sec == sec {
		return c.line
	}
	b := append([]byte("Date: "), now.UTC().AppendFormat(nil, http.TimeFormat)...)
	b = append(b, "\r\n"...)
	d.cur.Store(&dated{sec: sec, line: b})
	return b
}
