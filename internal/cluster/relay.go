package cluster

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"roomcast/internal/hub"
	"roomcast/internal/media"
	"roomcast/internal/protocol/rtmp"
)

// ensureWait bounds how long a viewer's play waits for a new relay.
const ensureWait = 5 * time.Second

// Relay retry delays: after a failed pull, and how often a running pull
// checks that its source still holds the stream.
const (
	retryDelay  = 200 * time.Millisecond
	sourceCheck = 500 * time.Millisecond
)

// errLocalPublisher ends a relay: the stream got a publisher here.
var errLocalPublisher = errors.New("cluster: the stream is published on this node")

// relay pulls one stream from the node holding it into the local hub.
type relay struct {
	name    string
	holder  string // the stream whose directory entry says where name is
	cancel  context.CancelFunc
	done    chan struct{}
	ready   chan struct{} // closed once the relay publishes into the hub
	once    sync.Once
	started time.Time
	idle    time.Time // since when it has had no viewers; guarded by Node.mu
}

func (r *relay) markReady() { r.once.Do(func() { close(r.ready) }) }

func (r *relay) stop() {
	r.cancel()
	<-r.done
}

// EnsurePlay makes a stream held by another node playable here before a
// local viewer subscribes: it starts a relay (one per stream per node) and
// waits until it publishes into the hub. The play-authorization path of
// every protocol calls it once the room's rules allowed the viewer. A
// stream live here, unknown to the directory, or held by this node needs
// nothing; the viewer then finds it or not as on one node. holder is the
// stream whose node has name: name itself, or for a rendition of the
// quality ladder its source (renditions are made on their source's node
// and have no directory entry of their own).
func (n *Node) EnsurePlay(ctx context.Context, name, holder string) {
	if holder == "" {
		holder = name
	}
	n.mu.Lock()
	r := n.relays[name]
	_, own := n.owned[name]
	n.mu.Unlock()
	if r == nil {
		if own {
			return // published here, or waiting here for its publisher
		}
		if s := n.hub.Stream(name); s != nil && s.Live() {
			return // live here already
		}
		lctx, cancel := context.WithTimeout(ctx, n.cfg.RequestTimeout)
		e, err := n.dir.get(lctx, streamKey(holder))
		cancel()
		if err != nil {
			if !errors.Is(err, errNoEntry) {
				n.log.Warn("stream directory lookup failed", "stream", name, "err", err)
			}
			return
		}
		if e.Node == n.cfg.Node {
			return
		}
		if r = n.startRelay(name, holder); r == nil {
			return
		}
	}
	t := time.NewTimer(ensureWait)
	defer t.Stop()
	select {
	case <-r.ready:
	case <-r.done:
	case <-ctx.Done():
	case <-t.C:
		n.log.Warn("relay not ready in time", "stream", name, "waited", ensureWait)
	}
}

// startRelay starts the relay of the named stream unless one runs or this
// node holds the stream or is shutting down; it returns the running relay.
func (n *Node) startRelay(name, holder string) *relay {
	n.mu.Lock()
	defer n.mu.Unlock()
	if r := n.relays[name]; r != nil {
		return r
	}
	if _, own := n.owned[name]; own || n.closing || n.ctx == nil || n.ctx.Err() != nil {
		return nil
	}
	ctx, cancel := context.WithCancel(n.ctx)
	r := &relay{name: name, holder: holder, cancel: cancel, done: make(chan struct{}), ready: make(chan struct{}), started: time.Now()}
	n.relays[name] = r
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		defer close(r.done)
		n.runRelay(ctx, r)
		n.mu.Lock()
		if n.relays[name] == r {
			delete(n.relays, name)
		}
		n.mu.Unlock()
	}()
	n.log.Info("relay started", "stream", name)
	return r
}

// stopRelay stops the named stream's relay, if any, and waits until its
// publisher has left the hub.
func (n *Node) stopRelay(name string) {
	n.mu.Lock()
	r := n.relays[name]
	delete(n.relays, name)
	n.mu.Unlock()
	if r != nil {
		r.stop()
		n.mu.Lock()
		n.fromRelay[name] = true
		n.mu.Unlock()
		n.log.Info("relay stopped: the stream is published here", "stream", name)
	}
}

// stopIdleRelays stops relays that have had no local viewer for the
// linger time.
func (n *Node) stopIdleRelays(now time.Time) {
	n.mu.Lock()
	var idle []*relay
	for name, r := range n.relays {
		viewers := 0
		if s := n.hub.Stream(name); s != nil {
			viewers = s.Stats().Viewers
		}
		switch {
		case viewers > 0:
			r.idle = time.Time{}
		case r.idle.IsZero():
			r.idle = now
		case now.Sub(r.idle) >= n.cfg.RelayLinger:
			delete(n.relays, name)
			idle = append(idle, r)
		}
	}
	n.mu.Unlock()
	for _, r := range idle {
		r.stop()
		n.log.Info("relay stopped: no viewers", "stream", r.name, "linger", n.cfg.RelayLinger)
	}
}

