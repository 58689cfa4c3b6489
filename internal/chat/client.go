package chat

import (
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"roomcast/internal/protocol/websocket"
	"roomcast/internal/store"
)

// closeWait is how long a closing connection waits for the peer's close
// frame (or for its last frames to be written) before it is dropped.
const closeWait = 2 * time.Second

// client is one WebSocket connection to a room. Frames reach it already
// framed (a broadcast is framed once for all clients) through a bounded
// list of pending frames; enqueue never blocks. A writer goroutine runs only
// while frames are pending and writes all of them with one writev, so an
// idle connection costs its reader goroutine and a few hundred bytes.
type client struct {
	nc           net.Conn
	raw          syscall.RawConn // nc's socket; nil when nc is not one (TLS)
	user         *store.User     // nil: guest
	mod          bool            // may moderate the room
	maxPending   int
	writeTimeout time.Duration
	cfg          *Config
	stats        *counters // the server's; nil in unit tests of the queue

	mu       sync.Mutex
	pending  [][]byte     // whole server frames, oldest first
	bcast    []*broadcast // the broadcast of each pending frame; nil: one never skipped
	behind   time.Time    // when the oldest pending broadcast was sent; zero: none
	skips    *bucket      // skips allowed (MaxSkips per SkipWindow); nil until the first
	spare    [][]byte     // the other pending buffer, reused
	writing  bool         // a writer goroutine is running
	closing  bool         // a close frame is queued: nothing more is
	slow     bool         // closed as too slow: the write deadline stays short
	deadline time.Time
	status   uint16 // of the close frame; valid once closing
	reason   string
	byPeer   bool          // the close answers the peer's
	flushed  chan struct{} // closed once the close frame was written, or a write failed
	once     sync.Once

	lastSeen   atomic.Int64 // Unix ns of the last frame read from the client
	mutedUntil atomic.Int64 // Unix ms; 0: not muted
	flood      *bucket      // refused frames; used by the reader only
}

func newClient(nc net.Conn, u *store.User, mod bool, cfg *Config, stats *counters) *client {
	c := &client{
		nc:           nc,
		user:         u,
		mod:          mod,
		maxPending:   cfg.SendQueue,
		writeTimeout: cfg.WriteTimeout,
		cfg:          cfg,
		stats:        stats,
		flushed:      make(chan struct{}),
		flood:        newBucket(cfg.FloodLimit, cfg.RateWindow, cfg.Now()),
	}
	if sc, ok := nc.(syscall.Conn); ok {
		c.raw, _ = sc.SyscallConn()
		if c.raw != nil {
			limitUnsent(c.raw)
		}
	}
	c.lastSeen.Store(cfg.Now().UnixNano())
	return c
}

// errUnsupported: the connection does not take direct writes.
var errUnsupported = errors.New("chat: no direct writes on this connection")

// deliver sends a room's broadcast: written at once with one non-blocking
// write when nothing else is pending for the client (the common case, and
// no goroutine is needed), else queued behind what is (see
// queueBroadcastLocked: a client too far behind skips). What the socket
// does not take at once is queued for the writer. Safe to call with the
// room's lock held.
func (c *client) deliver(b *broadcast) {
	c.mu.Lock()
	if c.closing || c.writing || len(c.pending) > 0 || c.raw == nil {
		c.queueBroadcastLocked(b)
		return
	}
	frame := b.frame
	n, err := c.writeNow(frame)
	switch {
	case err != nil:
		c.closing = true
		c.mu.Unlock()
		_ = c.nc.Close()
		c.once.Do(func() { close(c.flushed) })
	case n == len(frame):
		c.mu.Unlock()
	default:
		// The socket buffer is full: the rest waits for the writer, and
		// is never skipped (the peer has the frame's start).
		c.pending = append(c.pending, frame[n:])
		c.bcast = append(c.bcast, nil)
		c.startLocked()
		c.mu.Unlock()
	}
}

// userID returns the client's user id, "" for a guest.
func (c *client) userID() string {
	if c.user == nil {
		return ""
	}
	return c.user.ID
}

// sendJSON queues one JSON text message to this client only.
func (c *client) sendJSON(b []byte) { c.enqueue(websocket.Frame(websocket.OpText, b)) }

