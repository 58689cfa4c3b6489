// Package chat is live-room chat over WebSocket: comments, likes, presence
// and moderation, per room. A Server keeps one roomChannel per room that has
// clients on this node; every room event goes through the bus (subject
// "chat.ROOM_ID"), so several nodes sharing a bus serve the same rooms.
// The protocol is documented in docs/chat.md.
package chat

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"roomcast/internal/auth"
	"roomcast/internal/bus"
	"roomcast/internal/protocol/websocket"
	"roomcast/internal/store"
)

// Server serves the chat of every room. Create it with New, mount ServeWS,
// ServeMessages and ServeModeration, and call Close at shutdown.
type Server struct {
	cfg       Config
	st        Store
	users     Users
	rooms     Rooms
	bus       bus.Bus
	viewers   func(stream string) int
	canManage func(*store.User, *store.Room) bool
	cohosts   Cohosts        // nil: no co-host requests
	requests  cohostRequests // pending co-host requests
	log       *slog.Logger
	filter    *textFilter

	// cluster: the bus reaches other nodes (Deps.Cluster); node names
	// this Server in their presence counts.
	cluster    bool
	node       string
	stopResync func() // ends the bus's reconnect calls; nil: none

	ctx    context.Context // cancelled by Close
	cancel context.CancelFunc
	conns  sync.WaitGroup // ServeWS calls with an accepted connection

	channels registry   // open channels, sharded by room id
	perUser  connCounts // connections per logged-in user
	perIP    connCounts // guest connections per client IP

	counters counters // for Stats

	pingFrame []byte // a keep-alive ping, framed once
}

