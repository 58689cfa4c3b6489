package chat

import (
	"cmp"
	"context"
	"slices"
	"sync"
	"time"

	"roomcast/internal/protocol/websocket"
	"roomcast/internal/store"
)

// roomChannel is the live state of one room on this node: its clients, the
// recent-history ring, the announcement, the likes not yet stored and the
// presence throttle. It exists while the room has clients on this node and
// receives every room event from the bus. Its methods are safe for
// concurrent use.
type roomChannel struct {
	s      *Server
	id     string
	stream string

	// sendMu orders message writes: a message is stored (getting its seq)
	// and published under it, so seq order is publish order.
	sendMu sync.Mutex

	mu         sync.Mutex
	clients    map[*client]struct{}
	history    []histEntry // oldest first, at most cfg.HistorySize
	lastSeq    int64
	pinned     string
	pinSeen    bool  // a pin event arrived: it is newer than the stored pin start loads
	likes      int64 // last known total
	pending    int64 // likes not yet stored
	limits     map[string]*userLimits
	lastOnline int // online count last broadcast
	lastViews  int

	// In a cluster: the other nodes' counts of the room's clients, and
	// this node's count as last announced to them.
	peers       map[string]peerCount
	announced   int
	announcedAt time.Time

	// Broadcasts are coalesced: frames wait in outbox at most
	// BroadcastInterval after the previous flush, then go out as one
	// message (a JSON array when several), framed once for every client.
	outbox    []outFrame
	lastFlush time.Time
	flushGap  time.Duration // from one flush to the next, at least
	timer     *time.Timer   // pending flush; nil: none

	pingAt  time.Time // when the last keep-alive ping went out
	pongDue bool      // the clients' answers to it are not checked yet

	unsubscribe func()
	stop        chan struct{}
	stopped     chan struct{}
}

type histEntry struct {
	seq   int64
	id    string
	frame []byte
}

type userLimits struct {
	msgs  *bucket
	likes *bucket
}

// start subscribes to the room's bus subject, loads the recent history and
// the pinned announcement, and starts the ticker goroutine. The
// subscription comes first, so no message or pin falls between the two (a
// pin event that arrives meanwhile wins over the loaded pin).
func (ch *roomChannel) start(ctx context.Context) error {
	unsub, err := ch.s.bus.Subscribe(subject(ch.id), ch.onEvent)
	if err != nil {
		return err
	}
	ms, err := ch.s.st.ChatMessagesBefore(ctx, ch.id, 0, ch.s.cfg.HistorySize)
	if err != nil {
		unsub()
		return err
	}
	pinned, err := ch.s.st.ChatPin(ctx, ch.id)
	if err != nil {
		unsub()
		return err
	}
	ch.mu.Lock()
	if !ch.pinSeen {
		ch.pinned = pinned
	}
	loaded := make([]histEntry, 0, len(ms))
	for i := range ms {
		loaded = append(loaded, histEntry{ms[i].Seq, ms[i].ID, encodeChat(&ms[i])})
	}
	ch.history = mergeHistory(loaded, ch.history, ch.s.cfg.HistorySize)
	if n := len(ch.history); n > 0 {
		ch.lastSeq = max(ch.lastSeq, ch.history[n-1].seq)
	}
	ch.mu.Unlock()
	ch.unsubscribe = unsub
	if ch.s.cluster {
		// Learn the other nodes' counts now rather than at their next
		// heartbeat.
		ch.publishPresence(event{Kind: evPresence, Node: ch.s.node, Ask: true})
	}
	go ch.tick()
	return nil
}

// mergeHistory merges two seq-ordered lists without duplicates, keeping the
// newest size entries.
func mergeHistory(a, b []histEntry, size int) []histEntry {
	out := append(a, b...)
	slices.SortFunc(out, func(x, y histEntry) int { return cmp.Compare(x.seq, y.seq) })
	out = slices.CompactFunc(out, func(x, y histEntry) bool { return x.seq == y.seq })
	if len(out) > size {
		out = slices.Clone(out[len(out)-size:])
	}
	return out
}

// close stops the ticker (which stores the pending likes) and unsubscribes;
// in a cluster it tells the other nodes this one has no clients left.
// Called by the Server when the last client left.
func (ch *roomChannel) close() {
	close(ch.stop)
	<-ch.stopped
	ch.unsubscribe()
	if ch.s.cluster {
		ch.publishPresence(event{Kind: evPresence, Node: ch.s.node})
	}
	ch.mu.Lock()
	if ch.timer != nil {
		ch.timer.Stop()
		ch.timer = nil
	}
	ch.mu.Unlock()
}

