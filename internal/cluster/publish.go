package cluster

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"roomcast/internal/hub"
)

// ClaimPublish makes this node the holder of the named stream before a
// local publisher is attached to the hub; the publish-authorization path
// calls it once the room's rules allowed the publisher. It returns an
// error wrapping ErrBusy when the stream is live on another node. A claim
// held by a node that is dead (it does not answer) or whose publisher left
// (the stream waits in its reconnect grace) is taken over: the publisher
// moved here, and that node's viewers then relay from this one. A relay of
// the stream here is stopped, so that the local publisher continues it.
//
// When the directory is unreachable the publisher is let in and the claim
// is written by the next heartbeat: a NATS outage does not stop lives.
func (n *Node) ClaimPublish(ctx context.Context, name string) error {
	n.mu.Lock()
	_, own := n.owned[name]
	n.mu.Unlock()
	if own {
		n.stopRelay(name)
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, n.cfg.RequestTimeout*3)
	defer cancel()
	now := time.Now()
	e := n.self
	e.Since = now.UTC()
	key := streamKey(name)
	rev, err := n.dir.create(ctx, key, e)
	for attempt := 0; errors.Is(err, jetstream.ErrKeyExists) && attempt < 3; attempt++ {
		var cur Entry
		cur, err = n.dir.get(ctx, key)
		switch {
		case errors.Is(err, errReleased):
			// The stream ended on its node: a new live.
			rev, err = n.dir.update(ctx, key, e, cur.revision)
			continue
		case errors.Is(err, errNoEntry):
			rev, err = n.dir.create(ctx, key, e)
			continue
		case err != nil:
		case cur.Node == n.cfg.Node:
			// Our own entry from before a restart.
			rev, err = n.dir.update(ctx, key, e, cur.revision)
		default:
			if !n.cfg.Takeover {
				live, herr := n.askHolds(ctx, cur.Node, name)
				if herr == nil && live {
					return fmt.Errorf("%w: stream %q is being published on node %s", ErrBusy, name, cur.Node)
				}
				if herr != nil {
					n.log.Info("the node holding the stream does not answer; taking it over", "stream", name, "node", cur.Node, "err", herr)
				}
			}
			rev, err = n.dir.update(ctx, key, e, cur.revision)
			if err == nil {
				n.log.Info("stream moved to this node", "stream", name, "from", cur.Node)
				n.mu.Lock()
				n.moved[name] = true
				n.mu.Unlock()
				// Tell the node it left, so that its waiting viewers relay
				// from here now rather than at its next heartbeat.
				_ = n.nc.Publish(subjectMoved+cur.Node, []byte(name))
			}
		}
	}
	switch {
	case errors.Is(err, jetstream.ErrKeyExists):
		return fmt.Errorf("%w: stream %q was claimed by another node meanwhile", ErrBusy, name)
	case err != nil:
		n.log.Warn("stream directory unavailable; publishing without a claim until it is back", "stream", name, "err", err)
		rev = 0
	}
	n.mu.Lock()
	n.owned[name] = &claim{rev: rev, at: now}
	n.mu.Unlock()
	n.stopRelay(name)
	return nil
}

// askHolds asks node whether the named stream has a live publisher there.
func (n *Node) askHolds(ctx context.Context, node, name string) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, n.cfg.RequestTimeout)
	defer cancel()
	msg, err := n.nc.RequestWithContext(ctx, subjectHolds+node, []byte(name))
	if err != nil {
		return false, fmt.Errorf("ask node %s: %w", node, err)
	}
	return string(msg.Data) == replyLive, nil
}

// onMoved handles another node's notice that it took a stream over from
// this one: the directory is checked at once.
func (n *Node) onMoved(m *nats.Msg) {
	name := string(m.Data)
	n.mu.Lock()
	_, own := n.owned[name]
	running := !n.closing && n.ctx != nil
	if own && running {
		n.wg.Add(1)
	}
	n.mu.Unlock()
	if !own || !running {
		return
	}
	go func() {
		defer n.wg.Done()
		ctx, cancel := context.WithTimeout(n.ctx, n.cfg.RequestTimeout)
		defer cancel()
		if e, err := n.dir.get(ctx, streamKey(name)); err == nil && e.Node != n.cfg.Node {
			n.lost(name, e)
		}
	}()
}

// answerHolds answers another node's askHolds.
func (n *Node) answerHolds(m *nats.Msg) {
	reply := replyIdle
	if n.localPublisher(string(m.Data)) {
		reply = replyLive
	}
	_ = m.Respond([]byte(reply))
}

// Events returns a hub listener that passes to next only the events this
// node speaks for, as the cluster sees them. Register it in place of next;
// register it once, as it also gives up the claims of ended streams.
//
//   - A relay's publish and unpublish are dropped: the holding node
//     reports them.
//   - The first publish of a stream taken over from another node is
//     marked resumed: the live continues, it does not start again.
//   - The end of a stream this node does not hold is dropped (a relay
//     ending, or a stream that moved away while it waited here for its
//     publisher), and so is every end while the node shuts down: its
//     lives continue on the nodes their hosts reconnect to.
func (n *Node) Events(next func(hub.Event)) func(hub.Event) {
	return func(e hub.Event) {
		switch e.Type {
		case hub.EventPublished, hub.EventUnpublished:
			if e.Publisher.Protocol == RelayProtocol {
				return
			}
			if e.Type == hub.EventPublished {
				n.mu.Lock()
				if n.moved[e.Stream] {
					delete(n.moved, e.Stream)
					e.Resumed = true
				}
				n.mu.Unlock()
			}
		case hub.EventEnded:
			n.mu.Lock()
			cl := n.owned[e.Stream]
			running := !n.closing && (n.ctx == nil || n.ctx.Err() == nil)
			if cl != nil && running && n.ctx != nil {
				ctx := n.ctx
				c := *cl
				n.wg.Add(1)
				go func() {
					defer n.wg.Done()
					rctx, cancel := context.WithTimeout(ctx, n.cfg.RequestTimeout*2)
					defer cancel()
					n.release(rctx, e.Stream, c)
				}()
			}
			n.mu.Unlock()
			if cl == nil || !running {
				return
			}
		}
		next(e)
	}
}

// PublishedOverRelay reports, once, whether e is the publish of a local
// publisher that replaced this node's relay of the stream: the live moved
// here from another node, and this node now records it (the hub sees the
// stream continue, so nothing else starts the recording).
func (n *Node) PublishedOverRelay(e hub.Event) bool {
	if e.Type != hub.EventPublished || e.Publisher.Protocol == RelayProtocol {
		return false
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if !n.fromRelay[e.Stream] {
		return false
	}
	delete(n.fromRelay, e.Stream)
	return e.Resumed
}

// Relayed reports whether the named stream is relayed here from another
// node (the recorder skips such streams).
func (n *Node) Relayed(name string) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	_, ok := n.relays[name]
	return ok
}
