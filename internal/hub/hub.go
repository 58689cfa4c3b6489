// Package hub is the stream registry: one Stream per stream name with its
// publisher, codec configuration, GOP cache and subscribers. Packets enter
// once from a publisher and are shared, never copied, by every viewer.
package hub

import (
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// Errors returned by the hub. Callers check them with errors.Is.
var (
	// ErrStreamBusy is returned by Publish when the stream already has a
	// publisher and takeover is off.
	ErrStreamBusy = errors.New("hub: stream already has a publisher")
	// ErrNotFound is returned by Subscribe for a stream that does not exist.
	ErrNotFound = errors.New("hub: stream not found")
	// ErrEnded is returned to subscribers after the stream ended.
	ErrEnded = errors.New("hub: stream ended")
	// ErrSlow is returned to a subscriber that stayed too slow and was
	// disconnected.
	ErrSlow = errors.New("hub: viewer too slow")
	// ErrTakenOver is returned by a publisher's Write after another
	// publisher took the stream over.
	ErrTakenOver = errors.New("hub: publisher replaced by a new one")
	// ErrKicked is returned by a publisher's Write after an operator kicked
	// it.
	ErrKicked = errors.New("hub: publisher kicked")
	// ErrTooManyViewers is returned by Subscribe when a limit is reached.
	ErrTooManyViewers = errors.New("hub: too many viewers")
	// ErrTooManyPublishers is returned by Publish when MaxPublishers
	// streams are being published already.
	ErrTooManyPublishers = errors.New("hub: too many publishers")
)

// Config bounds the hub's memory and sets its timing. The zero value of a
// field means its default.
type Config struct {
	// GOPMaxFrames and GOPMaxBytes bound the GOP cache; a longer GOP is not
	// cached and new viewers wait for the next keyframe.
	GOPMaxFrames int
	GOPMaxBytes  int
	// QueueFrames and QueueBytes bound how far a viewer may lag behind the
	// publisher before frames are dropped up to the next keyframe.
	QueueFrames int
	QueueBytes  int
	// SlowDrops is how many drops within SlowWindow disconnect a viewer.
	SlowDrops  int
	SlowWindow time.Duration
	// FlushInterval coalesces packets: viewers are woken at most once per
	// interval, so each viewer gets one batched write per interval.
	// Negative means wake on every packet.
	FlushInterval time.Duration
	// ReconnectGrace is how long viewers wait for a publisher to come back.
	// Negative means end the stream at once.
	ReconnectGrace time.Duration
	// Takeover lets a new publisher replace a live one instead of being
	// refused with ErrStreamBusy.
	Takeover bool
	// MaxViewersPerStream limits subscribers of one stream (0: unlimited).
	MaxViewersPerStream int
	// MaxViewers limits the counted subscribers of all streams together
	// (0: unlimited).
	MaxViewers int
	// MaxPublishers limits the streams with a publisher (0: unlimited).
	MaxPublishers int
	// Refused, if set, is called with the limit's name ("max-publishers",
	// "max-viewers", "max-viewers-per-stream") each time one of the limits
	// above refuses a publisher or viewer (for metrics). It must not block.
	Refused func(limit string)
}

// Defaults.
const (
	DefaultGOPMaxFrames   = 2048
	DefaultGOPMaxBytes    = 16 << 20
	DefaultQueueFrames    = 512
	DefaultQueueBytes     = 4 << 20
	DefaultSlowDrops      = 3
	DefaultSlowWindow     = 30 * time.Second
	DefaultFlushInterval  = 20 * time.Millisecond
	DefaultReconnectGrace = 10 * time.Second
)

func (c Config) withDefaults() Config {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&c.GOPMaxFrames, DefaultGOPMaxFrames)
	def(&c.GOPMaxBytes, DefaultGOPMaxBytes)
	def(&c.QueueFrames, DefaultQueueFrames)
	def(&c.QueueBytes, DefaultQueueBytes)
	def(&c.SlowDrops, DefaultSlowDrops)
	if c.SlowWindow <= 0 {
		c.SlowWindow = DefaultSlowWindow
	}
	switch {
	case c.FlushInterval == 0:
		c.FlushInterval = DefaultFlushInterval
	case c.FlushInterval < 0:
		c.FlushInterval = 0
	}
	switch {
	case c.ReconnectGrace == 0:
		c.ReconnectGrace = DefaultReconnectGrace
	case c.ReconnectGrace < 0:
		c.ReconnectGrace = 0
	}
	return c
}