// closeClients closes every client with status and reason.
func (ch *roomChannel) closeClients(status uint16, reason string) {
	ch.mu.Lock()
	defer ch.mu.Unlock()
	ch.closeClientsLocked(status, reason)
}

// closeClientsLocked sends what waits in the outbox, then closes every
// client with status and reason. ch.mu must be held.
func (ch *roomChannel) closeClientsLocked(status uint16, reason string) {
	ch.flushLocked()
	for c := range ch.clients {
		c.close(status, reason)
	}
}

// onEvent applies a bus event to the local clients. Called by the bus.
func (ch *roomChannel) onEvent(data []byte) {
	e, err := decodeEvent(data)
	if err != nil {
		ch.s.log.Warn("chat: dropping bus event", "room", ch.id, "err", err)
		return
	}
	ch.apply(e)
}

// apply applies an event, from the bus or from a catch-up after a bus
// outage, to the local clients.
func (ch *roomChannel) apply(e event) {
	ch.mu.Lock()
	defer ch.mu.Unlock()
	switch e.Kind {
	case evChat:
		if !ch.addHistoryLocked(histEntry{e.Seq, e.ID, e.Frame}) {
			return // delivered already
		}
		ch.lastSeq = max(ch.lastSeq, e.Seq)
		// Counted first: the broadcast may reach the clients at once.
		ch.s.counters.delivered.Add(uint64(len(ch.clients)))
		ch.broadcastLocked(outFrame{b: e.Frame, seq: e.Seq, class: classChat})
	case evLikes:
		// Nodes publish the totals the store gave them; one may arrive
		// after a bigger one.
		if e.Total > ch.likes {
			ch.likes = e.Total
			ch.broadcastLocked(outFrame{b: e.Frame, class: classLikes})
		}
	case evPresence:
		ch.peerLocked(e, time.Now())
	case evDeleted:
		ch.history = slices.DeleteFunc(ch.history, func(h histEntry) bool { return h.id == e.ID })
		ch.broadcastLocked(outFrame{b: e.Frame, class: classKeep})
	case evPin:
		ch.pinned, ch.pinSeen = e.Text, true
		ch.broadcastLocked(outFrame{b: e.Frame, class: classKeep})
	case evFrame:
		ch.broadcastLocked(outFrame{b: e.Frame, class: classKeep})
	case evCohostRequest, evCohostAnswer:
		ch.onCohostEvent(e)
	case evClosed:
		ch.broadcastLocked(outFrame{b: e.Frame, class: classKeep})
		ch.closeClientsLocked(websocket.CloseNormal, "room deleted")
	case evMute, evUnmute, evKick:
		// What was broadcast before the sanction reaches the user
		// before it (and before the close of a kick).
		ch.flushLocked()
		for c := range ch.clients {
			if c.userID() != e.UserID {
				continue
			}
			if e.Kind == evMute {
				c.mutedUntil.Store(e.Until)
			} else {
				c.mutedUntil.Store(0)
			}
			c.sendJSON(e.Frame)
			if e.Kind == evKick {
				c.close(websocket.ClosePolicyViolation, e.Text)
			}
		}
	}
}

// addHistoryLocked puts a message into the ring, in seq order (messages
// stored on different nodes may arrive out of order), and reports whether
// it is new: false when the ring has its seq already. ch.mu must be held.
func (ch *roomChannel) addHistoryLocked(h histEntry) bool {
	size := ch.s.cfg.HistorySize
	n := len(ch.history)
	if n == 0 || ch.history[n-1].seq < h.seq {
		ch.history = append(ch.history, h)
	} else {
		i, found := slices.BinarySearchFunc(ch.history, h.seq, func(x histEntry, seq int64) int { return cmp.Compare(x.seq, seq) })
		if found {
			return false
		}
		if i == 0 && n >= size {
			return true // older than the whole ring: delivered, not kept
		}
		ch.history = slices.Insert(ch.history, i, h)
	}
	if len(ch.history) > size {
		ch.history = slices.Delete(ch.history, 0, len(ch.history)-size)
	}
	return true
}

