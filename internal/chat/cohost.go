package chat

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"roomcast/internal/room"
	"roomcast/internal/store"
)

// Co-host requests (连麦申请) travel in the room's chat: a signed-in viewer
// sends cohost_request; the room's host and moderators (the clients that may
// manage the room) receive it and answer cohost_accept or cohost_reject; the
// requester may withdraw it with cohost_cancel; a request not answered
// within Config.CohostRequestTTL expires. The requester and the managers
// get a cohost_answer frame in every case. Member changes reach every
// client as member_joined, member_left, member_live and member_offline
// (MemberEvent). See docs/chat.md.

// Client frame types of the co-host flow.
const (
	typeCohostRequest = "cohost_request"
	typeCohostAccept  = "cohost_accept"
	typeCohostReject  = "cohost_reject"
	typeCohostCancel  = "cohost_cancel"
)

// Answers of a co-host request, in cohost_answer frames.
const (
	AnswerAccepted  = "accepted"
	AnswerRejected  = "rejected"
	AnswerExpired   = "expired"
	AnswerCancelled = "cancelled"
)

// Member event kinds (MemberEvent).
const (
	MemberJoined  = "member_joined"
	MemberLeft    = "member_left"
	MemberLive    = "member_live"
	MemberOffline = "member_offline"
)

// Bus event kinds of the co-host flow.
const (
	evCohostRequest = "cohost_req" // UserID asks until Until: Frame to the managers and the requester
	evCohostAnswer  = "cohost_ans" // UserID's request answered Text: Frame to the managers and the requester
)

// Error codes of the co-host flow's error frames.
const (
	codeTooManyCohosts = "too_many_cohosts"
	codeUserBanned     = "user_banned"
)

// DefaultCohostRequestTTL is how long a co-host request waits for an
// answer when Config.CohostRequestTTL is 0.
const DefaultCohostRequestTTL = time.Minute

// Cohosts is what the co-host flow needs of the room rules; the app
// implements it with room.Service and announces the new member
// (MemberEvent).
type Cohosts interface {
	// Accept makes userID a co-host of the room as actor, who must manage
	// it, and when it was not one announces it with MemberEvent
	// (MemberJoined), which answers the request. Its errors wrap
	// room.ErrForbidden, room.ErrTooManyCohosts, room.ErrUserBanned,
	// room.ErrUserNotFound.
	Accept(ctx context.Context, actor *store.User, roomID, userID string) (added bool, err error)
	// IsCohost reports whether userID is a co-host of the room.
	IsCohost(ctx context.Context, roomID, userID string) (bool, error)
}

// cohostRequestFrame tells the managers (and the requester itself) about a
// request.
type cohostRequestFrame struct {
	Type      string   `json:"type"` // cohost_request
	User      userView `json:"user"`
	ExpiresAt int64    `json:"expires_at"` // Unix ms
}

// cohostAnswerFrame tells the requester and the managers how a request
// ended.
type cohostAnswerFrame struct {
	Type   string   `json:"type"` // cohost_answer
	User   userView `json:"user"`
	Answer string   `json:"answer"`
}

// memberFrame announces a member change; Member has the shape of an entry
// of the room's members in the REST API.
type memberFrame struct {
	Type   string `json:"type"`
	Member any    `json:"member"`
}

// cohostRequests are the pending requests this node knows of, by room and
// user. Every node with clients in the room learns of each request through
// the bus; the node the request came from runs its expiry.
type cohostRequests struct {
	mu      sync.Mutex
	pending map[string]map[string]*pendingRequest // room id → user id →
}

type pendingRequest struct {
	name   string
	until  time.Time
	expire *time.Timer // on the node the request came from; else nil
}

// get returns the pending request of userID in roomID, or nil.
func (r *cohostRequests) get(roomID, userID string, now time.Time) *pendingRequest {
	r.mu.Lock()
	defer r.mu.Unlock()
	p := r.pending[roomID][userID]
	if p == nil || !now.Before(p.until) {
		return nil
	}
	return p
}

