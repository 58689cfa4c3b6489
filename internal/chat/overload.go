package chat

import (
	"fmt"
	"time"

	"roomcast/internal/protocol/websocket"
)

// Graceful overload: a client that cannot take the room's broadcasts as
// fast as they come (a slow network, or a server past its capacity) is
// never sent seconds-old messages after a silent gap. When the oldest
// broadcast waiting for it is more than Config.MaxLag older than the
// newest, the waiting broadcasts are dropped and replaced by a notice
// "skipped" with the number of chat messages it missed and the seq of the
// newest, so it can fetch them (GET /messages); what must not be lost
// (deletions, notices, the newest likes and presence counts) is sent on.
// A client skipped more than MaxSkips times per SkipWindow is disconnected
// (1008 "too slow: skipped too often").

// Frame classes: what a client that falls behind may miss.
const (
	classChat     uint8 = iota // a chat message: skipped and counted
	classKeep                  // a deletion, notice or pin: never skipped
	classLikes                 // the like total: only the newest counts
	classPresence              // the online and viewer counts: only the newest counts
)

// outFrame is a JSON frame waiting in a room's outbox.
type outFrame struct {
	b     []byte
	seq   int64 // of a chat message
	class uint8
}

// broadcast is one flush of a room: the WebSocket frame every client
// gets, shared, and what a client that falls behind needs to skip it.
type broadcast struct {
	frame    []byte
	at       time.Time // when the room sent it
	chats    int       // chat messages in it
	lastSeq  int64     // the newest of them
	keep     [][]byte  // JSON frames in it that must not be skipped, in order
	likes    []byte    // the last likes frame in it; nil: none
	presence []byte    // the last presence frame in it; nil: none
}

// newBatch frames the outbox as one WebSocket message (a JSON array when
// it holds several frames).
func newBatch(out []outFrame, now time.Time) *broadcast {
	b := &broadcast{at: now}
	n := 1
	for _, f := range out {
		n += len(f.b) + 1
		switch f.class {
		case classChat:
			b.chats++
			b.lastSeq = max(b.lastSeq, f.seq)
		case classKeep:
			b.keep = append(b.keep, f.b)
		case classLikes:
			b.likes = f.b
		case classPresence:
			b.presence = f.b
		}
	}
	payload := out[0].b
	if len(out) > 1 {
		payload = make([]byte, 0, n)
		payload = append(payload, '[')
		for i, f := range out {
			if i > 0 {
				payload = append(payload, ',')
			}
			payload = append(payload, f.b...)
		}
		payload = append(payload, ']')
	}
	b.frame = websocket.Frame(websocket.OpText, payload)
	return b
}

// skippedFrame tells a client that fell behind what it missed.
type skippedFrame struct {
	Type    string `json:"type"` // "notice"
	Kind    string `json:"kind"` // NoticeSkipped
	Count   int    `json:"count"`
	LastSeq int64  `json:"last_seq"`
}

// NoticeSkipped is the notice kind sent to a client whose pending
// broadcasts were dropped because it fell behind.
const NoticeSkipped = "skipped"

// queueBroadcastLocked queues b behind what is pending for c, first
// skipping the pending broadcasts if the oldest is more than MaxLag older
// than b. It unlocks c.mu.
func (c *client) queueBroadcastLocked(b *broadcast) {
	if c.closing {
		c.mu.Unlock()
		return
	}
	if !c.behind.IsZero() && b.at.Sub(c.behind) > c.cfg.MaxLag {
		if !c.skipLocked(b.at) {
			return // closed as too slow; c.mu is unlocked
		}
	}
	if len(c.pending) >= c.maxPending {
		c.closeSlowLocked("too slow: send queue full")
		return
	}
	if c.behind.IsZero() {
		c.behind = b.at
	}
	c.pending = append(c.pending, b.frame)
	c.bcast = append(c.bcast, b)
	c.startLocked()
	c.mu.Unlock()
}

// skipLocked drops the pending broadcasts, queues what of them must not be
// lost and a skipped notice, and reports true; or, when c was skipped
// MaxSkips times within SkipWindow already, closes c as too slow, unlocks
// c.mu and reports false. c.mu must be held.
func (c *client) skipLocked(now time.Time) bool {
	if c.skips == nil {
		c.skips = newBucket(c.cfg.MaxSkips, c.cfg.SkipWindow, now)
	}
	if !c.skips.take(1, now) {
		c.closeSlowLocked(fmt.Sprintf("too slow: skipped %d times in %v", c.cfg.MaxSkips, c.cfg.SkipWindow))
		return false
	}
	count, last := 0, int64(0)
	var keep [][]byte
	var likes, presence []byte
	kept := 0
	for i, f := range c.pending {
		b := c.bcast[i]
		if b == nil { // a direct frame, or the rest of a frame partly written
			c.pending[kept], c.bcast[kept] = f, nil
			kept++
			continue
		}
		count += b.chats
		last = max(last, b.lastSeq)
		keep = append(keep, b.keep...)
		if b.likes != nil {
			likes = b.likes
		}
		if b.presence != nil {
			presence = b.presence
		}
	}
	clear(c.pending[kept:])
	clear(c.bcast[kept:])
	c.pending, c.bcast = c.pending[:kept], c.bcast[:kept]
	c.behind = time.Time{}
	for _, k := range [][][]byte{keep, {likes}, {presence}} {
		for _, f := range k {
			if f != nil {
				c.pending = append(c.pending, websocket.Frame(websocket.OpText, f))
				c.bcast = append(c.bcast, nil)
			}
		}
	}
	if count > 0 {
		c.pending = append(c.pending, websocket.Frame(websocket.OpText, mustJSON(skippedFrame{Type: "notice", Kind: NoticeSkipped, Count: count, LastSeq: last})))
		c.bcast = append(c.bcast, nil)
		if c.stats != nil {
			c.stats.skips.Add(1)
			c.stats.skippedMessages.Add(uint64(count))
		}
	}
	return true
}

// closeSlowLocked drops what is pending and closes c as too slow with
// reason; the close frame gets a second to go out. It unlocks c.mu.
func (c *client) closeSlowLocked(reason string) {
	clear(c.pending)
	clear(c.bcast)
	c.pending, c.bcast = c.pending[:0], c.bcast[:0]
	c.behind = time.Time{}
	c.slow = true
	// A write in flight to a client that does not read would hold the
	// close frame back for the whole write time-out.
	_ = c.setDeadline(time.Now().Add(time.Second))
	if c.stats != nil {
		c.stats.slowClosed.Add(1)
	}
	c.closeLocked(websocket.ClosePolicyViolation, reason)
}