// broadcastLocked queues a JSON frame for every client: at once if the
// last flush is flushGap old (or MaxBatch frames wait), else with the
// frames that follow it, when the gap is over. ch.mu must be held.
func (ch *roomChannel) broadcastLocked(f outFrame) {
	ch.outbox = append(ch.outbox, f)
	cfg := &ch.s.cfg
	wait := max(ch.flushGap, cfg.BroadcastInterval) - time.Since(ch.lastFlush)
	if wait <= 0 || len(ch.outbox) >= cfg.MaxBatch {
		ch.flushLocked()
		return
	}
	if ch.timer == nil {
		ch.timer = time.AfterFunc(wait, func() {
			ch.mu.Lock()
			ch.timer = nil
			ch.flushLocked()
			ch.mu.Unlock()
		})
	}
}

// flushLocked sends the waiting broadcast frames to every client as one
// WebSocket message, framed once and shared. ch.mu must be held.
//
// A pass over the clients costs a write per client whatever the frame
// holds, so when passes get long (a big room on a busy machine) the next
// one waits at least twice as long as this one took: the frames that come
// meanwhile go out together, and passes take at most about half of the
// CPU, rather than one pass per message falling ever further behind.
func (ch *roomChannel) flushLocked() {
	if len(ch.outbox) == 0 {
		return
	}
	if ch.timer != nil {
		ch.timer.Stop()
		ch.timer = nil
	}
	now := time.Now()
	b := newBatch(ch.outbox, now)
	clear(ch.outbox)
	ch.outbox = ch.outbox[:0]
	ch.lastFlush = now
	for c := range ch.clients {
		c.deliver(b)
	}
	ch.flushGap = 2 * time.Since(now)
}

// addLocked registers c and queues its welcome and history frames, so that
// it receives every later event after them and none twice. older are
// messages from the store for a resume beyond the ring (seq-ordered), since
// the resume point (-1: a fresh join). ch.mu must be held.
func (ch *roomChannel) addLocked(c *client, welcome welcomeFrame, since int64, older []store.ChatMessage, olderFull bool) {
	// What waits in the outbox is in the history already.
	ch.flushLocked()
	ch.clients[c] = struct{}{}
	welcome.Online = ch.onlineLocked(time.Now())
	welcome.Viewers = ch.s.viewers(ch.stream)
	welcome.Likes = max(welcome.Likes, ch.likes)
	welcome.Pinned = ch.pinned
	welcome.LastSeq = ch.lastSeq
	c.sendJSON(mustJSON(welcome))

	var frames [][]byte
	truncated := false
	if since < 0 {
		for _, h := range ch.history {
			frames = append(frames, h.frame)
		}
	} else {
		first := ch.lastSeq + 1
		if len(ch.history) > 0 {
			first = ch.history[0].seq
		}
		if olderFull && len(older) > 0 && older[len(older)-1].Seq < first-1 {
			truncated = true // more was missed than a resume returns
		} else {
			for i := range older {
				if older[i].Seq > since && older[i].Seq < first {
					frames = append(frames, encodeChat(&older[i]))
				}
			}
		}
		for _, h := range ch.history {
			if h.seq > since {
				frames = append(frames, h.frame)
			}
		}
		if len(frames) > ch.s.cfg.MaxResume {
			frames, truncated = frames[len(frames)-ch.s.cfg.MaxResume:], true
		}
	}
	c.sendJSON(encodeHistory(frames, since >= 0, truncated))
	for _, f := range ch.s.requests.frames(ch.id, c, ch.s.cfg.Now()) {
		c.sendJSON(f)
	}
}

// needsStore reports whether a resume from since reaches beyond the ring.
func (ch *roomChannel) needsStore(since int64) bool {
	ch.mu.Lock()
	defer ch.mu.Unlock()
	if len(ch.history) == 0 {
		return since < ch.lastSeq
	}
	return since < ch.history[0].seq-1
}

// remove unregisters c and reports how many clients remain.
func (ch *roomChannel) removeLocked(c *client) int {
	delete(ch.clients, c)
	return len(ch.clients)
}

