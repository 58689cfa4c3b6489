package hls

import (
	"context"
	"strconv"
	"sync"
	"time"

	"roomcast/internal/hub"
	hlsproto "roomcast/internal/protocol/hls"
)

// maxClients bounds the clients remembered per stream for the viewer count.
const maxClients = 100_000

// liveStream is the HLS state of one stream instance: its segments, the
// rendered playlist and the clients seen. The muxer goroutine adds
// segments; HTTP handlers read under mu.
type liveStream struct {
	name   string
	token  string
	window int // segments in the playlist
	keep   int // segments kept: the window and as many again
	target time.Duration
	cancel context.CancelFunc

	mu       sync.Mutex
	hs       *hub.Stream // set once subscribed
	segs     []*segEntry
	ll       llState
	playlist []byte   // rendered for segs, nil before the first segment
	plLength []string // Content-Length of playlist
	maxDur   time.Duration
	ended    bool
	changed  chan struct{} // closed and replaced on every change
	clients  map[uint64]time.Time
	viewers  int
	// flushReq asks the muxer to end the open segment (the publisher left);
	// wake interrupts its wait for frames.
	flushReq bool
	wake     context.CancelFunc
}

func newLiveStream(name, token string, cfg Config, cancel context.CancelFunc) *liveStream {
	return &liveStream{
		ll:      newLLState(cfg),
		name:    name,
		token:   token,
		window:  cfg.WindowSegments,
		keep:    2*cfg.WindowSegments + 1,
		target:  cfg.TargetDuration,
		cancel:  cancel,
		changed: make(chan struct{}),
		clients: make(map[uint64]time.Time),
	}
}

func (ls *liveStream) setStream(hs *hub.Stream) {
	ls.mu.Lock()
	ls.hs = hs
	ls.mu.Unlock()
}

func (ls *liveStream) stream() *hub.Stream {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	return ls.hs
}

// add stores a new segment; called by the segmenter in the muxer goroutine.
// Segments that left the playlist stay fetchable for about the playlist's
// duration plus their own, as RFC 8216 6.2.2 requires.
func (ls *liveStream) add(seg *hlsproto.Segment) {
	now := time.Now()
	ls.mu.Lock()
	defer ls.mu.Unlock()
	seg.ProgramDateTime = ls.ll.stamp(seg.Seq, seg.Duration, now)
	ls.ll.ended(seg.Seq, seg.ProgramDateTime, seg.Duration)
	ls.segs = append(ls.segs, newSegEntry(seg, ls.token))
	if n := len(ls.segs) - ls.keep; n > 0 {
		clear(ls.segs[:n])
		ls.segs = append(ls.segs[:0], ls.segs[n:]...)
	}
	ls.ll.trim(ls.segs[0].Seq)
	ls.maxDur = max(ls.maxDur, seg.Duration)
	ls.changedLocked()
}

// end marks the stream ended: the playlist gets EXT-X-ENDLIST and waiting
// requests return.
func (ls *liveStream) end() {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	if ls.ended {
		return
	}
	ls.ended = true
	ls.changedLocked()
}

func (ls *liveStream) isEnded() bool {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	return ls.ended
}

// changedLocked renders the playlist and wakes waiters. mu held.
func (ls *liveStream) changedLocked() {
	if len(ls.segs) > 0 {
		win := ls.segs[max(len(ls.segs)-ls.window, 0):]
		infos := make([]hlsproto.SegmentInfo, len(win))
		for i, s := range win {
			infos[i] = s.SegmentInfo
		}
		pl := hlsproto.MediaPlaylist{
			TargetDuration: max(ls.target, ls.maxDur),
			Segments:       infos,
			URI:            ls.uri,
			Ended:          ls.ended,
			LowLatency:     ls.ll.playlist(ls.name, ls.token, infos, ls.ended),
		}
		ls.playlist = pl.Render()
		ls.plLength = []string{strconv.Itoa(len(ls.playlist))}
	}
	close(ls.changed)
	ls.changed = make(chan struct{})
}

// uri is a segment's URI relative to the playlist.
func (ls *liveStream) uri(s hlsproto.SegmentInfo) string {
	return ls.name + "/" + ls.token + "-" + strconv.FormatUint(s.Seq, 10) + ".ts"
}

// waitPlaylist returns the playlist, waiting up to wait for the first
// segment. It returns nil when there is none by then, or the stream ended
// without one.
func (ls *liveStream) waitPlaylist(ctx context.Context, wait time.Duration) []byte {
	var timeout <-chan time.Time
	for {
		ls.mu.Lock()
		pl, ended, ch := ls.playlist, ls.ended, ls.changed
		ls.mu.Unlock()
		if pl != nil || ended {
			return pl
		}
		if timeout == nil {
			t := time.NewTimer(wait)
			defer t.Stop()
			timeout = t.C
		}
		select {
		case <-ch:
		case <-timeout:
			return nil
		case <-ctx.Done():
			return nil
		}
	}
}

// segment returns the segment named by token and seq, or nil.
func (ls *liveStream) segment(token string, seq uint64) *segEntry {
	if token != ls.token {
		return nil
	}
	ls.mu.Lock()
	defer ls.mu.Unlock()
	if len(ls.segs) == 0 || seq < ls.segs[0].Seq {
		return nil
	}
	i := seq - ls.segs[0].Seq
	if i >= uint64(len(ls.segs)) {
		return nil
	}
	return ls.segs[i]
}

// seen records a client request for the viewer count.
func (ls *liveStream) seen(client uint64, now time.Time) {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	if _, ok := ls.clients[client]; ok || len(ls.clients) < maxClients {
		ls.clients[client] = now
	}
}

// reportViewers forgets clients not seen within window and reports the
// count to the hub when it changed.
func (ls *liveStream) reportViewers(now time.Time, window time.Duration) {
	ls.mu.Lock()
	for c, t := range ls.clients {
		if now.Sub(t) > window {
			delete(ls.clients, c)
		}
	}
	n, hs := len(ls.clients), ls.hs
	changed := n != ls.viewers && hs != nil
	if changed {
		ls.viewers = n
	}
	ls.mu.Unlock()
	if changed {
		hs.SetViewers(Protocol, n)
	}
}

// requestFlush asks the muxer to emit the open segment now: the publisher
// left, so players should get the media up to there without waiting for
// the reconnect grace to end. Called from the hub's event listener.
func (ls *liveStream) requestFlush() {
	ls.mu.Lock()
	ls.flushReq = true
	if ls.wake != nil {
		ls.wake()
	}
	ls.mu.Unlock()
}

// setWake registers the cancel function of the muxer's current wait,
// calling it at once if a flush is pending.
func (ls *liveStream) setWake(cancel context.CancelFunc) {
	ls.mu.Lock()
	ls.wake = cancel
	if ls.flushReq {
		cancel()
	}
	ls.mu.Unlock()
}

// takeFlush reports and clears a pending flush request.
func (ls *liveStream) takeFlush() bool {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	req := ls.flushReq
	ls.flushReq = false
	return req
}
