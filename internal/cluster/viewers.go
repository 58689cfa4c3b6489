package cluster

import (
	"context"
	"time"
)

// Viewer counts of other nodes are gathered every viewersEvery while they
// are asked for (within viewersWanted), and used while fresher than
// viewersFresh.
const (
	viewersEvery  = 2 * time.Second
	viewersWanted = 30 * time.Second
	viewersFresh  = 10 * time.Second
)

// viewerCounts is the last gathering of the other nodes' viewer counts.
type viewerCounts struct {
	asked    time.Time                 // last Viewers call
	gathered time.Time                 // when byNode was gathered
	byNode   map[string]map[string]int // stream → node → viewers
}

// Viewers returns the viewers of the named stream over the cluster: this
// node's now, plus the other nodes' as gathered at most a few seconds ago
// (rooms show it). Relays between nodes are not viewers.
func (n *Node) Viewers(name string) int {
	total := 0
	if s := n.hub.Stream(name); s != nil {
		total = s.Stats().Viewers
	}
	n.vmu.Lock()
	defer n.vmu.Unlock()
	n.counts.asked = time.Now()
	if time.Since(n.counts.gathered) > viewersFresh {
		return total
	}
	for node, v := range n.counts.byNode[name] {
		if node != n.cfg.Node {
			total += v
		}
	}
	return total
}

// gatherViewers refreshes the other nodes' viewer counts if they were
// asked for lately.
func (n *Node) gatherViewers(ctx context.Context, now time.Time) {
	n.vmu.Lock()
	wanted := now.Sub(n.counts.asked) < viewersWanted
	n.vmu.Unlock()
	if !wanted {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, n.cfg.RequestTimeout*2)
	defer cancel()
	nodes, err := n.dir.list(ctx, "n.")
	if err != nil {
		n.log.Debug("viewer counts not gathered", "err", err)
		return
	}
	replies, err := n.gather(ctx, max(len(nodes), 1))
	if err != nil {
		n.log.Debug("viewer counts not gathered", "err", err)
		return
	}
	byNode := make(map[string]map[string]int)
	for _, r := range replies {
		for _, st := range r.Streams {
			if st.Viewers == 0 {
				continue
			}
			if byNode[st.Name] == nil {
				byNode[st.Name] = make(map[string]int)
			}
			byNode[st.Name][r.Node] = st.Viewers
		}
	}
	n.vmu.Lock()
	n.counts.byNode, n.counts.gathered = byNode, time.Now()
	n.vmu.Unlock()
}