// New returns a Server. Zero Config fields take their defaults.
func New(cfg Config, deps Deps) (*Server, error) {
	if err := deps.check(); err != nil {
		return nil, err
	}
	cfg.setDefaults()
	node, err := auth.NewID("node_")
	if err != nil {
		return nil, fmt.Errorf("chat: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{
		cfg:       cfg,
		st:        deps.Store,
		users:     deps.Users,
		rooms:     deps.Rooms,
		bus:       deps.Bus,
		viewers:   deps.Viewers,
		canManage: deps.CanManage,
		cohosts:   deps.Cohosts,
		log:       deps.Log.With("component", "chat"),
		filter:    newTextFilter(cfg.MaxTextLen, cfg.SensitiveWords),
		ctx:       ctx,
		cancel:    cancel,
		pingFrame: websocket.Frame(websocket.OpPing, nil),
		cluster:   deps.Cluster,
		node:      node,
	}
	if r, ok := deps.Bus.(reconnecter); ok {
		s.stopResync = r.OnReconnect(s.resync)
	}
	return s, nil
}

// Close disconnects every client (close status 1001, "server shutting
// down"), stores the pending likes and waits for the connections to end or
// ctx to be done.
func (s *Server) Close(ctx context.Context) error {
	s.cancel()
	if s.stopResync != nil {
		s.stopResync()
	}
	for _, ch := range s.channels.all() {
		ch.closeClients(websocket.CloseGoingAway, "server shutting down")
	}
	done := make(chan struct{})
	go func() {
		s.conns.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("chat: close: %w", ctx.Err())
	}
}

// Online returns the number of chat clients of the room on this node (the
// presence frames count those of every node).
func (s *Server) Online(roomID string) int {
	ch := s.channels.get(roomID)
	if ch == nil {
		return 0
	}
	ch.mu.Lock()
	defer ch.mu.Unlock()
	return len(ch.clients)
}

// Notice sends a notice frame of the given kind (NoticeStreamStarted,
// NoticeStreamEnded, …) to every client of the room, on every node. The app
// calls it from the stream events.
func (s *Server) Notice(ctx context.Context, roomID, kind, text string) error {
	return s.publish(ctx, roomID, event{Kind: evFrame, Frame: mustJSON(noticeFrame{Type: "notice", Kind: kind, Text: text})})
}

// RoomDeleted tells the clients of a deleted room, on every node, with a
// notice room_deleted, and closes their connections (1000 "room deleted").
// The API calls it after the room is gone from the store, so a client that
// reconnects gets 404.
func (s *Server) RoomDeleted(ctx context.Context, roomID string) error {
	return s.publish(ctx, roomID, event{Kind: evClosed, Frame: mustJSON(noticeFrame{Type: "notice", Kind: NoticeRoomDeleted})})
}

// publish sends e to the room's channels on every node.
func (s *Server) publish(ctx context.Context, roomID string, e event) error {
	if err := s.bus.Publish(ctx, subject(roomID), mustJSON(e)); err != nil {
		return fmt.Errorf("chat: publish to room %q: %w", roomID, err)
	}
	return nil
}

// acquire returns the room's channel, starting it if it is not running, and
// counts one more client for it. Every acquire is paired with a release.
func (s *Server) acquire(ctx context.Context, r *store.Room) (*roomChannel, error) {
	return s.channels.acquire(r.ID, func() (*roomChannel, error) {
		ch := &roomChannel{
			s:       s,
			id:      r.ID,
			stream:  r.Stream,
			clients: make(map[*client]struct{}),
			limits:  make(map[string]*userLimits),
			likes:   r.Likes,
			stop:    make(chan struct{}),
			stopped: make(chan struct{}),
		}
		if err := ch.start(ctx); err != nil {
			return nil, fmt.Errorf("chat: open room %q: %w", r.ID, err)
		}
		return ch, nil
	})
}

// release undoes an acquire; the last release stops the channel.
func (s *Server) release(ch *roomChannel) {
	if s.channels.release(ch.id) {
		ch.close()
	}
}

// addConn counts a connection of userID and reports whether it is within
// MaxConnsPerUser; when it is, the caller must call dropConn later.
func (s *Server) addConn(userID string) bool { return s.perUser.add(userID, s.cfg.MaxConnsPerUser) }

func (s *Server) dropConn(userID string) { s.perUser.remove(userID) }

// addGuest counts a guest connection from ip and reports whether it is
// within MaxGuestConnsPerIP; when it is, the caller must call dropGuest
// later.
func (s *Server) addGuest(ip string) bool { return s.perIP.add(ip, s.cfg.MaxGuestConnsPerIP) }

func (s *Server) dropGuest(ip string) { s.perIP.remove(ip) }

// Sentinel errors of Send, mapped to the error codes muted and rate_limited.
var (
	errMuted       = errors.New("chat: you are muted in this room")
	errRateLimited = errors.New("chat: too many messages, slow down")
)

// send stores a chat message of c's user and publishes it to the room.
func (s *Server) send(ctx context.Context, ch *roomChannel, c *client, text string) error {
	if c.user == nil {
		return ErrUnauthorized
	}
	now := s.cfg.Now()
	if until := c.mutedUntil.Load(); until != 0 && now.UnixMilli() < until {
		return fmt.Errorf("%w until %s", errMuted, time.UnixMilli(until).UTC().Format(time.RFC3339))
	}
	text, err := s.filter.clean(text)
	if err != nil {
		return err
	}
	if !ch.allow(c.user.ID, false, 1) {
		return errRateLimited
	}
	id, err := auth.NewID("msg_")
	if err != nil {
		return fmt.Errorf("chat: send: %w", err)
	}
	m := &store.ChatMessage{RoomID: ch.id, ID: id, UserID: c.user.ID, UserName: c.user.Name, Text: text, CreatedAt: now}
	ch.sendMu.Lock()
	defer ch.sendMu.Unlock()
	if err := s.st.AppendChatMessage(ctx, m); err != nil {
		return fmt.Errorf("chat: send: %w", err)
	}
	// Counted before it is published: the in-process bus delivers it to
	// the clients before Publish returns.
	s.counters.messagesIn.Add(1)
	return s.publish(ctx, ch.id, event{Kind: evChat, Seq: m.Seq, ID: m.ID, Frame: encodeChat(m)})
}
