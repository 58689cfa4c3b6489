package app

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"roomcast/internal/api"
	"roomcast/internal/chat"
	"roomcast/internal/config"
	"roomcast/internal/hub"
	"roomcast/internal/programme"
	"roomcast/internal/room"
	"roomcast/internal/store"
)

// cohostRoomConfig sets the co-host settings of the room rules: the limit
// (-max-cohosts; 0 means none) and whether a member's stream is live.
func cohostRoomConfig(rc *room.Config, cfg config.Config, h *hub.Hub) {
	rc.MaxCohosts = noLimit(cfg.Cohost.Max) // 0: none
	rc.Live = func(stream string) bool {
		s := h.Stream(stream)
		return s != nil && s.Live()
	}
}

// newProgramme builds the rooms' programmes (the host alone, or the mix of
// the live members) and announces members going live or offline in their
// room's chat.
func newProgramme(c *components, cfg config.Config, runner programme.Runner, log *slog.Logger) *programme.Manager {
	log = log.With("component", "programme")
	c.mixLatency = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "roomcast_mix_latency_seconds",
		Help:    "Latency the co-host mix adds: from a host frame going into ffmpeg to the mixed frame coming out.",
		Buckets: []float64{0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1, 1.5, 2, 3, 5},
	})
	return programme.New(c.hub, programme.Config{
		MixLatency: func(d time.Duration) { c.mixLatency.Observe(d.Seconds()) },
		Mix:        cfg.Cohost.Mix,
		Layout:     cfg.Cohost.Layout,
		Runner:     runner,
		HasRoom: func(ctx context.Context, stream string) bool {
			ok, err := c.rooms.HasRoom(ctx, stream)
			if err != nil {
				log.Warn("no programme: room lookup failed", "stream", stream, "err", err)
			}
			return ok
		},
		OnMember: func(stream string, live bool) {
			go c.announceMember(stream, live, log)
		},
	}, log)
}

// announceMember tells the room's chat that the member publishing stream
// went live or offline.
func (c *components) announceMember(stream string, live bool, log *slog.Logger) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	rm, err := c.rooms.ByStream(ctx, stream)
	if err != nil {
		if !errors.Is(err, store.ErrNotFound) {
			log.Warn("member event not sent", "stream", stream, "err", err)
		}
		return
	}
	ref, _ := room.ParseStream(stream)
	userID, role := rm.OwnerID, room.RoleHost
	if ref.Kind == room.KindCohost {
		userID, role = ref.UserID, room.RoleCohost
	}
	u, err := c.users.Get(ctx, userID)
	if err != nil {
		log.Warn("member event not sent", "stream", stream, "err", err)
		return
	}
	kind := chat.MemberOffline
	if live {
		kind = chat.MemberLive
	}
	m := c.rooms.Member(nil, rm, u, role)
	if err := c.chat.MemberEvent(ctx, rm.ID, kind, u.ID, u.Name, api.MemberJSON(m)); err != nil {
		log.Warn("member event not sent", "stream", stream, "err", err)
	}
}

// memberChanged announces co-hosts added or removed through the API in
// their room's chat.
func (c *components) memberChanged(log *slog.Logger) func(ctx context.Context, event string, r *store.Room, m *room.Member) {
	return func(ctx context.Context, event string, r *store.Room, m *room.Member) {
		if err := c.chat.MemberEvent(ctx, r.ID, event, m.UserID, m.UserName, api.MemberJSON(m)); err != nil {
			log.Warn("member event not sent", "room", r.ID, "event", event, "err", err)
		}
	}
}

// chatCohosts lets the chat's co-host requests be accepted (chat.Cohosts).
type chatCohosts struct{ c *components }

// Accept implements chat.Cohosts.
func (a chatCohosts) Accept(ctx context.Context, actor *store.User, roomID, userID string) (bool, error) {
	rm, m, added, err := a.c.rooms.AddCohost(ctx, actor, roomID, userID)
	if err != nil || !added {
		return added, err
	}
	return true, a.c.chat.MemberEvent(ctx, rm.ID, chat.MemberJoined, m.UserID, m.UserName, api.MemberJSON(m))
}

// IsCohost implements chat.Cohosts.
func (a chatCohosts) IsCohost(ctx context.Context, roomID, userID string) (bool, error) {
	return a.c.db.IsCohost(ctx, roomID, userID)
}

// ladderSkips reports whether stream gets no quality ladder: a co-host's
// own stream and a room's mix (members play each other at full quality;
// the audience gets the programme's ladder).
func ladderSkips(stream string) bool {
	ref, ok := room.ParseStream(stream)
	return ok && (ref.Kind == room.KindCohost || ref.Kind == room.KindMix)
}

// recordsStream reports whether stream is what a room records: its
// programme (the host alone or the mix), never a member's own stream.
func recordsStream(stream string) bool {
	ref, ok := room.ParseStream(stream)
	return ok && ref.Kind == room.KindProgramme
}

// roomStreamOf returns the room's own stream name of any of its streams,
// for webhooks, which name rooms by it.
func roomStreamOf(stream string) string {
	if ref, ok := room.ParseStream(stream); ok {
		return ref.Room
	}
	return stream
}
