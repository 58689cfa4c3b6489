package cover

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image/jpeg"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"roomcast/internal/hub"
	"roomcast/internal/media"
	"roomcast/internal/transcode"
)

// Runner runs one-shot ffmpeg processes (transcode.Manager).
type Runner interface {
	Available() bool
	Run(ctx context.Context, kind string, args []string, input []byte, maxOut int) ([]byte, error)
}

// Hub is the stream registry the grabber reads (hub.Hub).
type Hub interface {
	Stream(name string) *hub.Stream
	Subscribe(name, protocol string) (*hub.Subscriber, error)
}

// DefaultInterval is how often a live cover is refreshed by default.
const DefaultInterval = 10 * time.Second

// DefaultDemand is how long a request for a live cover keeps it refreshed
// by default.
const DefaultDemand = time.Minute

// Config configures a Grabber.
type Config struct {
	// Interval between two grabs of one stream (default DefaultInterval).
	// The first grab is made from the stream's first keyframe.
	Interval time.Duration
	// Demand is how long a request for a stream's cover (Live) keeps it
	// refreshed every Interval (default DefaultDemand). A stream whose
	// cover nobody asks for keeps its first cover and gets one more grab
	// when it ends, if that one is older than Interval: no ffmpeg runs
	// every Interval for a stream nobody browses to.
	Demand time.Duration
	// Skip, if set, names streams that get no cover (the renditions of
	// the quality ladder).
	Skip func(stream string) bool
	// Ended, if set, is called with a stream's last cover when the stream
	// ended (to keep it as the room's cover while it is not live). It runs
	// on the stream's watcher goroutine.
	Ended func(stream string, c Picture)
	// Grabbed, if set, is called after each cover is made (for tests and
	// the time-to-first-cover figure).
	Grabbed func(stream string, c Picture)
}

// Picture is a JPEG and what is known of it.
type Picture struct {
	JPEG          []byte
	Width, Height int
	At            time.Time
}

// Grabber makes and keeps the live covers of the hub's streams. It is safe
// for concurrent use; Handle is its hub event listener.
type Grabber struct {
	cfg    Config
	hub    Hub
	runner Runner
	log    *slog.Logger
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu       sync.Mutex
	watching map[string]bool
	covers   map[string]Picture
	asked    map[string]time.Time // last Live call per watched stream
	failures atomic.Uint64
}

