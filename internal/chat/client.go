package chat

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"roomcast/internal/store"
)

// client is one WebSocket connection to a room. Frames reach it through its
// bounded queue, which its writer goroutine drains; enqueue never blocks.
type client struct {
	conn   *websocket.Conn
	user   *store.User // nil: guest
	mod    bool        // may moderate the room
	queue  chan []byte
	done   chan struct{} // closed by close
	closed sync.Once

	// status and reason of the close frame, set once by close before done
	// is closed.
	status websocket.StatusCode
	reason string

	mutedUntil atomic.Int64 // Unix ms; 0: not muted
	flood      *bucket      // refused frames; used by the reader only
	dropped    atomic.Int64
}

func newClient(conn *websocket.Conn, u *store.User, mod bool, cfg *Config) *client {
	return &client{
		conn:  conn,
		user:  u,
		mod:   mod,
		queue: make(chan []byte, cfg.SendQueue),
		done:  make(chan struct{}),
		flood: newBucket(cfg.FloodLimit, cfg.RateWindow, cfg.Now()),
	}
}

// userID returns the client's user id, "" for a guest.
func (c *client) userID() string {
	if c.user == nil {
		return ""
	}
	return c.user.ID
}

// enqueue queues b for writing. A client whose queue is full is too slow to
// keep up with the room: it is disconnected instead of holding up the
// broadcaster. Safe to call with the room's lock held.
func (c *client) enqueue(b []byte) {
	select {
	case <-c.done:
		return
	default:
	}
	select {
	case c.queue <- b:
	default:
		c.dropped.Add(1)
		c.close(websocket.StatusPolicyViolation, "too slow: send queue full")
	}
}

// close makes the writer send a close frame with status and reason and end
// the connection. Only the first call counts.
func (c *client) close(status websocket.StatusCode, reason string) {
	c.closed.Do(func() {
		c.status, c.reason = status, reason
		close(c.done)
	})
}

// writeLoop writes queued frames until the client is closed (or ctx is
// done), then closes the connection with the close status. Frames that are
// waiting together are written as one JSON array frame, up to maxBatch.
func (c *client) writeLoop(ctx context.Context, cfg *Config) {
	defer func() {
		_ = c.conn.Close(c.status, c.reason)
	}()
	frames := make([][]byte, 0, cfg.MaxBatch)
	for {
		select {
		case <-c.done:
			c.flush(ctx, cfg, frames[:0])
			return
		case <-ctx.Done():
			c.close(websocket.StatusGoingAway, "server shutting down")
			return
		case b := <-c.queue:
			frames = append(frames[:0], b)
		}
	more:
		for len(frames) < cfg.MaxBatch {
			select {
			case b := <-c.queue:
				frames = append(frames, b)
			default:
				break more
			}
		}
		msg := frames[0]
		if len(frames) > 1 {
			msg = batch(frames)
		}
		wctx, cancel := context.WithTimeout(ctx, cfg.WriteTimeout)
		err := c.conn.Write(wctx, websocket.MessageText, msg)
		cancel()
		if err != nil {
			c.close(websocket.StatusPolicyViolation, "write failed")
			return
		}
	}
}

// flush writes, best effort, the frames still queued when the client was
// closed (a kicked or muted frame, an error), at most one batch.
func (c *client) flush(ctx context.Context, cfg *Config, frames [][]byte) {
	if c.status == websocket.StatusPolicyViolation && c.dropped.Load() > 0 {
		return // too slow: the queue is full of what it could not take
	}
	for len(frames) < cfg.MaxBatch {
		select {
		case b := <-c.queue:
			frames = append(frames, b)
			continue
		default:
		}
		break
	}
	if len(frames) == 0 {
		return
	}
	msg := frames[0]
	if len(frames) > 1 {
		msg = batch(frames)
	}
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.WriteTimeout)
	defer cancel()
	_ = c.conn.Write(wctx, websocket.MessageText, msg)
}

// pingLoop pings the client every interval and closes it when a pong does
// not come back within timeout. It ends when the client is closed.
func (c *client) pingLoop(ctx context.Context, interval, timeout time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-c.done:
			return
		case <-ctx.Done():
			return
		case <-t.C:
			pctx, cancel := context.WithTimeout(ctx, timeout)
			err := c.conn.Ping(pctx)
			cancel()
			if err != nil {
				c.close(websocket.StatusGoingAway, "ping timeout")
				return
			}
		}
	}
}
