// Package programme makes each room's programme: the stream its play URLs
// carry (room.ProgrammeStream). While no co-host is live the programme is
// the host's stream alone; while co-hosts are live it is a mix of the
// members (the host full frame, the co-hosts in tiles, all their audio),
// made by a supervised ffmpeg per room that reads the members' streams from
// the hub and publishes its output back into it (room.MixStream). Viewers of
// the programme keep their connection across every switch: a switch is a
// publisher reconnect to them (new sequence headers, monotonic
// timestamps). The Manager follows the hub's stream events; it also tells
// the app when members go live or offline.
package programme

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"time"

	"roomcast/internal/hub"
	"roomcast/internal/room"
)

// Config configures a Manager.
type Config struct {
	// Mix turns the mix on; off (or without Runner), the programme is
	// always the host alone.
	Mix bool
	// Layout places the co-hosts in the mix: LayoutPIP (default) or
	// LayoutGrid.
	Layout string
	// Runner runs the mixer processes (internal/transcode); nil: no mix.
	Runner Runner
	// HasRoom reports whether a host stream is a room's (only rooms get a
	// programme); nil: every host stream is.
	HasRoom func(ctx context.Context, stream string) bool
	// OnMember, if set, is called when a member's stream (the host's or a
	// co-host's) goes live or offline, from the Manager's goroutine.
	OnMember func(stream string, live bool)
	// MixLatency, if set, is called with the latency the mix adds to each
	// of its frames: from the host's frame going into ffmpeg to the mixed
	// frame of the same presentation time coming out (metrics).
	MixLatency func(time.Duration)
	// StallAfter is how long a live co-host stream may send nothing before
	// the mix goes on without it (a mixer waits for every input, so one
	// stalled co-host would freeze the programme); it is shown again as
	// soon as it sends. 0 means DefaultStallAfter; negative turns it off.
	StallAfter time.Duration
}

// DefaultStallAfter is Config.StallAfter's default.
const DefaultStallAfter = 3 * time.Second

// Manager keeps the programme of every live room. Create it with New (which
// registers its hub listener), then Run it.
type Manager struct {
	h   *hub.Hub
	cfg Config
	log *slog.Logger

	mu     sync.Mutex
	events []hub.Event
	wake   chan struct{}

	rooms map[string]*roomState // by room stream; Run's goroutine only
}

// roomState is a live room's programme: its switcher and its mix.
type roomState struct {
	sw      *switcher
	cancel  context.CancelFunc
	live    map[string]*inflow // live co-host streams
	mix     *mixJob
	mixWith []string // the co-host streams the running mix shows
}

// inflow follows what a live co-host stream receives, to tell a stalled
// one (see Config.StallAfter).
type inflow struct {
	bytes   uint64    // bytes received when last looked at
	since   time.Time // when bytes last grew (or the stream went live)
	stalled bool
}

// New returns a Manager of h's rooms. It registers its hub listener at
// once, so that no event between New and Run is missed.
func New(h *hub.Hub, cfg Config, log *slog.Logger) *Manager {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if cfg.Layout == "" {
		cfg.Layout = LayoutPIP
	}
	if cfg.StallAfter == 0 {
		cfg.StallAfter = DefaultStallAfter
	}
	m := &Manager{h: h, cfg: cfg, log: log.With("component", "programme"), wake: make(chan struct{}, 1), rooms: make(map[string]*roomState)}
	h.OnEvent(m.onEvent)
	return m
}

// onEvent queues a hub event for Run; it never blocks the hub.
func (m *Manager) onEvent(e hub.Event) {
	if _, ok := room.ParseStream(e.Stream); !ok {
		return
	}
	m.mu.Lock()
	m.events = append(m.events, e)
	m.mu.Unlock()
	select {
	case m.wake <- struct{}{}:
	default:
	}
}

// Run applies the stream events until ctx is done, then stops every
// programme and mix and waits for them.
func (m *Manager) Run(ctx context.Context) error {
	defer m.stopAll()
	var tick <-chan time.Time
	if m.cfg.StallAfter > 0 {
		t := time.NewTicker(max(m.cfg.StallAfter/4, 50*time.Millisecond))
		defer t.Stop()
		tick = t.C
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case now := <-tick:
			m.checkStalls(ctx, now)
			continue
		case <-m.wake:
		}
		m.mu.Lock()
		evs := m.events
		m.events = nil
		m.mu.Unlock()
		for _, e := range evs {
			m.apply(ctx, e)
		}
	}
}