// New returns a Grabber of h's streams running ffmpeg through runner.
func New(h Hub, runner Runner, cfg Config, log *slog.Logger) *Grabber {
	if cfg.Interval <= 0 {
		cfg.Interval = DefaultInterval
	}
	if cfg.Demand <= 0 {
		cfg.Demand = DefaultDemand
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Grabber{cfg: cfg, hub: h, runner: runner, log: log, ctx: ctx, cancel: cancel,
		watching: make(map[string]bool), covers: make(map[string]Picture), asked: make(map[string]time.Time)}
}

// Handle is a hub event listener (hub.Hub.OnEvent): a published stream
// gets a watcher that grabs its covers until it ends. It never blocks.
func (g *Grabber) Handle(e hub.Event) {
	if e.Type != hub.EventPublished || !g.runner.Available() {
		return
	}
	if g.cfg.Skip != nil && g.cfg.Skip(e.Stream) {
		return
	}
	g.mu.Lock()
	if g.watching[e.Stream] || g.ctx.Err() != nil {
		g.mu.Unlock()
		return
	}
	g.watching[e.Stream] = true
	g.wg.Add(1)
	g.mu.Unlock()
	go g.watch(e.Stream)
}

// Close stops every watcher and waits for them.
func (g *Grabber) Close() {
	g.mu.Lock()
	g.cancel()
	g.mu.Unlock()
	g.wg.Wait()
}

// Live returns the live cover of stream while it has a publisher, and
// keeps it refreshed every Interval for the next Demand: the cover is
// wanted. A stale cover is returned at once; the next keyframe refreshes
// it.
func (g *Grabber) Live(stream string) (Picture, bool) {
	return g.cover(stream, true)
}

// Has reports whether stream has a live cover, without asking for it to
// be refreshed (for listings that only link to it).
func (g *Grabber) Has(stream string) bool {
	_, ok := g.cover(stream, false)
	return ok
}

func (g *Grabber) cover(stream string, want bool) (Picture, bool) {
	s := g.hub.Stream(stream)
	if s == nil || !s.Live() {
		return Picture{}, false
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if want && g.watching[stream] {
		g.asked[stream] = time.Now()
	}
	c, ok := g.covers[stream]
	return c, ok
}

// wanted reports whether stream's cover was asked for within Demand.
func (g *Grabber) wanted(stream string, now time.Time) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	at, ok := g.asked[stream]
	return ok && now.Sub(at) < g.cfg.Demand
}

// Failures counts grabs that failed.
func (g *Grabber) Failures() uint64 { return g.failures.Load() }

// watch follows one stream: it keeps the latest keyframe and its decoder
// configuration, and grabs a cover from its first keyframe, then from a
// new keyframe once per interval while the cover is wanted, and once more
// at the end if the last cover is older than the interval.
func (g *Grabber) watch(name string) {
	defer g.wg.Done()
	w := &watcher{g: g, name: name, began: time.Now(), log: g.log.With("stream", name)}
	defer w.end()
	sub, err := g.hub.Subscribe(name, "")
	if err != nil {
		w.log.Debug("cover: stream gone before its first cover", "err", err)
		return
	}
	defer func() { sub.Close() }() // the current one, after a resubscribe too
	defer w.grabs.Wait()
	var frames []*hub.Frame
	for {
		frames, err = sub.Next(g.ctx, frames)
		for _, f := range frames {
			p := f.Packet
			if p.Type != media.TagVideo {
				continue
			}
			switch {
			case p.SeqHeader:
				w.conf = p
			case p.Keyframe && len(p.Payload()) > 0: // not an end of sequence
				w.key, w.keySeq = p, f.Seq()
			}
		}
		clear(frames) // let the hub's ring release old frames
		if errors.Is(err, hub.ErrSlow) {
			// Starved of CPU for a while: start again from the newest
			// keyframe of the same stream.
			sub.Close()
			again, serr := g.hub.Subscribe(name, "")
			if serr == nil && again.Stream() == sub.Stream() {
				sub = again
				continue
			}
			if serr == nil {
				again.Close() // a new live of the same name: it has its own watcher
			}
			return
		}
		if err != nil {
			if !errors.Is(err, hub.ErrEnded) && !errors.Is(err, context.Canceled) {
				w.log.Warn("cover: stopped reading the stream", "err", err)
			}
			return
		}
		now := time.Now()
		if !w.fresh(now) || (!w.next.IsZero() && !g.wanted(name, now)) || w.busy.Load() {
			continue
		}
		w.start(now)
		w.grabs.Add(1)
		go func(conf, key *media.Packet) {
			defer w.grabs.Done()
			defer w.busy.Store(false)
			w.grab(conf, key)
		}(w.conf, w.key)
	}
}

// watcher is one stream's cover state, owned by its watch goroutine (busy
// and first are shared with its grabs).
type watcher struct {
	g     *Grabber
	name  string
	began time.Time // the stream was published
	log   *slog.Logger

	conf, key  *media.Packet
	keySeq     uint64
	grabbedSeq uint64
	next       time.Time // earliest time of the next grab; zero before the first
	busy       atomic.Bool
	first      atomic.Bool
	grabs      sync.WaitGroup
}

// fresh reports whether there is a keyframe not grabbed yet and the
// interval since the last grab has passed.
func (w *watcher) fresh(now time.Time) bool {
	return w.key != nil && w.keySeq != w.grabbedSeq && !now.Before(w.next)
}

// start notes a grab of the current keyframe.
func (w *watcher) start(now time.Time) {
	w.grabbedSeq, w.next = w.keySeq, now.Add(w.g.cfg.Interval)
	w.busy.Store(true)
}

// grab makes a cover from key and keeps it.
func (w *watcher) grab(conf, key *media.Packet) {
	pic, ok := w.make(conf, key)
	if !ok {
		return
	}
	w.g.mu.Lock()
	w.g.covers[w.name] = pic
	w.g.mu.Unlock()
}

// make makes a cover from key; a failure is logged and counted.
func (w *watcher) make(conf, key *media.Packet) (Picture, bool) {
	g := w.g
	pic, err := g.grab(conf, key)
	if err != nil {
		g.failures.Add(1)
		if errors.Is(err, transcode.ErrTooMany) {
			// Counted in roomcast_transcode_refused_total; the next
			// interval tries again.
			w.log.Debug("cover not made", "err", err)
		} else {
			w.log.Warn("cover not made", "err", err)
		}
		return Picture{}, false
	}
	if w.first.CompareAndSwap(false, true) {
		w.log.Info("first live cover", "after", time.Since(w.began).Round(time.Millisecond), "width", pic.Width, "height", pic.Height)
	}
	if g.cfg.Grabbed != nil {
		g.cfg.Grabbed(w.name, pic)
	}
	return pic, true
}

// end runs when the stream ended (its grabs are done): the stream is
// forgotten, then, if the newest keyframe is newer than the last cover
// and the interval has passed, one more grab, and Ended gets the last
// cover.
func (w *watcher) end() {
	g := w.g
	g.mu.Lock()
	last, ok := g.covers[w.name]
	delete(g.covers, w.name)
	delete(g.watching, w.name)
	delete(g.asked, w.name)
	g.mu.Unlock()
	if g.cfg.Ended == nil {
		return
	}
	if g.ctx.Err() == nil && w.fresh(time.Now()) {
		if pic, made := w.make(w.conf, w.key); made {
			last, ok = pic, true
		}
	}
	if ok {
		g.cfg.Ended(w.name, last)
	}
}

// grab decodes key into a JPEG.
func (g *Grabber) grab(conf, key *media.Packet) (Picture, error) {
	return Grab(g.ctx, g.runner, transcode.KindCover, conf, key)
}

// Grab turns the keyframe key, with its decoder configuration conf, into a
// JPEG of the picture's size through runner. kind labels the process in
// metrics (transcode.KindCover, transcode.KindPoster).
func Grab(ctx context.Context, runner Runner, kind string, conf, key *media.Packet) (Picture, error) {
	es, format, err := keyframeAnnexB(conf, key)
	if err != nil {
		return Picture{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	out, err := runner.Run(ctx, kind, grabArgs(format), es, maxJPEG)
	if err != nil {
		return Picture{}, fmt.Errorf("grab: %w", err)
	}
	cfg, err := jpeg.DecodeConfig(bytes.NewReader(out))
	if err != nil {
		return Picture{}, fmt.Errorf("grab: ffmpeg's output is not a JPEG: %w", err)
	}
	return Picture{JPEG: out, Width: cfg.Width, Height: cfg.Height, At: time.Now()}, nil
}
