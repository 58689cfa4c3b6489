// Package streamsync applies the hub's stream events to the rest of the
// system: room status follows the real stream, and webhooks tell the
// operator's systems. Events are handled in order, off the publisher's
// goroutine.
package streamsync

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"roomcast/internal/hub"
	"roomcast/internal/store"
	"roomcast/internal/webhook"
)

// Rooms moves a room's status with its stream.
type Rooms interface {
	StreamPublished(ctx context.Context, stream string, at time.Time) (*store.Room, error)
	StreamEnded(ctx context.Context, stream string, at time.Time) (*store.Room, error)
	ByStream(ctx context.Context, stream string) (*store.Room, error)
}

// eventTimeout bounds the store writes for one event.
const eventTimeout = 10 * time.Second

// Emitter queues a webhook event.
type Emitter interface {
	Emit(ctx context.Context, ev webhook.Event) error
}

// Notifier tells a room's chat that its live started or ended.
type Notifier interface {
	Notice(ctx context.Context, roomID, kind, text string) error
}

// Chat notice kinds (see docs/chat.md).
const (
	NoticeStreamStarted = "stream_started"
	NoticeStreamEnded   = "stream_ended"
)

// Sync queues hub events and applies them in order.
type Sync struct {
	rooms Rooms
	hooks Emitter
	chat  Notifier // may be nil
	log   *slog.Logger

	mu    sync.Mutex
	queue []hub.Event
	wake  chan struct{}
}

// New returns a Sync; register its Handle with hub.OnEvent and run Run.
// chat, if not nil, gets a notice when a room's live starts and ends.
func New(rooms Rooms, hooks Emitter, chat Notifier, log *slog.Logger) *Sync {
	return &Sync{rooms: rooms, hooks: hooks, chat: chat, log: log, wake: make(chan struct{}, 1)}
}

// Handle queues an event. It never blocks: it is called from the hub.
func (s *Sync) Handle(e hub.Event) {
	s.mu.Lock()
	s.queue = append(s.queue, e)
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Run applies queued events until ctx ends, then applies what is left
// (bounded by drain) so that the end of streams at shutdown is recorded:
// end the hub's streams before cancelling ctx. An event being applied when
// ctx ends is finished, not abandoned.
func (s *Sync) Run(ctx context.Context, drain time.Duration) error {
	work := context.WithoutCancel(ctx)
	for {
		select {
		case <-s.wake:
			s.apply(work)
		case <-ctx.Done():
			dctx, cancel := context.WithTimeout(work, drain)
			defer cancel()
			s.apply(dctx)
			return nil
		}
	}
}

// Drain applies every queued event now; for shutdown and tests.
func (s *Sync) Drain(ctx context.Context) { s.apply(ctx) }

func (s *Sync) apply(ctx context.Context) {
	for {
		s.mu.Lock()
		events := s.queue
		s.queue = nil
		s.mu.Unlock()
		if len(events) == 0 {
			return
		}
		for _, e := range events {
			s.handle(ctx, e)
		}
	}
}

func (s *Sync) handle(ctx context.Context, e hub.Event) {
	ctx, cancel := context.WithTimeout(ctx, eventTimeout)
	defer cancel()
	log := s.log.With("stream", e.Stream, "event", e.Type.String())
	var room *store.Room
	var err error
	switch {
	case e.Type == hub.EventPublished && !e.Resumed:
		room, err = s.rooms.StreamPublished(ctx, e.Stream, e.Time)
	case e.Type == hub.EventEnded:
		room, err = s.rooms.StreamEnded(ctx, e.Stream, e.Time)
	default:
		room, err = s.rooms.ByStream(ctx, e.Stream)
	}
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		log.Error("room status update failed", "err", err)
	}
	roomID := ""
	if room != nil {
		roomID = room.ID
	}
	for _, ev := range webhooks(e, roomID, room) {
		if err := s.hooks.Emit(ctx, ev); err != nil {
			log.Error("webhook event not queued", "type", ev.Type, "err", err)
		}
	}
	s.notify(ctx, e, room)
}

// notify tells the room's chat about the start and the end of its live.
func (s *Sync) notify(ctx context.Context, e hub.Event, room *store.Room) {
	if s.chat == nil || room == nil {
		return
	}
	var kind, text string
	switch {
	case e.Type == hub.EventPublished && !e.Resumed:
		kind, text = NoticeStreamStarted, "The live has started."
	case e.Type == hub.EventEnded:
		kind, text = NoticeStreamEnded, "The live has ended."
	default:
		return
	}
	if err := s.chat.Notice(ctx, room.ID, kind, text); err != nil {
		s.log.Warn("chat notice not sent", "room", room.ID, "kind", kind, "err", err)
	}
}

// webhooks returns the webhook events for a hub event.
func webhooks(e hub.Event, roomID string, room *store.Room) []webhook.Event {
	base := func(typ string, data map[string]any) webhook.Event {
		return webhook.Event{Type: typ, Room: roomID, Stream: e.Stream, Data: data, Time: e.Time}
	}
	switch e.Type {
	case hub.EventPublished:
		out := []webhook.Event{base(webhook.TypeStreamPublished, map[string]any{
			"protocol": e.Publisher.Protocol, "remote_addr": e.Publisher.RemoteAddr, "resumed": e.Resumed,
		})}
		if !e.Resumed && room != nil {
			out = append(out, base(webhook.TypeRoomLive, map[string]any{"title": room.Title, "owner": room.OwnerID}))
		}
		return out
	case hub.EventUnpublished:
		return []webhook.Event{base(webhook.TypeStreamUnpublished, map[string]any{
			"duration_ms": e.Duration.Milliseconds(), "bytes": e.Bytes, "reason": e.Reason,
			"protocol": e.Publisher.Protocol, "remote_addr": e.Publisher.RemoteAddr,
		})}
	case hub.EventEnded:
		if room == nil {
			return nil
		}
		data := map[string]any{"title": room.Title, "owner": room.OwnerID, "bytes": e.Bytes}
		if room.LiveSince != nil {
			data["duration_ms"] = e.Time.Sub(*room.LiveSince).Milliseconds()
		}
		return []webhook.Event{base(webhook.TypeRoomEnded, data)}
	}
	return nil
}
