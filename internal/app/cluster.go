package app

import (
	"context"
	"log/slog"
	"net"
	"time"

	"github.com/nats-io/nats.go"

	"roomcast/internal/api"
	"roomcast/internal/cluster"
	"roomcast/internal/config"
	"roomcast/internal/hub"
	rtmpserver "roomcast/internal/server/rtmp"
	"roomcast/internal/store"
)

// clusterNode is this process's part of a cluster (-nats-url): the node
// and its NATS connection, and how to stop it. A nil *clusterNode is a
// single node and every method is a no-op.
type clusterNode struct {
	node   *cluster.Node
	log    *slog.Logger
	cancel context.CancelFunc
	done   chan struct{}
}

// joinCluster joins the cluster over nc, the NATS connection of -nats-url;
// it returns nil for a single node (nc nil).
func joinCluster(ctx context.Context, cfg config.Config, h *hub.Hub, nc *nats.Conn, log *slog.Logger) (*clusterNode, error) {
	if nc == nil {
		return nil, nil
	}
	log = log.With("component", "cluster")
	node, err := cluster.New(ctx, nc, h, cluster.Config{
		Node:        cfg.Cluster.Node(),
		Addr:        cfg.Cluster.NodeAddr,
		Key:         cfg.Cluster.Key,
		App:         cfg.RTMP.App,
		RelayLinger: cfg.Cluster.RelayLinger,
		Takeover:    cfg.Hub.Takeover,
	}, log)
	if err != nil {
		return nil, err
	}
	log.Info("joined the cluster", "node", node.ID(), "addr", cfg.Cluster.NodeAddr)
	return &clusterNode{node: node, log: log}, nil
}

// nodeAddr is -node-addr, or the RTMP listen address when it names a host,
// or the host name and the bound RTMP port.
func nodeAddr(cfg config.Config, rtmp net.Addr) string {
	if cfg.Cluster.NodeAddr != "" {
		return cfg.Cluster.NodeAddr
	}
	if host, _, err := net.SplitHostPort(cfg.RTMPAddr); err == nil && host != "" {
		if ip := net.ParseIP(host); ip == nil || !ip.IsUnspecified() {
			return rtmp.String()
		}
	}
	return cfg.Cluster.Addr(rtmp.String())
}

// orphanSweepEvery is how often a node looks for lives no node holds.
const orphanSweepEvery = 5 * time.Second

