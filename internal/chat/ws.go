package chat

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/coder/websocket"

	"roomcast/internal/httpx"
	"roomcast/internal/store"
	"roomcast/internal/user"
)

// tokenFromRequest returns the session token of r: "Authorization: Bearer
// TOKEN", else, if query, the query parameter token (browsers cannot set
// headers on a WebSocket upgrade; other requests ignore it). It matches
// api.TokenFromRequest.
func tokenFromRequest(r *http.Request, query bool) string {
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, token, ok := strings.Cut(h, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") {
			return ""
		}
		return strings.TrimSpace(token)
	}
	if !query {
		return ""
	}
	return r.URL.Query().Get("token")
}

// viewer authenticates r (see tokenFromRequest): nil for no token. A token
// that does not give a usable account is an error, not a guest.
func (s *Server) viewer(r *http.Request, query bool) (*store.User, error) {
	token := tokenFromRequest(r, query)
	if token == "" {
		return nil, nil
	}
	u, err := s.users.Authenticate(r.Context(), token)
	if err != nil {
		return nil, err
	}
	return u, nil
}

// ServeWS serves GET /api/v1/rooms/{id}/chat: it authenticates the request
// (token optional for guests unless Config.NoGuests), checks the room is
// visible, upgrades to WebSocket and runs the connection until it ends.
// Query: token, since (resume after this seq). Errors before the upgrade are
// written as API error JSON; refusals after it (banned, kicked, too many
// connections) as an error frame and a close frame with status 1008.
func (s *Server) ServeWS(w http.ResponseWriter, r *http.Request, roomID string) {
	u, err := s.viewer(r, true)
	if err != nil {
		writeError(w, s, err)
		return
	}
	if u == nil && s.cfg.NoGuests {
		writeError(w, s, ErrUnauthorized)
		return
	}
	since := int64(-1)
	if v := r.URL.Query().Get("since"); v != "" {
		since, err = strconv.ParseInt(v, 10, 64)
		if err != nil || since < 0 {
			httpx.WriteError(w, http.StatusBadRequest, codeBadRequest, "since must be a non-negative integer")
			return
		}
	}
	rm, err := s.rooms.Get(r.Context(), u, roomID)
	if err != nil {
		writeError(w, s, err)
		return
	}
	var mutedUntil int64
	refusal := ""
	if u != nil {
		ss, err := s.st.ChatSanctions(r.Context(), rm.ID, u.ID)
		if err != nil {
			writeError(w, s, err)
			return
		}
		now := s.cfg.Now()
		for _, sc := range ss {
			if !sc.Active(now) {
				continue
			}
			switch sc.Kind {
			case store.SanctionBan:
				refusal = "banned"
			case store.SanctionKick:
				if refusal == "" {
					refusal = "kicked"
				}
			case store.SanctionMute:
				mutedUntil = unixMilli(sc.Until)
				if sc.Until == nil {
					mutedUntil = 1 << 62
				}
			}
		}
	}

	conn, err := websocket.Accept(w, r, &websocket.AcceptOptions{
		// Sessions are bearer tokens, never cookies, so a cross-origin page
		// gains nothing it does not hold already: allow every origin, as
		// the REST API does.
		InsecureSkipVerify: true,
	})
	if err != nil {
		return // Accept has written the HTTP error
	}
	s.conns.Add(1)
	defer s.conns.Done()
	conn.SetReadLimit(s.cfg.MaxFrameBytes)

	if refusal != "" {
		s.refuse(conn, refusal, "you may not join this room's chat now")
		return
	}
	if u != nil {
		if !s.addConn(u.ID) {
			s.refuse(conn, "too_many_connections", fmt.Sprintf("at most %d chat connections per user", s.cfg.MaxConnsPerUser))
			return
		}
		defer s.dropConn(u.ID)
	} else {
		ip := s.cfg.ClientIP(r)
		if !s.addGuest(ip) {
			s.refuse(conn, "too_many_connections", fmt.Sprintf("at most %d guest chat connections per address; log in for more", s.cfg.MaxGuestConnsPerIP))
			return
		}
		defer s.dropGuest(ip)
	}

	ch, err := s.acquire(r.Context(), rm)
	if err != nil {
		s.log.Error("chat: join", "room", rm.ID, "err", err)
		_ = conn.Close(websocket.StatusInternalError, "internal error")
		return
	}
	defer s.release(ch)

	var older []store.ChatMessage
	olderFull := false
	if since >= 0 && ch.needsStore(since) {
		older, err = s.st.ChatMessagesAfter(r.Context(), rm.ID, since, s.cfg.MaxResume)
		if err != nil {
			s.log.Error("chat: resume", "room", rm.ID, "err", err)
			_ = conn.Close(websocket.StatusInternalError, "internal error")
			return
		}
		olderFull = len(older) == s.cfg.MaxResume
	}

	mod := u != nil && s.canManage(u, rm)
	c := newClient(conn, u, mod, &s.cfg)
	c.mutedUntil.Store(mutedUntil)
	welcome := welcomeFrame{Type: "welcome", Room: rm.ID, CanSend: u != nil, CanModerate: mod, MutedUntil: mutedUntil, Likes: rm.Likes}
	if u != nil {
		welcome.User = &userView{ID: u.ID, Name: u.Name}
	}
	ch.mu.Lock()
	ch.addLocked(c, welcome, since, older, olderFull)
	ch.mu.Unlock()

	var wg sync.WaitGroup
	wg.Go(func() { c.writeLoop(s.ctx, &s.cfg) })
	wg.Go(func() { c.pingLoop(s.ctx, s.cfg.PingInterval, s.cfg.PongTimeout) })

	s.readLoop(context.WithoutCancel(r.Context()), ch, c)

	c.close(websocket.StatusNormalClosure, "")
	ch.mu.Lock()
	ch.removeLocked(c)
	ch.mu.Unlock()
	wg.Wait()
}

