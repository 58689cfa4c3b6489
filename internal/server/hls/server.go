// Package hls serves every live stream of the hub as HLS from memory.
//
// One muxer per stream, an internal hub subscriber, cuts the stream into
// MPEG-TS segments (internal/protocol/hls) and keeps the last few; every
// HLS client of the stream shares them.
//
// URLs, relative to where the handlers are mounted (the lead mounts them
// under /APP/, "/live/" by default):
//
//	STREAM.m3u8             live media playlist
//	STREAM/TOKEN-SEQ.ts     segment SEQ of the stream instance TOKEN
//
// The playlist lists segments relative to itself ("STREAM/TOKEN-SEQ.ts").
// TOKEN is a base-36 id of the stream instance, new each time the stream is
// published afresh, so that a segment URL always names the same bytes and
// can be cached for long.
package hls

import (
	"context"
	"errors"
	"hash/maphash"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"roomcast/internal/hub"
)

// Protocol is the protocol name under which HLS viewers are counted.
const Protocol = "hls"

// Defaults.
const (
	DefaultTargetDuration = 2 * time.Second
	DefaultWindowSegments = 6
	DefaultWriteTimeout   = 30 * time.Second
)

// Config configures the HLS server. The zero value of a field means its
// default.
type Config struct {
	// TargetDuration is the segment duration aimed at; segments are cut at
	// the first keyframe after it.
	TargetDuration time.Duration
	// WindowSegments is the number of segments in the live playlist. As
	// many again stay fetchable after they left it (RFC 8216 6.2.2).
	WindowSegments int
	// KeepEndedFor keeps an ended stream's last playlist (with
	// EXT-X-ENDLIST) and segments this long, so that players finish the
	// tail instead of failing. Zero drops them when the stream ends.
	KeepEndedFor time.Duration
	// WriteTimeout bounds writing one response.
	WriteTimeout time.Duration
	// PartTarget is the duration of Low-Latency HLS partial segments;
	// negative turns LL-HLS off (a classic playlist only).
	PartTarget time.Duration
	// PartHoldBack is the playlist's PART-HOLD-BACK; zero means three
	// part targets.
	PartHoldBack time.Duration
	// MaxWaiting bounds the blocking playlist reloads and preload-hinted
	// part requests waiting at once; past it they are refused with 503.
	MaxWaiting int
}

func (c Config) withDefaults() Config {
	if c.TargetDuration <= 0 {
		c.TargetDuration = DefaultTargetDuration
	}
	if c.WindowSegments <= 0 {
		c.WindowSegments = DefaultWindowSegments
	}
	if c.WriteTimeout <= 0 {
		c.WriteTimeout = DefaultWriteTimeout
	}
	return c.llDefaults()
}

// Server muxes every live stream of a hub to HLS and serves the playlists
// and segments. Its handlers are safe for concurrent use.
type Server struct {
	hub  *hub.Hub
	cfg  Config
	log  *slog.Logger
	seed maphash.Seed

	listen sync.Once

	mu        sync.Mutex
	ctx       context.Context // Run's context; nil when not running
	streams   map[string]*liveStream
	lastToken int64
	waiting   waitLimit
	wg        sync.WaitGroup
	running   chan struct{} // closed once Run listens to the hub (tests)
}

// New returns a server of the streams of h. Nothing happens until Run.
func New(h *hub.Hub, cfg Config, log *slog.Logger) *Server {
	return &Server{
		hub:     h,
		cfg:     cfg.withDefaults(),
		log:     log,
		seed:    maphash.MakeSeed(),
		streams: make(map[string]*liveStream),
		running: make(chan struct{}),
	}
}

// errRunning is returned by a second concurrent Run.
var errRunning = errors.New("hls: server already running")

// Run starts a muxer for every live stream and for each stream published
// later, reports viewer counts, and returns nil once ctx is done and every
// muxer stopped. The HTTP handlers answer 404 when Run is not running.
func (s *Server) Run(ctx context.Context) error {
	s.mu.Lock()
	if s.ctx != nil {
		s.mu.Unlock()
		return errRunning
	}
	s.ctx = ctx
	s.mu.Unlock()
	s.listen.Do(func() { s.hub.OnEvent(s.onEvent) })
	for _, st := range s.hub.Streams() {
		s.start(st.Name(), false)
	}
	select {
	case <-s.running:
	default:
		close(s.running)
	}

	tick := time.NewTicker(min(max(s.cfg.TargetDuration/2, 100*time.Millisecond), time.Second))
	defer tick.Stop()
	for {
		select {
		case now := <-tick.C:
			s.reportViewers(now)
		case <-ctx.Done():
			s.stopAll()
			return nil
		}
	}
}

// stopAll stops every muxer and waits for them.
func (s *Server) stopAll() {
	s.mu.Lock()
	s.ctx = nil
	streams := s.streams
	s.streams = make(map[string]*liveStream)
	s.mu.Unlock()
	for _, ls := range streams {
		ls.cancel()
	}
	s.wg.Wait()
}

// onEvent is called by the hub, from the goroutine that caused the event.
// It must not block: it only starts muxers and signals them.
func (s *Server) onEvent(e hub.Event) {
	switch e.Type {
	case hub.EventPublished:
		// A fresh stream replaces whatever is left of an earlier one of the
		// same name; a resumed one keeps its muxer, which sees the new
		// epoch on the frames.
		s.start(e.Stream, !e.Resumed)
	case hub.EventUnpublished:
		if ls := s.lookup(e.Stream); ls != nil {
			ls.requestFlush()
		}
	}
}

// start starts a muxer for the named stream unless one is running for it
// and replace is false.
func (s *Server) start(name string, replace bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ctx == nil {
		return
	}
	if old := s.streams[name]; old != nil {
		if !replace && !old.isEnded() {
			return
		}
		old.cancel()
	}
	ctx, cancel := context.WithCancel(s.ctx)
	ls := newLiveStream(name, s.newToken(), s.cfg, cancel)
	s.streams[name] = ls
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.mux(ctx, ls)
	}()
}

// newToken returns a stream instance id, unique for this server and, being
// time-based, across restarts. s.mu held.
func (s *Server) newToken() string {
	t := max(time.Now().UnixMilli(), s.lastToken+1)
	s.lastToken = t
	return strconv.FormatInt(t, 36)
}

// lookup returns the named stream's HLS state, or nil.
func (s *Server) lookup(name string) *liveStream {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.streams[name]
}

// remove drops ls if it is still the named stream's state.
func (s *Server) remove(ls *liveStream) {
	s.mu.Lock()
	if s.streams[ls.name] == ls {
		delete(s.streams, ls.name)
	}
	s.mu.Unlock()
}

// reportViewers tells the hub how many HLS clients each stream has.
func (s *Server) reportViewers(now time.Time) {
	s.mu.Lock()
	streams := make([]*liveStream, 0, len(s.streams))
	for _, ls := range s.streams {
		streams = append(streams, ls)
	}
	s.mu.Unlock()
	window := 3 * s.cfg.TargetDuration
	for _, ls := range streams {
		ls.reportViewers(now, window)
	}
}
