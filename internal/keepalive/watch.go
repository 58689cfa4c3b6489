package keepalive

import (
	"context"
	"sync"
	"time"

	"roomcast/internal/sockio"
)

// requestContext is the context of a request served by the loop: the
// Server's, and cancelled when the client leaves. Watching for the client
// costs a goroutine and a wait on the socket, so it starts only when a
// handler asks for Done (one that waits, such as a blocking playlist
// reload); a request that never waits pays nothing for it.
type requestContext struct {
	context.Context // the Server's
	c               *conn

	mu      sync.Mutex
	ctx     context.Context // with cancel, made by the first Done
	cancel  context.CancelFunc
	watched chan struct{} // closed when the watcher returns
}

// Done implements context.Context: the first call starts the watch.
func (x *requestContext) Done() <-chan struct{} {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.ctx == nil {
		x.ctx, x.cancel = context.WithCancel(x.Context)
		x.watched = make(chan struct{})
		go x.watch()
	}
	return x.ctx.Done()
}

// Err implements context.Context.
func (x *requestContext) Err() error {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.ctx == nil {
		return x.Context.Err()
	}
	return x.ctx.Err()
}

// watch cancels the request when the client closes or resets its
// connection; data (a pipelined request) ends the watch and is left for
// the loop to read.
func (x *requestContext) watch() {
	defer close(x.watched)
	raw := x.c.raw
	if raw == nil {
		<-x.ctx.Done()
		return
	}
	if gone, _ := sockio.WaitReadable(raw); gone {
		x.cancel()
	}
}

// end stops the watch, if one started, once the response is done.
func (x *requestContext) end() {
	x.mu.Lock()
	started := x.ctx != nil
	x.mu.Unlock()
	if !started {
		return
	}
	if x.c.raw != nil {
		// The wait ends at its deadline; the loop sets the next one.
		_ = x.c.nc.SetReadDeadline(time.Unix(1, 0))
	}
	x.cancel()
	<-x.watched
}