// frames returns the cohost_request frames of the room's pending requests
// that c should see on joining: all of them for a manager, its own for a
// requester. A host who opens the chat after a viewer asked sees the
// request waiting.
func (r *cohostRequests) frames(roomID string, c *client, now time.Time) [][]byte {
	uid := c.userID()
	if !c.mod && uid == "" {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	var out [][]byte
	for id, p := range r.pending[roomID] {
		if now.Before(p.until) && (c.mod || id == uid) {
			out = append(out, mustJSON(cohostRequestFrame{Type: typeCohostRequest, User: userView{id, p.name}, ExpiresAt: p.until.UnixMilli()}))
		}
	}
	return out
}

// put records a pending request, keeping the expiry timer of one already
// recorded.
func (r *cohostRequests) put(roomID, userID string, p *pendingRequest) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.pending == nil {
		r.pending = make(map[string]map[string]*pendingRequest)
	}
	m := r.pending[roomID]
	if m == nil {
		m = make(map[string]*pendingRequest)
		r.pending[roomID] = m
	}
	if old := m[userID]; old != nil && p.expire == nil {
		p.expire = old.expire
	}
	m[userID] = p
}

// take removes and returns the pending request, stopping its expiry.
func (r *cohostRequests) take(roomID, userID string) *pendingRequest {
	r.mu.Lock()
	defer r.mu.Unlock()
	m := r.pending[roomID]
	p := m[userID]
	if p == nil {
		return nil
	}
	delete(m, userID)
	if len(m) == 0 {
		delete(r.pending, roomID)
	}
	if p.expire != nil {
		p.expire.Stop()
	}
	return p
}

// cohost handles the client frames of the co-host flow.
func (s *Server) cohost(ctx context.Context, ch *roomChannel, c *client, f inFrame) error {
	if c.user == nil {
		return ErrUnauthorized
	}
	if s.cohosts == nil {
		return invalid(codeBadRequest, "co-hosts are not enabled on this server")
	}
	switch f.Type {
	case typeCohostRequest:
		return s.requestCohost(ctx, ch, c)
	case typeCohostCancel:
		return s.answerCohost(ctx, ch, c.user.ID, AnswerCancelled)
	}
	if !c.mod {
		return ErrForbidden
	}
	if f.UserID == "" {
		return invalid(codeBadRequest, "user_id is required")
	}
	if s.requests.get(ch.id, f.UserID, s.cfg.Now()) == nil {
		return invalid(codeNotFound, "no pending co-host request of user %q", f.UserID)
	}
	if f.Type == typeCohostReject {
		return s.answerCohost(ctx, ch, f.UserID, AnswerRejected)
	}
	added, err := s.cohosts.Accept(ctx, c.user, ch.id, f.UserID)
	if err != nil {
		switch {
		case errors.Is(err, room.ErrTooManyCohosts):
			return invalid(codeTooManyCohosts, "the room has as many co-hosts as it may")
		case errors.Is(err, room.ErrUserBanned):
			return invalid(codeUserBanned, "a banned user cannot be a co-host")
		case errors.Is(err, room.ErrForbidden):
			return ErrForbidden
		case errors.Is(err, room.ErrUserNotFound):
			_ = s.answerCohost(ctx, ch, f.UserID, AnswerCancelled)
			return invalid(codeNotFound, "the user no longer exists")
		}
		return fmt.Errorf("chat: accept co-host: %w", err)
	}
	if added {
		return nil // MemberEvent answered the request
	}
	return s.answerCohost(ctx, ch, f.UserID, AnswerAccepted)
}

