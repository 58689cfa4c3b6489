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

// Config configures a Grabber.
type Config struct {
	// Interval between two grabs of one stream (default DefaultInterval).
	// The first grab is made from the stream's first keyframe.
	Interval time.Duration
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
	failures atomic.Uint64
}

// New returns a Grabber of h's streams running ffmpeg through runner.
func New(h Hub, runner Runner, cfg Config, log *slog.Logger) *Grabber {
	if cfg.Interval <= 0 {
		cfg.Interval = DefaultInterval
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Grabber{cfg: cfg, hub: h, runner: runner, log: log, ctx: ctx, cancel: cancel,
		watching: make(map[string]bool), covers: make(map[string]Picture)}
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

// Live returns the live cover of stream while it has a publisher.
func (g *Grabber) Live(stream string) (Picture, bool) {
	s := g.hub.Stream(stream)
	if s == nil || !s.Live() {
		return Picture{}, false
	}
	g.mu.Lock()
	c, ok := g.covers[stream]
	g.mu.Unlock()
	return c, ok
}

// Failures counts grabs that failed.
func (g *Grabber) Failures() uint64 { return g.failures.Load() }

// watch follows one stream: it keeps the latest keyframe and its decoder
// configuration, and grabs a cover from a new keyframe once per interval.
func (g *Grabber) watch(name string) {
	defer g.wg.Done()
	began := time.Now() // the stream was just published
	var first atomic.Bool
	log := g.log.With("stream", name)
	defer func() {
		g.mu.Lock()
		last, ok := g.covers[name]
		delete(g.covers, name)
		delete(g.watching, name)
		g.mu.Unlock()
		if ok && g.cfg.Ended != nil {
			g.cfg.Ended(name, last)
		}
	}()
	sub, err := g.hub.Subscribe(name, "")
	if err != nil {
		log.Debug("cover: stream gone before its first cover", "err", err)
		return
	}
	defer func() { sub.Close() }() // the current one, after a resubscribe too
	var (
		conf, key  *media.Packet
		keySeq     uint64
		grabbedSeq uint64
		next       time.Time // earliest time of the next grab
		busy       atomic.Bool
		frames     []*hub.Frame
	)
	var grabs sync.WaitGroup
	defer grabs.Wait()
	for {
		frames, err = sub.Next(g.ctx, frames)
		for _, f := range frames {
			p := f.Packet
			if p.Type != media.TagVideo {
				continue
			}
			switch {
			case p.SeqHeader:
				conf = p
			case p.Keyframe && len(p.Payload()) > 0: // not an end of sequence
				key, keySeq = p, f.Seq()
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
				log.Warn("cover: stopped reading the stream", "err", err)
			}
			return
		}
		now := time.Now()
		if key == nil || keySeq == grabbedSeq || now.Before(next) || busy.Load() {
			continue
		}
		grabbedSeq, next = keySeq, now.Add(g.cfg.Interval)
		busy.Store(true)
		grabs.Add(1)
		go func(conf, key *media.Packet) {
			defer grabs.Done()
			defer busy.Store(false)
			pic, err := g.grab(conf, key)
			if err != nil {
				g.failures.Add(1)
				if errors.Is(err, transcode.ErrTooMany) {
					// Counted in roomcast_transcode_refused_total; the
					// next interval tries again.
					log.Debug("cover not made", "err", err)
				} else {
					log.Warn("cover not made", "err", err)
				}
				return
			}
			g.mu.Lock()
			g.covers[name] = pic
			g.mu.Unlock()
			if first.CompareAndSwap(false, true) {
				log.Info("first live cover", "after", time.Since(began).Round(time.Millisecond), "width", pic.Width, "height", pic.Height)
			}
			if g.cfg.Grabbed != nil {
				g.cfg.Grabbed(name, pic)
			}
		}(conf, key)
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