// runRelay pulls the stream from whichever node holds it until ctx ends
// or the stream gets a local publisher. Between pulls the hub's stream
// waits in its reconnect grace, so viewers keep their connections.
func (n *Node) runRelay(ctx context.Context, r *relay) {
	for ctx.Err() == nil {
		lctx, cancel := context.WithTimeout(ctx, n.cfg.RequestTimeout)
		e, err := n.dir.get(lctx, streamKey(r.holder))
		cancel()
		switch {
		case err == nil && e.Node != n.cfg.Node:
			err = n.pull(ctx, r, e)
			if errors.Is(err, errLocalPublisher) {
				return
			}
			if ctx.Err() == nil {
				n.log.Info("relay interrupted; looking the stream up again", "stream", r.name, "node", e.Node, "err", err)
			}
		case err == nil:
			// The stream moved here; its publisher stops the relay.
		case errors.Is(err, errReleased):
			// The stream ended on its node: end it here too, rather than
			// keep the viewers waiting for a publisher.
			if n.hub.End(r.name) == nil {
				n.log.Info("relayed stream ended on its node", "stream", r.name)
			}
			return
		case !errors.Is(err, errNoEntry):
			n.log.Warn("stream directory lookup failed", "stream", r.name, "err", err)
		}
		select {
		case <-ctx.Done():
		case <-time.After(retryDelay):
		}
	}
}

// pull plays the stream from src's node and publishes it into the hub
// until the connection ends, src no longer holds the stream, or ctx ends.
func (n *Node) pull(ctx context.Context, r *relay, src Entry) error {
	dctx, cancel := context.WithTimeout(ctx, n.cfg.DialTimeout)
	defer cancel()
	q := n.cred.Query(r.name, n.cfg.Node, time.Now())
	u := fmt.Sprintf("rtmp://%s/%s/%s?%s", src.Addr, n.cfg.App, r.name, q.Encode())
	c, err := rtmp.Dial(dctx, u)
	if err != nil {
		return fmt.Errorf("relay from %s (%s): %w", src.Node, src.Addr, err)
	}
	defer c.Close()
	if err := c.Play(dctx); err != nil {
		return fmt.Errorf("relay from %s: play: %w", src.Node, err)
	}
	if n.localPublisher(r.name) {
		return errLocalPublisher
	}
	pub, err := n.hub.Publish(r.name, hub.PublisherInfo{Protocol: RelayProtocol, RemoteAddr: src.Node + "/" + src.Addr})
	if errors.Is(err, hub.ErrStreamBusy) {
		return errLocalPublisher
	}
	if err != nil {
		return fmt.Errorf("relay into the hub: %w", err)
	}
	var reason error
	defer func() { pub.Close(reason) }()
	r.markReady()
	n.log.Debug("relaying", "stream", r.name, "from", src.Node)

	// Watch the source: a new holder or ctx's end closes the connection,
	// which ends the read loop below.
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		t := time.NewTicker(sourceCheck)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-ctx.Done():
				c.Close()
				return
			case <-t.C:
				lctx, cancel := context.WithTimeout(ctx, n.cfg.RequestTimeout)
				cur, err := n.dir.get(lctx, streamKey(r.holder))
				cancel()
				if err == nil && cur.Node != src.Node {
					n.log.Info("stream moved; relaying from its new node", "stream", r.name, "from", src.Node, "to", cur.Node)
					c.Close()
					return
				}
			}
		}
	}()
	var unwrap [2]media.Unwrapper // audio (and data), video
	var batch []*media.Packet
	for {
		if err := c.SetDeadline(time.Now().Add(n.cfg.ReadTimeout)); err != nil {
			reason = err
			return err
		}
		m, err := c.ReadMessage()
		if err != nil {
			reason = err
			return err
		}
		if pkt, err := relayPacket(m, &unwrap); err != nil {
			reason = err
			return fmt.Errorf("relay from %s: %w", src.Node, err)
		} else if pkt != nil {
			batch = append(batch, pkt)
		}
		if c.Buffered() && len(batch) < maxBatch {
			continue // more of what the origin sent together
		}
		err = pub.WriteBatch(batch)
		clear(batch)
		batch = batch[:0]
		if err != nil {
			reason = err
			if errors.Is(err, hub.ErrTakenOver) {
				return errLocalPublisher
			}
			return fmt.Errorf("relay into the hub: %w", err)
		}
	}
}

// maxBatch bounds the packets a relay hands to the hub at once.
const maxBatch = 64

// relayPacket turns a message from the origin into a packet for the hub;
// it returns nil for messages that carry none.
func relayPacket(m *rtmp.Message, unwrap *[2]media.Unwrapper) (*media.Packet, error) {
	if len(m.Data) == 0 {
		return nil, nil
	}
	var tag media.TagType
	track := 0
	switch m.Type {
	case rtmp.TypeAudio:
		tag = media.TagAudio
	case rtmp.TypeVideo:
		tag, track = media.TagVideo, 1
	case rtmp.TypeDataAMF0:
		tag = media.TagScript
	default:
		return nil, nil
	}
	return media.NewPacket(tag, unwrap[track].Unwrap(m.Timestamp), m.Data)
}