// requestCohost checks and publishes c's request to co-host.
func (s *Server) requestCohost(ctx context.Context, ch *roomChannel, c *client) error {
	now := s.cfg.Now()
	if c.mod {
		return invalid(codeBadRequest, "the room's managers publish with the room's own push URL")
	}
	if until := c.mutedUntil.Load(); until != 0 && now.UnixMilli() < until {
		return fmt.Errorf("%w: a muted user cannot ask to co-host", errMuted)
	}
	ss, err := s.st.ChatSanctions(ctx, ch.id, c.user.ID)
	if err != nil {
		return fmt.Errorf("chat: co-host request: %w", err)
	}
	for _, sc := range ss {
		if sc.Active(now) && sc.Kind != store.SanctionKick {
			if sc.Kind == store.SanctionMute {
				return fmt.Errorf("%w: a muted user cannot ask to co-host", errMuted)
			}
			return invalid(codeForbidden, "a banned user cannot ask to co-host")
		}
	}
	is, err := s.cohosts.IsCohost(ctx, ch.id, c.user.ID)
	if err != nil {
		return fmt.Errorf("chat: co-host request: %w", err)
	}
	if is {
		return invalid(codeBadRequest, "you are a co-host of this room already")
	}
	if s.requests.get(ch.id, c.user.ID, now) != nil {
		return invalid(codeBadRequest, "your co-host request is waiting for an answer")
	}
	if !ch.allow(c.user.ID, false, 1) {
		return errRateLimited
	}
	until := now.Add(s.cfg.CohostRequestTTL)
	roomID, userID := ch.id, c.user.ID
	p := &pendingRequest{name: c.user.Name, until: until}
	p.expire = time.AfterFunc(s.cfg.CohostRequestTTL, func() {
		ctx, cancel := context.WithTimeout(s.ctx, 5*time.Second)
		defer cancel()
		if err := s.answer(ctx, roomID, userID, p.name, AnswerExpired); err != nil {
			s.log.Warn("chat: co-host request expiry not published", "room", roomID, "user", userID, "err", err)
		}
	})
	s.requests.put(roomID, userID, p)
	frame := mustJSON(cohostRequestFrame{Type: typeCohostRequest, User: userView{userID, c.user.Name}, ExpiresAt: until.UnixMilli()})
	return s.publish(ctx, roomID, event{Kind: evCohostRequest, UserID: userID, Until: until.UnixMilli(), Text: c.user.Name, Frame: frame})
}

// answerCohost publishes the answer to userID's pending request in ch.
func (s *Server) answerCohost(ctx context.Context, ch *roomChannel, userID, answer string) error {
	p := s.requests.get(ch.id, userID, s.cfg.Now())
	if p == nil {
		return invalid(codeNotFound, "no pending co-host request of user %q", userID)
	}
	return s.answer(ctx, ch.id, userID, p.name, answer)
}

// answer publishes an answer to every node.
func (s *Server) answer(ctx context.Context, roomID, userID, name, answer string) error {
	frame := mustJSON(cohostAnswerFrame{Type: "cohost_answer", User: userView{userID, name}, Answer: answer})
	return s.publish(ctx, roomID, event{Kind: evCohostAnswer, UserID: userID, Text: answer, Frame: frame})
}

// onCohostEvent applies a co-host bus event to the channel's clients: the
// frame goes to the managers and the requester; a request is recorded, an
// answer forgets it. ch.mu must be held.
func (ch *roomChannel) onCohostEvent(e event) {
	s := ch.s
	switch e.Kind {
	case evCohostRequest:
		s.requests.put(ch.id, e.UserID, &pendingRequest{name: e.Text, until: time.UnixMilli(e.Until)})
	case evCohostAnswer:
		if s.requests.take(ch.id, e.UserID) == nil {
			return // answered already, or unknown here: nobody waits
		}
	}
	for c := range ch.clients {
		if c.mod || c.userID() == e.UserID {
			c.sendJSON(e.Frame)
		}
	}
}

// MemberEvent tells every client of the room, on every node, that a member
// joined, left, went live or went offline (kind MemberJoined, MemberLeft,
// MemberLive, MemberOffline); member is the member as the REST API shows
// it. A member that joined through the API answers its pending chat
// request, if any, as accepted.
func (s *Server) MemberEvent(ctx context.Context, roomID, kind, userID, userName string, member any) error {
	if err := s.publish(ctx, roomID, event{Kind: evFrame, Frame: mustJSON(memberFrame{Type: kind, Member: member})}); err != nil {
		return err
	}
	if kind == MemberJoined {
		return s.answer(ctx, roomID, userID, userName, AnswerAccepted)
	}
	return nil
}