// enqueue queues a whole server frame, which the caller must not change
// afterwards (it may be shared by every client of a room). A client with
// SendQueue frames already pending is too slow to keep up with the room:
// it is disconnected instead of holding up the broadcaster. Safe to call
// with the room's lock held.
func (c *client) enqueue(frame []byte) {
	c.mu.Lock()
	if c.closing {
		c.mu.Unlock()
		return
	}
	if len(c.pending) >= c.maxPending {
		c.closeSlowLocked("too slow: send queue full")
		return
	}
	c.pending = append(c.pending, frame)
	c.bcast = append(c.bcast, nil)
	c.startLocked()
	c.mu.Unlock()
}

// close queues a close frame with status and reason; the connection ends
// once the peer answers it or closeWait passed. Only the first call counts.
func (c *client) close(status uint16, reason string) {
	c.mu.Lock()
	if c.closing {
		c.mu.Unlock()
		return
	}
	c.closeLocked(status, reason)
}

// closeLocked queues the close frame and unlocks c.mu.
func (c *client) closeLocked(status uint16, reason string) {
	c.closing, c.status, c.reason = true, status, reason
	c.pending = append(c.pending, websocket.Frame(websocket.OpClose, websocket.ClosePayload(status, reason)))
	c.bcast = append(c.bcast, nil)
	c.startLocked()
	c.mu.Unlock()
}

// closeStatus returns the status and reason of the close frame, and
// whether the server began the close (rather than answering the client's
// or after a failed write).
func (c *client) closeStatus() (status uint16, reason string, byServer bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.status, c.reason, c.status != 0 && !c.byPeer
}

// answer queues the close frame that answers the peer's close.
func (c *client) answer(status uint16) {
	c.mu.Lock()
	if c.closing {
		c.mu.Unlock()
		return
	}
	c.byPeer = true
	c.closeLocked(status, "")
}

// isClosing reports whether the connection is closing.
func (c *client) isClosing() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closing
}

// startLocked starts the writer if it is not running. c.mu must be held.
func (c *client) startLocked() {
	if !c.writing {
		c.writing = true
		go c.writeLoop()
	}
}

// writeLoop writes everything pending, in one writev per round, until
// nothing is pending; then it ends. After the close frame it gives the
// peer closeWait to answer; after a failed write it closes the connection
// (which ends the reader).
func (c *client) writeLoop() {
	for {
		c.mu.Lock()
		bufs := c.pending
		if len(bufs) == 0 {
			c.writing = false
			// Direct writes (deliver) honour the deadline too: clear it,
			// or it would fail them once it passed.
			if !c.slow {
				_ = c.setDeadline(time.Time{})
			}
			c.mu.Unlock()
			return
		}
		c.pending, c.spare = c.spare[:0], nil
		clear(c.bcast)
		c.bcast, c.behind = c.bcast[:0], time.Time{}
		last := c.closing
		err := c.renewDeadline()
		c.mu.Unlock()

		if err == nil {
			nb := net.Buffers(bufs)
			_, err = nb.WriteTo(c.nc)
		}
		clear(bufs)
		c.mu.Lock()
		c.spare = bufs[:0]
		if err != nil {
			c.closing = true
			c.writing = false
			c.pending, c.bcast = nil, nil
			c.mu.Unlock()
			_ = c.nc.Close()
			c.once.Do(func() { close(c.flushed) })
			return
		}
		c.mu.Unlock()
		if last {
			// The close frame is out: wait for the peer's, not for ever.
			_ = c.nc.SetReadDeadline(time.Now().Add(closeWait))
			c.once.Do(func() { close(c.flushed) })
		}
	}
}

// renewDeadline extends the write deadline at most every quarter of the
// time-out, and not at all for a client closed as slow. c.mu held.
func (c *client) renewDeadline() error {
	if c.slow {
		return nil
	}
	now := time.Now()
	if c.deadline.Sub(now) < c.writeTimeout*3/4 {
		return c.setDeadline(now.Add(c.writeTimeout))
	}
	return nil
}

// setDeadline sets the write deadline. c.mu held.
func (c *client) setDeadline(t time.Time) error {
	c.deadline = t
	if c.nc == nil { // unit tests of the queue
		return nil
	}
	return c.nc.SetWriteDeadline(t)
}

// finish ends the connection after the reader stopped: a normal close
// unless another was queued, at most closeWait to write it, then the
// socket is closed.
func (c *client) finish() {
	c.close(websocket.CloseNormal, "")
	t := time.NewTimer(closeWait)
	defer t.Stop()
	select {
	case <-c.flushed:
	case <-t.C:
	}
	_ = c.nc.Close()
}
