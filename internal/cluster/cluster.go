// Package cluster lets several roomcast nodes serve one set of streams.
// A stream directory in a NATS JetStream key-value bucket says which node
// holds each live stream's publisher (claimed atomically, renewed by a
// heartbeat, gone a few seconds after its node died). A node with viewers
// of a stream held elsewhere relays it: it pulls the stream once over RTMP,
// signed with the cluster key, and publishes it into its own hub, which
// fans it out with its own GOP cache. The hub does not know about nodes: a
// relay is just another publisher to it, with protocol RelayProtocol.
package cluster

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"roomcast/internal/hub"
)

// RelayProtocol is the hub publisher protocol of a relayed stream. Room
// status, webhooks, recording and publish metrics ignore such publishers:
// the node holding the real publisher does that.
const RelayProtocol = "relay"

// ErrNodeID refuses to start a node whose id another running node has.
var ErrNodeID = errors.New("cluster: duplicate node id")

// ErrBusy refuses a publisher of a stream that is live on another node.
var ErrBusy = errors.New("cluster: stream is being published on another node")

// NATS subjects of the requests between nodes.
const (
	subjectHolds = "roomcast.cluster.holds." // + node: is STREAM live here?
	subjectKick  = "roomcast.cluster.kick."  // + node: kick STREAM's publisher
	subjectStats = "roomcast.cluster.stats"  // every node: its streams' stats
	subjectMoved = "roomcast.cluster.moved." // + node: STREAM was taken over from you
)

// Replies of the holds and kick requests.
const (
	replyLive     = "live"
	replyIdle     = "idle"
	replyOK       = "ok"
	replyNotFound = "not_found"
)

// Config configures a node.
type Config struct {
	// Node is this node's id; Addr the RTMP host:port other nodes pull its
	// streams from.
	Node string
	Addr string
	// Key is the secret shared by all nodes (relay credential).
	Key string
	// App is the RTMP application ("live").
	App string
	// RelayLinger is how long a relay runs on after its last local viewer
	// left (at least minIdle).
	RelayLinger time.Duration
	// Takeover lets a publisher on this node replace a live publisher of
	// the same stream on another node (-publish-takeover).
	Takeover bool
	// TTL is the directory entries' lifetime without a heartbeat (default
	// DefaultTTL); heartbeats run every TTL/3.
	TTL time.Duration
	// RequestTimeout bounds a request to another node (default 1 s);
	// DialTimeout bounds connecting a relay (default 3 s); ReadTimeout ends
	// a relay whose origin sends nothing for this long (default 10 s).
	RequestTimeout time.Duration
	DialTimeout    time.Duration
	ReadTimeout    time.Duration
}

func (c Config) withDefaults() Config {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&c.TTL, DefaultTTL)
	def(&c.RequestTimeout, time.Second)
	def(&c.DialTimeout, 3*time.Second)
	def(&c.ReadTimeout, 10*time.Second)
	c.RelayLinger = max(c.RelayLinger, minIdle)
	return c
}

// minIdle is the shortest time a relay runs without viewers, so that the
// viewer whose play started it has time to subscribe.
const minIdle = time.Second

// claim is this node's directory entry for a stream it holds.
type claim struct {
	rev uint64    // 0: not yet written (the directory was unreachable)
	at  time.Time // when the claim was made
}

// Node is one roomcast process in a cluster.
type Node struct {
	cfg  Config
	nc   *nats.Conn
	dir  *directory
	hub  *hub.Hub
	cred Credential
	log  *slog.Logger
	self Entry

	mu        sync.Mutex
	owned     map[string]*claim
	moved     map[string]bool // streams taken over from another node, until published here
	fromRelay map[string]bool // streams whose relay a local publisher replaced, until published
	relays    map[string]*relay
	ctx       context.Context // relays' parent; set by Run
	closing   bool            // shutdown began: no new goroutines
	subs      []*nats.Subscription
	wg        sync.WaitGroup // relays and claim releases

	vmu    sync.Mutex
	counts viewerCounts
}

