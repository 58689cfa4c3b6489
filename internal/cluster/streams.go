package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"

	"github.com/nats-io/nats.go"

	"roomcast/internal/hub"
)

// StreamStats is a stream seen from the whole cluster: the statistics of
// the node holding its publisher, with the viewers of every node summed.
type StreamStats struct {
	hub.Stats
	// Node holds the stream's publisher (or, for a stream no node claims,
	// the node reporting it).
	Node string `json:"node"`
}

// statsReply is one node's answer to a stats request.
type statsReply struct {
	Node    string      `json:"node"`
	Streams []hub.Stats `json:"streams"`
}

// answerStats answers a stats request with this node's streams.
func (n *Node) answerStats(m *nats.Msg) {
	streams := n.hub.Streams()
	out := statsReply{Node: n.cfg.Node, Streams: make([]hub.Stats, 0, len(streams))}
	for _, s := range streams {
		out.Streams = append(out.Streams, s.Stats())
	}
	b, err := json.Marshal(out)
	if err != nil {
		n.log.Warn("stats reply not encoded", "err", err)
		return
	}
	_ = m.Respond(b)
}

// Streams returns the cluster's streams sorted by name: every node is asked
// for its streams (scatter-gather over NATS, bounded by the request
// timeout); the directory says which node holds each.
func (n *Node) Streams(ctx context.Context) ([]StreamStats, error) {
	ctx, cancel := context.WithTimeout(ctx, n.cfg.RequestTimeout*2)
	defer cancel()
	nodes, err := n.dir.list(ctx, "n.")
	if err != nil {
		return nil, err
	}
	holders, err := n.dir.list(ctx, "s.")
	if err != nil {
		return nil, err
	}
	replies, err := n.gather(ctx, max(len(nodes), 1))
	if err != nil {
		return nil, err
	}
	return merge(replies, holders), nil
}

// Stream returns the named stream seen from the cluster, or an error
// wrapping hub.ErrNotFound.
func (n *Node) Stream(ctx context.Context, name string) (StreamStats, error) {
	all, err := n.Streams(ctx)
	if err != nil {
		return StreamStats{}, err
	}
	for _, s := range all {
		if s.Name == name {
			return s, nil
		}
	}
	return StreamStats{}, fmt.Errorf("stream %q: %w", name, hub.ErrNotFound)
}

// gather sends a stats request to every node and collects the replies
// until want arrived or the request timeout.
func (n *Node) gather(ctx context.Context, want int) ([]statsReply, error) {
	inbox := nats.NewInbox()
	sub, err := n.nc.SubscribeSync(inbox)
	if err != nil {
		return nil, fmt.Errorf("cluster stats: %w", err)
	}
	defer sub.Unsubscribe()
	if err := n.nc.PublishRequest(subjectStats, inbox, nil); err != nil {
		return nil, fmt.Errorf("cluster stats: %w", err)
	}
	wctx, cancel := context.WithTimeout(ctx, n.cfg.RequestTimeout)
	defer cancel()
	var out []statsReply
	seen := make(map[string]bool)
	for len(seen) < want {
		m, err := sub.NextMsgWithContext(wctx)
		if err != nil {
			if len(out) == 0 {
				return nil, fmt.Errorf("cluster stats: no node answered: %w", err)
			}
			n.log.Warn("cluster stats: not every node answered", "answered", len(out), "nodes", want)
			break
		}
		var r statsReply
		if err := json.Unmarshal(m.Data, &r); err != nil {
			n.log.Warn("cluster stats: bad reply", "err", err)
			continue
		}
		if !seen[r.Node] {
			seen[r.Node] = true
			out = append(out, r)
		}
	}
	return out, nil
}

// merge combines the nodes' streams: one entry per stream, with the
// holding node's statistics and the viewers summed over nodes.
func merge(replies []statsReply, holders map[string]Entry) []StreamStats {
	type acc struct {
		out    StreamStats
		origin bool // out.Stats comes from the holding node
		sum    map[string]int
		total  int
	}
	byName := make(map[string]*acc)
	for _, r := range replies {
		for _, st := range r.Streams {
			a := byName[st.Name]
			if a == nil {
				a = &acc{sum: make(map[string]int)}
				byName[st.Name] = a
			}
			isOrigin := holders[st.Name].Node == r.Node ||
				st.Publisher != nil && st.Publisher.Protocol != RelayProtocol
			if a.out.Name == "" || isOrigin && !a.origin {
				a.out = StreamStats{Stats: st, Node: r.Node}
				a.origin = isOrigin
			}
			for p, v := range st.ViewersByProtocol {
				a.sum[p] += v
			}
			a.total += st.Viewers
		}
	}
	out := make([]StreamStats, 0, len(byName))
	for name, a := range byName {
		if h, ok := holders[name]; ok {
			a.out.Node = h.Node
		}
		a.out.Viewers = a.total
		a.out.ViewersByProtocol = a.sum
		out = append(out, a.out)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Kick disconnects the named stream's publisher on whichever node holds
// it. It returns an error wrapping hub.ErrNotFound when no node has a
// publisher of the stream.
func (n *Node) Kick(ctx context.Context, name string) error {
	if n.localPublisher(name) {
		return n.hub.Kick(name)
	}
	ctx, cancel := context.WithTimeout(ctx, n.cfg.RequestTimeout*2)
	defer cancel()
	e, err := n.dir.get(ctx, streamKey(name))
	if errors.Is(err, errNoEntry) || err == nil && e.Node == n.cfg.Node {
		return fmt.Errorf("kick %q: %w", name, hub.ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("kick %q: %w", name, err)
	}
	m, err := n.nc.RequestWithContext(ctx, subjectKick+e.Node, []byte(name))
	if err != nil {
		return fmt.Errorf("kick %q on node %s: %w", name, e.Node, err)
	}
	if string(m.Data) != replyOK {
		return fmt.Errorf("kick %q on node %s: %w", name, e.Node, hub.ErrNotFound)
	}
	return nil
}

// answerKick kicks a local publisher at another node's request.
func (n *Node) answerKick(m *nats.Msg) {
	name := string(m.Data)
	reply := replyNotFound
	if n.localPublisher(name) && n.hub.Kick(name) == nil {
		reply = replyOK
		n.log.Info("publisher kicked at another node's request", "stream", name)
	}
	_ = m.Respond([]byte(reply))
}