// refuse sends an error frame and closes conn with status 1008 and code as
// the reason.
func (s *Server) refuse(conn *websocket.Conn, code, msg string) {
	ctx, cancel := context.WithTimeout(s.ctx, s.cfg.WriteTimeout)
	defer cancel()
	_ = conn.Write(ctx, websocket.MessageText, encodeError(code, msg))
	_ = conn.Close(websocket.StatusPolicyViolation, code)
}

// readLoop reads and handles client frames until the connection fails or
// is closed. ctx is never cancelled: cancelling a Read closes the
// connection without a close frame, and the writer must send one.
func (s *Server) readLoop(ctx context.Context, ch *roomChannel, c *client) {
	for {
		typ, b, err := c.conn.Read(ctx)
		if err != nil {
			return
		}
		if typ != websocket.MessageText {
			s.reject(c, codeBadRequest, "frames must be JSON text")
			continue
		}
		f, err := parseFrame(b)
		if err != nil {
			s.reject(c, codeBadRequest, err.Error())
			continue
		}
		s.handle(ctx, ch, c, f)
	}
}

// reject sends c an error frame and counts it against the flood limit: a
// client refused more than FloodLimit times per RateWindow is disconnected.
func (s *Server) reject(c *client, code, msg string) {
	c.enqueue(encodeError(code, msg))
	if !c.flood.take(1, s.cfg.Now()) {
		c.close(websocket.StatusPolicyViolation, "flooding")
	}
}

// handle acts on one client frame.
func (s *Server) handle(ctx context.Context, ch *roomChannel, c *client, f inFrame) {
	var err error
	switch f.Type {
	case typeChat:
		err = s.send(ctx, ch, c, f.Text)
	case typeLike:
		err = s.like(ch, c, f.Count)
	case typePing:
		c.enqueue([]byte(`{"type":"pong"}`))
	case typeMute, typeUnmute, typeKick, typeBan, typeUnban, typeDelete, typePin, typeUnpin:
		err = s.Moderate(ctx, c.user, ch.id, Command{Action: f.Type, UserID: f.UserID, Seconds: f.Seconds, MessageID: f.MessageID, Text: f.Text})
	default:
		err = invalid(codeBadRequest, "unknown frame type %q", f.Type)
	}
	if err != nil {
		code, msg := errorCode(err)
		if code == codeInternal {
			s.log.Error("chat: handling frame", "room", ch.id, "type", f.Type, "err", err)
		}
		s.reject(c, code, msg)
	}
}

// like counts n likes (1 when 0) of c's user.
func (s *Server) like(ch *roomChannel, c *client, n int) error {
	if c.user == nil {
		return ErrUnauthorized
	}
	if n == 0 {
		n = 1
	}
	if n < 0 || n > s.cfg.LikeBurst {
		return invalid(codeBadRequest, "count must be 1-%d", s.cfg.LikeBurst)
	}
	if !ch.allow(c.user.ID, true, n) {
		return errRateLimited
	}
	ch.addLikes(n)
	return nil
}

// errorCode maps an error to the code and message of an error frame.
func errorCode(err error) (code, msg string) {
	var ie *InvalidError
	switch {
	case errors.As(err, &ie):
		return ie.Code, ie.Message
	case errors.Is(err, ErrUnauthorized), errors.Is(err, user.ErrUnauthenticated):
		return codeUnauthorized, "log in to do this"
	case errors.Is(err, user.ErrBanned):
		return "banned", "your account is banned"
	case errors.Is(err, ErrForbidden):
		return codeForbidden, "only the room's owner or an admin may do this"
	case errors.Is(err, ErrNotFound):
		return codeNotFound, "not found"
	case errors.Is(err, errMuted):
		return codeMuted, strings.TrimPrefix(err.Error(), "chat: ")
	case errors.Is(err, errRateLimited):
		return codeRateLimited, strings.TrimPrefix(err.Error(), "chat: ")
	}
	return codeInternal, "internal error"
}

// writeError writes err as API error JSON with its HTTP status.
func writeError(w http.ResponseWriter, s *Server, err error) {
	code, msg := errorCode(err)
	status := http.StatusInternalServerError
	switch code {
	case codeUnauthorized:
		status = http.StatusUnauthorized
	case codeForbidden, "banned":
		status = http.StatusForbidden
	case codeNotFound:
		status = http.StatusNotFound
	case codeMuted:
		status = http.StatusForbidden
	case codeRateLimited:
		status = http.StatusTooManyRequests
	case codeInternal:
		s.log.Error("chat: request failed", "err", err)
	default:
		status = http.StatusBadRequest
	}
	httpx.WriteError(w, status, code, msg)
}