// limitsLocked returns the rate limits of a user in this room. ch.mu must be
// held.
func (ch *roomChannel) limitsLocked(userID string, now time.Time) *userLimits {
	l := ch.limits[userID]
	if l == nil {
		cfg := &ch.s.cfg
		l = &userLimits{
			msgs:  newBucket(cfg.RateMessages, cfg.RateWindow, now),
			likes: newBucket(cfg.LikeBurst, time.Duration(float64(time.Second)*float64(cfg.LikeBurst)/float64(cfg.LikesPerSecond)), now),
		}
		ch.limits[userID] = l
	}
	return l
}

// allow takes n tokens from the user's message (likes false) or like bucket.
func (ch *roomChannel) allow(userID string, likes bool, n int) bool {
	now := ch.s.cfg.Now()
	ch.mu.Lock()
	defer ch.mu.Unlock()
	l := ch.limitsLocked(userID, now)
	if likes {
		return l.likes.take(n, now)
	}
	return l.msgs.take(n, now)
}

// addLikes counts n likes; the ticker stores and broadcasts them.
func (ch *roomChannel) addLikes(n int) {
	ch.mu.Lock()
	ch.pending += int64(n)
	ch.mu.Unlock()
}

// tick stores pending likes and broadcasts the total every LikesInterval,
// and the presence counts when they changed, at most every
// PresenceInterval. On stop it stores the likes still pending.
func (ch *roomChannel) tick() {
	defer close(ch.stopped)
	cfg := &ch.s.cfg
	t := time.NewTicker(cfg.LikesInterval)
	defer t.Stop()
	var lastPresence time.Time
	for {
		select {
		case <-ch.stop:
			ch.flushLikes(false)
			return
		case <-t.C:
		}
		ch.flushLikes(true)
		now := time.Now()
		if ch.s.cluster {
			ch.announce(now)
		}
		if now.Sub(lastPresence) >= cfg.PresenceInterval {
			if ch.presence() {
				lastPresence = now
			}
		}
		ch.keepAlive(now)
	}
}

// keepAlive pings every client each PingInterval and closes, PongTimeout
// after a ping, the clients from which nothing arrived since it.
func (ch *roomChannel) keepAlive(now time.Time) {
	cfg := &ch.s.cfg
	ch.mu.Lock()
	defer ch.mu.Unlock()
	if ch.pingAt.IsZero() {
		ch.pingAt = now // the clients that join now were just seen
	}
	if ch.pongDue && now.Sub(ch.pingAt) >= cfg.PongTimeout {
		ch.pongDue = false
		for c := range ch.clients {
			if c.lastSeen.Load() < ch.pingAt.UnixNano() {
				c.close(websocket.CloseGoingAway, "ping timeout")
			}
		}
	}
	if now.Sub(ch.pingAt) >= cfg.PingInterval {
		ch.pingAt, ch.pongDue = now, true
		for c := range ch.clients {
			c.enqueue(ch.s.pingFrame)
		}
	}
}

// flushLikes stores the pending likes and, if publish, publishes the new
// total to every node.
func (ch *roomChannel) flushLikes(publish bool) {
	ch.mu.Lock()
	n := ch.pending
	ch.pending = 0
	ch.mu.Unlock()
	if n == 0 {
		return
	}
	// The final flush runs at shutdown too: it must not be cancelled.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ch.s.ctx), 5*time.Second)
	defer cancel()
	total, err := ch.s.st.AddLikes(ctx, ch.id, n)
	if err != nil {
		ch.s.log.Error("chat: storing likes", "room", ch.id, "likes", n, "err", err)
		return
	}
	if !publish {
		return
	}
	// Every node, this one too, takes the total from the event.
	if err := ch.s.publish(ctx, ch.id, event{Kind: evLikes, Total: total, Frame: mustJSON(likesFrame{Type: "likes", Total: total})}); err != nil {
		ch.s.log.Warn("chat: likes total not published", "room", ch.id, "err", err)
	}
}

// presence broadcasts the online (over all nodes) and viewer counts to
// local clients if they changed since the last broadcast, and reports
// whether it did.
func (ch *roomChannel) presence() bool {
	viewers := ch.s.viewers(ch.stream)
	ch.mu.Lock()
	defer ch.mu.Unlock()
	online := ch.onlineLocked(time.Now())
	if online == ch.lastOnline && viewers == ch.lastViews {
		return false
	}
	ch.lastOnline, ch.lastViews = online, viewers
	ch.broadcastLocked(outFrame{b: mustJSON(presenceFrame{Type: "presence", Online: online, Viewers: viewers}), class: classPresence})
	return true
}
