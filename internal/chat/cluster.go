package chat

import (
	"cmp"
	"context"
	"slices"
	"time"

	"roomcast/internal/store"
)

// What a node does for the other nodes of a cluster (Deps.Cluster): it
// tells them its count of each room's clients, so that `online` is the
// room's count over all nodes, and after an outage of the bus it catches up
// from the store with what the other nodes published meanwhile.

// reconnecter is a Bus that can tell when its connection came back after
// a loss (the NATS bus); nothing published meanwhile reached this node.
type reconnecter interface {
	OnReconnect(fn func()) (remove func())
}

// peerCount is another node's count of a room's clients, and when it
// was heard.
type peerCount struct {
	online int
	at     time.Time
}

// heartbeat is how often a node repeats an unchanged count: three times
// per PresenceTTL, so one lost announcement does not expire it.
func (c *Config) heartbeat() time.Duration { return c.PresenceTTL / 3 }

// peerLocked records another node's presence event. ch.mu must be held.
func (ch *roomChannel) peerLocked(e event, now time.Time) {
	if e.Node == ch.s.node {
		return
	}
	if e.Ask {
		ch.announcedAt = time.Time{} // announce at the next tick
	}
	if e.Online <= 0 {
		delete(ch.peers, e.Node)
		return
	}
	if ch.peers == nil {
		ch.peers = make(map[string]peerCount)
	}
	ch.peers[e.Node] = peerCount{online: e.Online, at: now}
}

// onlineLocked returns the room's clients on every node: this node's and
// the counts the other nodes announced within PresenceTTL (a node that
// died is forgotten after it). ch.mu must be held.
func (ch *roomChannel) onlineLocked(now time.Time) int {
	n := len(ch.clients)
	for node, p := range ch.peers {
		if now.Sub(p.at) > ch.s.cfg.PresenceTTL {
			delete(ch.peers, node)
			continue
		}
		n += p.online
	}
	return n
}

// announce publishes this node's count of the room's clients when it
// changed (at most every PresenceInterval), when another node asked, and
// every heartbeat. Called by the ticker, only in a cluster.
func (ch *roomChannel) announce(now time.Time) {
	cfg := &ch.s.cfg
	ch.mu.Lock()
	n := len(ch.clients)
	since := now.Sub(ch.announcedAt)
	due := since >= cfg.heartbeat() || n != ch.announced && since >= cfg.PresenceInterval
	if due {
		ch.announced, ch.announcedAt = n, now
	}
	ch.mu.Unlock()
	if due {
		ch.publishPresence(event{Kind: evPresence, Node: ch.s.node, Online: n})
	}
}

// publishPresence publishes a presence event of this node; it is not
// cut short by Close (a closing node tells the others it has no clients).
func (ch *roomChannel) publishPresence(e event) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ch.s.ctx), 5*time.Second)
	defer cancel()
	if err := ch.s.publish(ctx, ch.id, e); err != nil {
		ch.s.log.Warn("chat: presence not announced", "room", ch.id, "err", err)
	}
}

// resync runs after the bus came back from an outage, for every open
// room: the node asks for the other nodes' counts again and catches up
// from the store with what it may have missed.
func (s *Server) resync() {
	s.log.Info("chat: bus connection back; catching up", "rooms", len(s.channels.all()))
	for _, ch := range s.channels.all() {
		ch.resync()
	}
}