// startCluster runs the node's heartbeats and relays, and the sweep that
// ends lives no node holds any more (their node died and their host did
// not come back elsewhere).
func (c *components) startCluster(cfg config.Config) {
	cn := c.cluster
	if cn == nil {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	cn.cancel, cn.done = cancel, make(chan struct{})
	orphans := &cluster.Orphans{
		Live:  func(ctx context.Context) ([]string, error) { return c.rooms.LiveStreams(ctx, "") },
		Local: func(stream string) bool { return c.hub.Stream(stream) != nil },
		End: func(stream string) {
			c.sync.Handle(hub.Event{Type: hub.EventEnded, Stream: stream, Time: time.Now()})
		},
		After: cfg.Hub.ReconnectGrace + cluster.DefaultTTL,
	}
	log := cn.log
	done := make(chan struct{}, 2)
	go func() {
		defer func() { done <- struct{}{} }()
		_ = cn.node.Run(ctx)
	}()
	go func() {
		defer func() { done <- struct{}{} }()
		t := time.NewTicker(orphanSweepEvery)
		defer t.Stop()
		lastRecover := time.Now()
		for {
			select {
			case <-ctx.Done():
				return
			case now := <-t.C:
				if err := orphans.Sweep(ctx, cn.node, now); err != nil && ctx.Err() == nil {
					log.Warn("orphaned lives not checked", "err", err)
				}
				if now.Sub(lastRecover) >= recoverEvery {
					lastRecover = now
					if err := c.rec.Recover(ctx); err != nil && ctx.Err() == nil {
						log.Warn("unfinished recordings of other nodes not all recovered", "err", err)
					}
				}
			}
		}
	}()
	go func() {
		<-done
		<-done
		close(cn.done)
	}()
}

// stop stops the relays and gives up this node's directory entries; the
// streams' end events that follow are still filtered. Call it before the
// hub closes, so that no relay publishes into a closing hub.
func (cn *clusterNode) stop() {
	if cn == nil || cn.cancel == nil {
		return
	}
	cn.cancel()
	<-cn.done
}

// events wraps a hub listener so that it sees only the events this node
// speaks for (see cluster.Node.Events).
func (cn *clusterNode) events(fn func(hub.Event)) func(hub.Event) {
	if cn == nil {
		return fn
	}
	return cn.node.Events(fn)
}

// recordMovedLives makes the recorder record a live that was relayed here
// and whose publisher moved here (the hub sees it continue, so the
// recorder's own start does not fire; the node it came from finished its
// recording at the move).
func (c *components) recordMovedLives() {
	cn := c.cluster
	if cn == nil {
		return
	}
	c.hub.OnEvent(func(e hub.Event) {
		if cn.node.PublishedOverRelay(e) {
			c.rec.Start(e)
		}
	})
}

// recoverIdle is how long a recording's files must not have changed before
// a node of a cluster finishes it as left unfinished: another node may be
// writing it (a playlist is rewritten at every segment).
const recoverIdle = 2 * time.Minute

// recoverEvery is how often a node of a cluster finishes the recordings
// other nodes left unfinished (they died).
const recoverEvery = time.Minute

// recoverable is record.Config.Recoverable: nil for one node; in a
// cluster, a recording is finished by one node once its files have been
// idle for recoverIdle.
func (cn *clusterNode) recoverable() func(store.Recording, time.Time) bool {
	if cn == nil {
		return nil
	}
	return func(rec store.Recording, lastWrite time.Time) bool {
		if time.Since(lastWrite) < recoverIdle {
			return false
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		won, err := cn.node.ClaimOnce(ctx, "recording."+rec.ID)
		if err != nil {
			cn.log.Warn("unfinished recording left for later", "recording", rec.ID, "err", err)
		}
		return won
	}
}

// viewers returns local, this node's viewer count of a stream, or in a
// cluster the count over all nodes (what rooms show).
func (cn *clusterNode) viewers(local func(string) int) func(string) int {
	if cn == nil {
		return local
	}
	return cn.node.Viewers
}

// relayed reports whether the stream is relayed here from another node.
func (cn *clusterNode) relayed(stream string) bool {
	return cn != nil && cn.node.Relayed(stream)
}

// api returns the API's cluster view, or nil for a single node.
func (cn *clusterNode) api() api.Cluster {
	if cn == nil {
		return nil
	}
	return clusterAPI{cn.node}
}

// clusterAPI adapts the node to api.Cluster.
type clusterAPI struct{ n *cluster.Node }

var _ api.Cluster = clusterAPI{}

// Streams implements api.Cluster.
func (c clusterAPI) Streams(ctx context.Context) ([]api.StreamView, error) {
	all, err := c.n.Streams(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]api.StreamView, len(all))
	for i, s := range all {
		out[i] = api.StreamView{Stats: s.Stats, Node: s.Node}
	}
	return out, nil
}

// Kick implements api.Cluster.
func (c clusterAPI) Kick(ctx context.Context, stream string) error { return c.n.Kick(ctx, stream) }

// clusterPublish claims a stream for a local publisher the room rules let
// in; a stream live on another node is refused.
func (a *access) clusterPublish(ctx context.Context, stream string) error {
	if a.cluster == nil {
		return nil
	}
	return a.cluster.node.ClaimPublish(ctx, stream)
}

// relayPlay handles a play request that carries relay parameters: it is
// let in with a valid cluster credential (bypassing the room's play rule)
// and refused otherwise. ok is false for an ordinary play request.
func (a *access) relayPlay(req rtmpserver.Request) (ok bool, err error) {
	if a.cluster == nil || !cluster.IsRelay(req.Query) {
		return false, nil
	}
	if _, err := a.cred.Verify(req.Query, req.Stream, time.Now()); err != nil {
		return true, err
	}
	return true, nil
}

// internalPlayer tells the RTMP server which players are other nodes'
// relays (not counted as viewers): those with a valid credential.
func (a *access) internalPlayer(req rtmpserver.Request) bool {
	ok, err := a.relayPlay(req)
	return ok && err == nil
}

// clusterPlay makes a stream held by another node playable here; source
// is the stream whose node holds it (stream itself, or the source of a
// rendition of the quality ladder, made on its source's node).
func (a *access) clusterPlay(ctx context.Context, stream, source string) {
	if a.cluster != nil {
		a.cluster.node.EnsurePlay(ctx, stream, source)
	}
}
