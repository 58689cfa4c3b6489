// Package record writes live sessions to disk as HLS VOD: MPEG-TS segments
// cut on keyframes and an index.m3u8, under DIR/ROOM/RECORDING/, with one
// store.Recording row per session.
//
// The Recorder is a hub subscriber like any viewer: it never slows the
// publisher, and its own trouble (a full disk, a permission error, falling
// too far behind) ends or gaps the recording, never the live stream.
package record

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"roomcast/internal/hub"
	"roomcast/internal/media"
	hlsproto "roomcast/internal/protocol/hls"
	"roomcast/internal/store"
)

// Store is what the recorder needs of the store (store/sqlite.DB has it).
type Store interface {
	CreateRecording(ctx context.Context, r *store.Recording) error
	UpdateRecording(ctx context.Context, id string, fn func(*store.Recording) error) (*store.Recording, error)
	RecordingsByStatus(ctx context.Context, status string) ([]store.Recording, error)
}

// Config configures a Recorder.
type Config struct {
	// Dir is the recordings directory (DATA/recordings).
	Dir string
	// TargetDuration is the segment duration; zero means
	// hls.DefaultTargetDuration.
	TargetDuration time.Duration
	// Enabled says whether a stream that just went live is recorded and
	// for which room. It is called from the recorder's goroutine (it may
	// query the store). Nil records nothing.
	Enabled func(stream string) (roomID string, record bool)
	// Recoverable, if set, says whether Recover may finish an unfinished
	// recording now, given when its files last changed; in a cluster,
	// sharing the store and the directory, a recording another node may
	// still be writing (or recovering) is left alone. Nil: every
	// unfinished recording is finished (one node).
	Recoverable func(rec store.Recording, lastWrite time.Time) bool
	// Continue, if set, is asked when the stream's publisher changes
	// within the reconnect grace whether the recording goes on; false
	// finishes it there (a cluster node whose live moved to another node,
	// which records the rest). It is called from the recording's
	// goroutine.
	Continue func(stream string) bool
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// OnReady is called, from the recording's goroutine (or Recover's
	// caller, for a recovered recording), when a recording is complete
	// (for the webhook). It must not block for long.
	OnReady func(store.Recording)
	// OnFailed is called, from the recording's goroutine (or Recover's
	// caller), when a recording stops with an error (disk full, permission
	// denied, store failure, nothing playable left after a crash).
	OnFailed func(store.Recording, error)
	// Poster, if set, turns a keyframe (with its decoder configuration)
	// into the JPEG kept as the recording's poster.jpg: the first keyframe
	// at least 3 s into the recording, or the first one of a shorter
	// recording. It runs on a goroutine of its own.
	Poster func(ctx context.Context, conf, key *media.Packet) ([]byte, error)
}

// Recorder records the streams Config.Enabled selects. Create it with New
// before the hub gets publishers, call Recover, then Run.
type Recorder struct {
	hub   *hub.Hub
	cfg   Config
	store Store
	log   *slog.Logger
	fs    fileSystem

	mu     sync.Mutex
	events []hub.Event
	wake   chan struct{}
	active int           // recordings in progress; guarded by mu
	idle   chan struct{} // closed when active drops to 0; guarded by mu
}

// New returns a recorder of h's streams. It registers its hub listener at
// once, so no event between New and Run is missed.
func New(h *hub.Hub, cfg Config, st Store, log *slog.Logger) *Recorder {
	if cfg.TargetDuration <= 0 {
		cfg.TargetDuration = hlsproto.DefaultTargetDuration
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	r := &Recorder{hub: h, cfg: cfg, store: st, log: log.With("component", "record"), fs: osFS{}, wake: make(chan struct{}, 1)}
	h.OnEvent(r.onEvent)
	return r
}

// Start records a stream that was published before as a new live session
// (if Enabled says so), as if the hub had reported a new live: a cluster
// node that relayed a live calls it when the live's publisher moves to it.
// It never blocks.
func (r *Recorder) Start(e hub.Event) {
	e.Type, e.Resumed = hub.EventPublished, false
	r.onEvent(e)
}

// onEvent queues a hub event for Run; it never blocks the hub.
func (r *Recorder) onEvent(e hub.Event) {
	if e.Type != hub.EventPublished || e.Resumed {
		// A resumed publisher continues the recording: the subscriber sees
		// the epoch change. Ends arrive as hub.ErrEnded.
		return
	}
	r.mu.Lock()
	r.events = append(r.events, e)
	r.mu.Unlock()
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// Run starts a recording for every new live session until ctx is done, then
// waits for the recordings in progress to stop. A recording cut short by
// ctx stays in status recording with a playable prefix on disk, and the
// next start's Recover finalises it.
func (r *Recorder) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-r.wake:
		}
		r.mu.Lock()
		evs := r.events
		r.events = nil
		r.mu.Unlock()
		for _, e := range evs {
			if r.cfg.Enabled == nil {
				continue
			}
			roomID, ok := r.cfg.Enabled(e.Stream)
			if !ok {
				continue
			}
			sub, err := r.hub.Subscribe(e.Stream, "")
			if err != nil {
				r.log.Info("stream gone before recording started", "stream", e.Stream, "err", err)
				continue
			}
			wg.Add(1)
			r.started()
			go func() {
				defer wg.Done()
				defer r.stopped()
				r.record(ctx, sub, roomID, e)
			}()
		}
	}
}

// started counts a recording in progress.
func (r *Recorder) started() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.active == 0 {
		r.idle = make(chan struct{})
	}
	r.active++
}

// stopped counts a recording that stopped.
func (r *Recorder) stopped() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.active--
	if r.active == 0 {
		close(r.idle)
	}
}

// Wait waits until no recording is in progress, or ctx is done. At shutdown
// the app ends the hub's streams, then calls Wait before cancelling Run's
// context: recordings that saw their stream end are finalised (ready),
// while a cancelled context would leave them in status recording for the
// next start's Recover.
func (r *Recorder) Wait(ctx context.Context) error {
	for {
		r.mu.Lock()
		if r.active == 0 {
			r.mu.Unlock()
			return nil
		}
		idle := r.idle
		r.mu.Unlock()
		select {
		case <-idle:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// errNoMedia marks a recording that ended without a single segment.
var errNoMedia = errors.New("record: no media recorded")