// Hub is the registry of live streams. It is safe for concurrent use.
type Hub struct {
	cfg Config
	log *slog.Logger

	mu        sync.Mutex
	streams   map[string]*Stream
	listeners []func(Event)
	retired   Totals // counters of removed streams; guarded by mu

	limits  limits
	viewers atomic.Int64 // counted subscribers not yet closed, of all streams
}

// New returns an empty hub.
func New(cfg Config, log *slog.Logger) *Hub {
	return &Hub{
		cfg:     cfg.withDefaults(),
		log:     log,
		streams: make(map[string]*Stream),
	}
}

// OnEvent registers fn to be called for every stream event, in order, from
// the goroutine that caused it. fn must not block and must not call back into
// the hub synchronously.
func (h *Hub) OnEvent(fn func(Event)) {
	h.mu.Lock()
	h.listeners = append(h.listeners, fn)
	h.mu.Unlock()
}

func (h *Hub) emit(e Event) {
	h.mu.Lock()
	ls := h.listeners
	h.mu.Unlock()
	for _, fn := range ls {
		fn(e)
	}
}

// Publish makes info the publisher of the named stream, creating the stream
// if needed. A stream within its reconnect grace is continued. A stream with
// a live publisher is refused with ErrStreamBusy, or taken over if the hub is
// configured so.
func (h *Hub) Publish(name string, info PublisherInfo) (*Publisher, error) {
	release, err := h.admitPublisher(name, info.Internal)
	if err != nil {
		return nil, fmt.Errorf("publish %q: %w", name, err)
	}
	defer release()
	for {
		h.mu.Lock()
		s := h.streams[name]
		if s == nil {
			s = newStream(h, name)
			h.streams[name] = s
		}
		h.mu.Unlock()
		p, ev, err := s.attach(info)
		if errors.Is(err, errRetry) {
			// The stream ended between the lookup and the attach; its
			// removal from the registry is imminent.
			h.remove(s)
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("publish %q: %w", name, err)
		}
		for _, e := range ev {
			h.emit(e)
		}
		return p, nil
	}
}

// Stream returns the named stream, or nil.
func (h *Hub) Stream(name string) *Stream {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.streams[name]
}

// Streams returns the current streams in no particular order.
func (h *Hub) Streams() []*Stream {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]*Stream, 0, len(h.streams))
	for _, s := range h.streams {
		out = append(out, s)
	}
	return out
}

// Subscribe adds a viewer of the named stream. protocol names the output
// ("rtmp", "flv", "ws-flv", …) for statistics; an empty protocol marks an
// internal subscriber (HLS muxer, recorder) that is not counted as a viewer.
func (h *Hub) Subscribe(name, protocol string) (*Subscriber, error) {
	s := h.Stream(name)
	if s == nil {
		return nil, fmt.Errorf("subscribe %q: %w", name, ErrNotFound)
	}
	release, err := h.admitViewer(protocol)
	if err != nil {
		return nil, fmt.Errorf("subscribe %q: %w", name, err)
	}
	defer release()
	sub, err := s.subscribe(protocol)
	if err != nil {
		return nil, fmt.Errorf("subscribe %q: %w", name, err)
	}
	return sub, nil
}

// Kick disconnects the publisher of the named stream; viewers then wait for
// the reconnect grace as after any publisher loss. It returns ErrNotFound
// when the stream has no publisher.
func (h *Hub) Kick(name string) error {
	s := h.Stream(name)
	if s == nil || !s.kick() {
		return fmt.Errorf("kick %q: %w", name, ErrNotFound)
	}
	return nil
}

// End ends the named stream at once, as the end of its reconnect grace
// would: a publisher is detached and viewers get ErrEnded after the frames
// already queued for them. It returns ErrNotFound when there is no such
// stream. (A cluster edge ends a relayed stream so when its origin ended
// it.)
func (h *Hub) End(name string) error {
	s := h.Stream(name)
	if s == nil {
		return fmt.Errorf("end %q: %w", name, ErrNotFound)
	}
	s.end()
	return nil
}

// remove drops s from the registry if it is still the registered stream.
func (h *Hub) remove(s *Stream) {
	h.mu.Lock()
	if h.streams[s.name] == s {
		delete(h.streams, s.name)
		h.retired.add(s.counters())
	}
	h.mu.Unlock()
}

// Close ends every stream at once: publishers are detached and viewers get
// ErrEnded after the frames already queued for them.
func (h *Hub) Close() {
	for _, s := range h.Streams() {
		s.end()
	}
}