// resync catches the room's clients up with what happened while the bus
// was down: messages sent (and deleted) on other nodes, the announcement,
// and sanctions of connected users. Messages already delivered are not
// delivered again.
func (ch *roomChannel) resync() {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ch.s.ctx), 10*time.Second)
	defer cancel()
	ch.mu.Lock()
	ch.announcedAt = time.Time{}
	since := ch.lastSeq
	ch.mu.Unlock()
	ch.publishPresence(event{Kind: evPresence, Node: ch.s.node, Ask: true})

	ms, err := ch.s.st.ChatMessagesBefore(ctx, ch.id, 0, ch.s.cfg.MaxResume)
	if err != nil {
		ch.s.log.Error("chat: catching up after a bus outage", "room", ch.id, "err", err)
		return
	}
	ch.dropDeleted(ms, len(ms) < ch.s.cfg.MaxResume, since)
	if len(ms) == ch.s.cfg.MaxResume && since > 0 && ms[0].Seq > since+1 {
		// More was missed than is caught up: the clients are told, as
		// clients that fell behind are, and fetch the rest themselves.
		ch.apply(event{Kind: evFrame, Frame: mustJSON(skippedFrame{Type: "notice", Kind: NoticeSkipped, Count: int(ms[0].Seq - since - 1), LastSeq: ms[0].Seq - 1})})
	}
	for i := range ms {
		if ms[i].Seq > since {
			ch.apply(event{Kind: evChat, Seq: ms[i].Seq, ID: ms[i].ID, Frame: encodeChat(&ms[i])})
		}
	}
	if pinned, err := ch.s.st.ChatPin(ctx, ch.id); err == nil {
		ch.mu.Lock()
		changed := pinned != ch.pinned
		ch.mu.Unlock()
		if changed {
			f := noticeFrame{Type: "notice", Kind: NoticeUnpinned}
			if pinned != "" {
				f = noticeFrame{Type: "notice", Kind: NoticePinned, Text: pinned}
			}
			ch.apply(event{Kind: evPin, Text: pinned, Frame: mustJSON(f)})
		}
	}
	ch.resyncSanctions(ctx)
}

// dropDeleted removes from the ring, and from the clients' screens, the
// messages in the span of ms (the store's newest, oldest first, deleted
// ones left out; all when whole) that ms lacks: they were deleted while
// the bus was down. Every message up to since was known before the store
// was read.
func (ch *roomChannel) dropDeleted(ms []store.ChatMessage, whole bool, since int64) {
	var first, last int64
	if len(ms) > 0 {
		first, last = ms[0].Seq, ms[len(ms)-1].Seq
	}
	if whole {
		first, last = 0, max(last, since)
	}
	ch.mu.Lock()
	var gone []histEntry
	for _, h := range ch.history {
		if h.seq < first || h.seq > last {
			continue
		}
		if _, found := slices.BinarySearchFunc(ms, h.seq, func(m store.ChatMessage, seq int64) int { return cmp.Compare(m.Seq, seq) }); !found {
			gone = append(gone, h)
		}
	}
	ch.mu.Unlock()
	for _, h := range gone {
		ch.apply(event{Kind: evDeleted, ID: h.id, Frame: mustJSON(deletedFrame{Type: "deleted", ID: h.id, Seq: h.seq})})
	}
}

// resyncSanctions applies the stored sanctions of the room's connected
// users: a ban or kick made on another node while the bus was down
// disconnects them, a mute or unmute takes effect.
func (ch *roomChannel) resyncSanctions(ctx context.Context) {
	ch.mu.Lock()
	users := make(map[string]bool)
	for c := range ch.clients {
		if id := c.userID(); id != "" {
			users[id] = true
		}
	}
	ch.mu.Unlock()
	now := ch.s.cfg.Now()
	for id := range users {
		ss, err := ch.s.st.ChatSanctions(ctx, ch.id, id)
		if err != nil {
			ch.s.log.Error("chat: sanctions after a bus outage", "room", ch.id, "user", id, "err", err)
			return
		}
		var muted int64
		for _, sc := range ss {
			if !sc.Active(now) {
				continue
			}
			switch sc.Kind {
			case store.SanctionBan:
				ch.apply(event{Kind: evKick, UserID: id, Text: "banned", Frame: mustJSON(sanctionFrame{Type: "banned", Until: unixMilli(sc.Until)})})
			case store.SanctionKick:
				ch.apply(event{Kind: evKick, UserID: id, Text: "kicked", Frame: mustJSON(sanctionFrame{Type: "kicked", Until: unixMilli(sc.Until)})})
			case store.SanctionMute:
				muted = 1 << 62
				if sc.Until != nil {
					muted = sc.Until.UnixMilli()
				}
			}
		}
		ch.mu.Lock()
		for c := range ch.clients {
			if c.userID() != id {
				continue
			}
			switch was := c.mutedUntil.Load(); {
			case muted != 0 && was != muted:
				c.mutedUntil.Store(muted)
				c.sendJSON(mustJSON(sanctionFrame{Type: "muted", Until: muted}))
			case muted == 0 && was != 0 && was > now.UnixMilli():
				c.mutedUntil.Store(0)
				c.sendJSON(mustJSON(sanctionFrame{Type: "unmuted"}))
			}
		}
		ch.mu.Unlock()
	}
}