// apply follows one stream event.
func (m *Manager) apply(ctx context.Context, e hub.Event) {
	ref, _ := room.ParseStream(e.Stream)
	rs := m.rooms[ref.Room]
	switch ref.Kind {
	case room.KindHost:
		m.member(e)
		switch e.Type {
		case hub.EventPublished:
			if rs != nil && !rs.ended() {
				return
			}
			if m.cfg.HasRoom != nil && !m.cfg.HasRoom(ctx, e.Stream) {
				return
			}
			m.startProgramme(ctx, ref.Room, rs)
		case hub.EventEnded:
			if rs != nil {
				m.stopRoom(ref.Room, rs)
			}
		}
	case room.KindCohost:
		m.member(e)
		if rs == nil {
			rs = &roomState{live: map[string]*inflow{}}
			m.rooms[ref.Room] = rs
		}
		if e.Type == hub.EventPublished {
			rs.live[e.Stream] = &inflow{since: time.Now()}
		} else {
			delete(rs.live, e.Stream)
		}
		m.reconcile(ctx, ref.Room, rs)
	case room.KindMix:
		if rs != nil && rs.sw != nil {
			rs.sw.setMix(e.Type == hub.EventPublished && rs.mix != nil)
		}
	}
}

// member reports a member stream going live or offline.
func (m *Manager) member(e hub.Event) {
	if m.cfg.OnMember == nil {
		return
	}
	switch e.Type {
	case hub.EventPublished:
		m.cfg.OnMember(e.Stream, true)
	case hub.EventUnpublished:
		m.cfg.OnMember(e.Stream, false)
	}
}

// ended reports whether the room's switcher has stopped.
func (rs *roomState) ended() bool {
	if rs.sw == nil {
		return true
	}
	select {
	case <-rs.sw.done:
		return true
	default:
		return false
	}
}

// startProgramme starts the room's switcher, keeping the co-hosts known.
func (m *Manager) startProgramme(ctx context.Context, roomStream string, rs *roomState) {
	if rs == nil {
		rs = &roomState{live: map[string]*inflow{}}
		m.rooms[roomStream] = rs
	}
	if rs.cancel != nil {
		rs.cancel()
	}
	sctx, cancel := context.WithCancel(ctx)
	rs.cancel = cancel
	rs.sw = newSwitcher(m.h, m.log.With("room_stream", roomStream), room.ProgrammeStream(roomStream), roomStream, room.MixStream(roomStream))
	go rs.sw.run(sctx)
	m.reconcile(ctx, roomStream, rs)
}

// reconcile starts, restarts or stops the room's mix so that it shows the
// co-hosts live now, while the host is live.
func (m *Manager) reconcile(ctx context.Context, roomStream string, rs *roomState) {
	var want []string
	if m.cfg.Mix && m.cfg.Runner != nil && !rs.ended() {
		for s, in := range rs.live {
			if !in.stalled {
				want = append(want, s)
			}
		}
		slices.Sort(want)
	}
	if slices.Equal(want, rs.mixWith) && (rs.mix != nil) == (len(want) > 0) {
		return
	}
	if rs.mix != nil {
		rs.mix.stop()
		rs.mix, rs.mixWith = nil, nil
		if rs.sw != nil {
			rs.sw.setMix(false)
		}
	}
	if len(want) == 0 {
		return
	}
	job, err := m.startMix(ctx, roomStream, want)
	if err != nil {
		m.log.Warn("mix not started: the programme stays the host alone", "room_stream", roomStream, "err", err)
		return
	}
	rs.mix, rs.mixWith = job, want
}

// checkStalls takes the co-hosts that sent nothing for StallAfter out of
// their rooms' mixes and brings back those that send again.
func (m *Manager) checkStalls(ctx context.Context, now time.Time) {
	for roomStream, rs := range m.rooms {
		changed := false
		for name, in := range rs.live {
			s := m.h.Stream(name)
			if s == nil {
				continue // its end is on its way as an event
			}
			bytes := s.Stats().BytesIn
			grew := bytes != in.bytes
			if grew {
				in.bytes, in.since = bytes, now
			}
			switch {
			case in.stalled && grew:
				in.stalled, changed = false, true
				m.log.Info("co-host stream sends again: back in the mix", "stream", name)
			case !in.stalled && now.Sub(in.since) >= m.cfg.StallAfter:
				in.stalled, changed = true, true
				m.log.Warn("co-host stream stalled: the mix goes on without it", "stream", name, "silent", now.Sub(in.since).Round(time.Millisecond))
			}
		}
		if changed {
			m.reconcile(ctx, roomStream, rs)
		}
	}
}

// stopRoom stops the room's mix and switcher and forgets it.
func (m *Manager) stopRoom(roomStream string, rs *roomState) {
	if rs.mix != nil {
		rs.mix.stop()
	}
	if rs.cancel != nil {
		rs.cancel()
		<-rs.sw.done
	}
	delete(m.rooms, roomStream)
}

func (m *Manager) stopAll() {
	for name, rs := range m.rooms {
		m.stopRoom(name, rs)
	}
}
