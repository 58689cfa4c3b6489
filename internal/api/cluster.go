package api

import (
	"context"
	"errors"
	"net/http"
	"sort"

	"roomcast/internal/hub"
)

// StreamView is a stream as GET /streams shows it: its statistics and the
// node that holds its publisher. In a cluster, viewers are summed over the
// nodes.
type StreamView struct {
	hub.Stats
	Node string `json:"node"`
}

// Cluster is the cluster-wide view of the streams (internal/cluster
// implements it); without one the API shows this node's hub.
type Cluster interface {
	// Streams returns the cluster's streams sorted by name.
	Streams(ctx context.Context) ([]StreamView, error)
	// Kick disconnects a stream's publisher on whichever node holds it; an
	// error wrapping hub.ErrNotFound means no node has one.
	Kick(ctx context.Context, stream string) error
}

// streamViews returns the streams of the cluster, or of this node.
func (a *API) streamViews(ctx context.Context) ([]StreamView, error) {
	if a.cluster != nil {
		views, err := a.cluster.Streams(ctx)
		if err != nil {
			return nil, &Error{Status: http.StatusServiceUnavailable, Code: "unavailable", Message: "the cluster's streams cannot be listed now: " + err.Error()}
		}
		return views, nil
	}
	streams := a.hub.Streams()
	out := make([]StreamView, 0, len(streams))
	for _, s := range streams {
		out = append(out, StreamView{Stats: s.Stats(), Node: a.node})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// kick disconnects a stream's publisher here or, in a cluster, on the node
// holding it. It returns an error wrapping hub.ErrNotFound when there is
// none.
func (a *API) kick(ctx context.Context, stream string) error {
	if a.cluster != nil {
		err := a.cluster.Kick(ctx, stream)
		if err != nil && !errors.Is(err, hub.ErrNotFound) {
			return &Error{Status: http.StatusServiceUnavailable, Code: "unavailable", Message: "the stream's node cannot be reached now: " + err.Error()}
		}
		return err
	}
	return a.hub.Kick(stream)
}