// New joins the cluster on nc: it opens the directory bucket and answers
// the other nodes' requests. Call Run for the heartbeats and relays.
func New(ctx context.Context, nc *nats.Conn, h *hub.Hub, cfg Config, log *slog.Logger) (*Node, error) {
	cfg = cfg.withDefaults()
	if cfg.Node == "" || cfg.Addr == "" || cfg.App == "" {
		return nil, errors.New("cluster: Node, Addr and App are required")
	}
	// Two running nodes with one id would take each other's streams.
	rctx, cancel := context.WithTimeout(ctx, cfg.RequestTimeout)
	_, err := nc.RequestWithContext(rctx, subjectHolds+cfg.Node, nil)
	cancel()
	if err == nil {
		return nil, fmt.Errorf("%w: node id %q is in use by a running node; give each node its own -node-id", ErrNodeID, cfg.Node)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, fmt.Errorf("cluster: jetstream: %w", err)
	}
	dir, err := openDirectory(ctx, js, cfg.TTL)
	if err != nil {
		return nil, fmt.Errorf("cluster: %w", err)
	}
	n := &Node{
		cfg:       cfg,
		nc:        nc,
		dir:       dir,
		hub:       h,
		cred:      NewCredential(cfg.Key),
		log:       log,
		self:      Entry{Node: cfg.Node, Addr: cfg.Addr, Since: time.Now().UTC()},
		owned:     make(map[string]*claim),
		moved:     make(map[string]bool),
		fromRelay: make(map[string]bool),
		relays:    make(map[string]*relay),
	}
	for subj, fn := range map[string]nats.MsgHandler{
		subjectHolds + cfg.Node: n.answerHolds,
		subjectKick + cfg.Node:  n.answerKick,
		subjectStats:            n.answerStats,
		subjectMoved + cfg.Node: n.onMoved,
	} {
		sub, err := nc.Subscribe(subj, fn)
		if err != nil {
			n.unsubscribe()
			return nil, fmt.Errorf("cluster: subscribe %s: %w", subj, err)
		}
		n.subs = append(n.subs, sub)
	}
	if err := nc.FlushTimeout(cfg.RequestTimeout * 5); err != nil {
		n.unsubscribe()
		return nil, fmt.Errorf("cluster: NATS: %w", err)
	}
	if err := dir.put(ctx, nodeKey(cfg.Node), n.self); err != nil {
		n.unsubscribe()
		return nil, fmt.Errorf("cluster: %w", err)
	}
	return n, nil
}

// ID returns this node's id.
func (n *Node) ID() string { return n.cfg.Node }

func (n *Node) unsubscribe() {
	for _, s := range n.subs {
		_ = s.Unsubscribe()
	}
	n.subs = nil
}

// Run renews this node's directory entries and stops idle relays until ctx
// ends; then it stops the relays and removes this node's entry. The claims
// of its streams are left to expire: a node going away does not end the
// cluster's lives, whose hosts reconnect to other nodes (which take the
// streams over at once, as this node no longer answers).
func (n *Node) Run(ctx context.Context) error {
	n.mu.Lock()
	n.ctx = ctx
	n.mu.Unlock()
	beat := time.NewTicker(n.cfg.TTL / 3)
	defer beat.Stop()
	idle := time.NewTicker(250 * time.Millisecond)
	defer idle.Stop()
	// Gathering waits for slow or dead nodes: not in the heartbeat's way.
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		t := time.NewTicker(viewersEvery)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case now := <-t.C:
				n.gatherViewers(ctx, now)
			}
		}
	}()
	for {
		select {
		case <-ctx.Done():
			n.shutdown()
			return nil
		case <-beat.C:
			n.heartbeat(ctx)
		case now := <-idle.C:
			n.stopIdleRelays(now)
		}
	}
}

func (n *Node) shutdown() {
	n.unsubscribe()
	n.mu.Lock()
	n.closing = true
	relays := n.relays
	n.relays = make(map[string]*relay)
	n.mu.Unlock()
	for _, r := range relays {
		r.stop()
	}
	n.wg.Wait()
	ctx, cancel := context.WithTimeout(context.Background(), n.cfg.RequestTimeout*2)
	defer cancel()
	if err := n.dir.kv.Delete(ctx, nodeKey(n.cfg.Node)); err != nil {
		n.log.Debug("node entry not removed at shutdown", "err", err)
	}
}

