package cluster

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Orphans ends the lives that no node holds any more: a room stays live in
// the shared database when its node died and its host did not come back on
// another node. Every node runs it; one ends each orphan.
type Orphans struct {
	// Live lists the streams of the rooms the database says are live.
	Live func(ctx context.Context) ([]string, error)
	// Local reports whether this node's hub has the stream (its live is
	// here, perhaps waiting for its publisher).
	Local func(stream string) bool
	// End ends the stream's live (room status, webhooks, chat notice).
	End func(stream string)
	// After is how long a live must have no holder before it is ended:
	// the reconnect grace and the directory TTL, so that a moving host
	// has had its chance.
	After time.Duration

	since map[string]time.Time // orphan candidates, since when
}

// Sweep looks at the live rooms once; call it periodically. A live is
// ended after it has had no holder for After, on the one node that wins
// the directory's once-key for it.
func (o *Orphans) Sweep(ctx context.Context, n *Node, now time.Time) error {
	if o.since == nil {
		o.since = make(map[string]time.Time)
	}
	live, err := o.Live(ctx)
	if err != nil {
		return fmt.Errorf("orphan sweep: live rooms: %w", err)
	}
	seen := make(map[string]bool, len(live))
	for _, stream := range live {
		seen[stream] = true
		if o.Local(stream) {
			delete(o.since, stream)
			continue
		}
		held, err := n.Held(ctx, stream)
		if err != nil {
			return fmt.Errorf("orphan sweep: %w", err) // judge nothing without the directory
		}
		if held {
			delete(o.since, stream)
			continue
		}
		first, ok := o.since[stream]
		if !ok {
			o.since[stream] = now
			continue
		}
		if now.Sub(first) < o.After {
			continue
		}
		delete(o.since, stream)
		won, err := n.ClaimOnce(ctx, "live."+stream)
		if err != nil {
			return fmt.Errorf("orphan sweep: %w", err)
		}
		if won {
			n.log.Info("ending a live no node holds any more", "stream", stream, "orphaned_for", now.Sub(first).Round(time.Second))
			o.End(stream)
		}
	}
	for stream := range o.since {
		if !seen[stream] {
			delete(o.since, stream)
		}
	}
	return nil
}

// Held reports whether a node holds the named stream now.
func (n *Node) Held(ctx context.Context, name string) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, n.cfg.RequestTimeout)
	defer cancel()
	_, err := n.dir.get(ctx, streamKey(name))
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, errNoEntry):
		return false, nil
	default:
		return false, err
	}
}

// ClaimOnce returns true on the one node that claims what (a key-value key
// suffix: letters, digits, "_-." ) within the directory's TTL, so that a
// cluster-wide chore runs once.
func (n *Node) ClaimOnce(ctx context.Context, what string) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, n.cfg.RequestTimeout)
	defer cancel()
	_, err := n.dir.create(ctx, "x."+what, n.self)
	if errors.Is(err, jetstream.ErrKeyExists) {
		return false, nil
	}
	return err == nil, err
}