// heartbeat renews this node's entry and the claims of the streams it
// holds; it gives up the claims of streams that are gone, and learns of
// streams another node took over.
func (n *Node) heartbeat(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, n.cfg.RequestTimeout*2)
	defer cancel()
	if err := n.dir.put(ctx, nodeKey(n.cfg.Node), n.self); err != nil {
		n.log.Warn("cluster heartbeat failed", "err", err)
		return
	}
	n.mu.Lock()
	owned := make(map[string]claim, len(n.owned))
	for name, cl := range n.owned {
		owned[name] = *cl
	}
	n.mu.Unlock()
	for name, cl := range owned {
		if n.hub.Stream(name) == nil && time.Since(cl.at) > n.cfg.TTL {
			n.release(ctx, name, cl)
			continue
		}
		e := n.self
		e.Since = cl.at.UTC()
		var rev uint64
		var err error
		if cl.rev == 0 {
			rev, err = n.dir.create(ctx, streamKey(name), e)
		} else {
			rev, err = n.dir.update(ctx, streamKey(name), e, cl.rev)
		}
		if errors.Is(err, jetstream.ErrKeyExists) {
			// Not at our revision: expired (NATS was away) or taken.
			cur, gerr := n.dir.get(ctx, streamKey(name))
			switch {
			case errors.Is(gerr, errReleased):
				rev, err = n.dir.update(ctx, streamKey(name), e, cur.revision)
			case errors.Is(gerr, errNoEntry):
				rev, err = n.dir.create(ctx, streamKey(name), e)
			case gerr == nil && cur.Node != n.cfg.Node:
				n.lost(name, cur)
				continue
			case gerr == nil:
				rev, err = cur.revision, nil
			default:
				err = gerr
			}
		}
		if err != nil {
			n.log.Warn("stream claim not renewed", "stream", name, "err", err)
			continue
		}
		n.mu.Lock()
		if c := n.owned[name]; c != nil && c.at.Equal(cl.at) {
			c.rev = rev
		}
		n.mu.Unlock()
	}
}

// release gives up the claim cl (a copy of it) of a stream that ended
// here, unless a new claim or stream replaced it meanwhile. The entry's
// tombstone tells the edges that the stream ended.
func (n *Node) release(ctx context.Context, name string, cl claim) {
	n.mu.Lock()
	cur := n.owned[name]
	gone := cur != nil && cur.at.Equal(cl.at) && n.hub.Stream(name) == nil
	if gone {
		delete(n.owned, name)
		cl.rev = cur.rev
	}
	n.mu.Unlock()
	if !gone || cl.rev == 0 {
		return
	}
	e := n.self
	e.Since = cl.at.UTC()
	if err := n.dir.release(ctx, streamKey(name), e, cl.rev); err != nil && !errors.Is(err, jetstream.ErrKeyExists) {
		n.log.Debug("stream claim not removed", "stream", name, "err", err)
	}
}

// lost handles a stream that another node took over: a publisher still
// here is kicked, and viewers still here are fed by a relay from the new
// holder.
func (n *Node) lost(name string, holder Entry) {
	n.mu.Lock()
	delete(n.owned, name)
	n.mu.Unlock()
	n.log.Info("stream taken over by another node", "stream", name, "node", holder.Node)
	if n.localPublisher(name) {
		if err := n.hub.Kick(name); err == nil {
			n.log.Warn("publisher kicked: the stream is published on another node", "stream", name, "node", holder.Node)
		}
	}
	if n.hub.Stream(name) != nil {
		n.startRelay(name, name)
	}
}

// localPublisher reports whether the named stream has a live publisher
// here that is not a relay.
func (n *Node) localPublisher(name string) bool {
	s := n.hub.Stream(name)
	if s == nil || !s.Live() {
		return false
	}
	st := s.Stats()
	return st.Publisher != nil && st.Publisher.Protocol != RelayProtocol
}
