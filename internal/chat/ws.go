package chat

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"roomcast/internal/httpx"
	"roomcast/internal/protocol/websocket"
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
// visible, upgrades to WebSocket and hands the connection to a goroutine of
// its own, which runs it until it ends (Close waits for those).
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

	key, err := websocket.CheckUpgrade(r)
	if err != nil {
		w.Header().Set("Sec-WebSocket-Version", "13")
		httpx.WriteError(w, http.StatusBadRequest, codeBadRequest, err.Error())
		return
	}
	// Sessions are bearer tokens, never cookies, so a cross-origin page
	// gains nothing it does not hold already: every origin is allowed, as
	// the REST API does.
	nc, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		httpx.WriteError(w, http.StatusHTTPVersionNotSupported, codeBadRequest, "chat needs a WebSocket over HTTP/1.1")
		return
	}
	_ = nc.SetWriteDeadline(time.Now().Add(s.cfg.WriteTimeout))
	if _, err := io.WriteString(nc, websocket.UpgradeResponse(key)); err != nil {
		_ = nc.Close()
		return
	}
	// Bytes the client sent after its request are in brw; without them the
	// hijacked buffers are dropped, and the connection reads with a small
	// buffer of its own.
	var src io.Reader = nc
	if n := brw.Reader.Buffered(); n > 0 {
		early, _ := brw.Reader.Peek(n)
		src = io.MultiReader(bytes.NewReader(bytes.Clone(early)), nc)
	}
	j := &joiner{u: u, rm: rm, since: since, mutedUntil: mutedUntil, refusal: refusal, ip: s.cfg.ClientIP(r)}
	// Store calls of a connection are not cut short by Close: what a
	// client was told is stored is stored.
	ctx := context.WithoutCancel(s.ctx)
	s.conns.Add(1)
	// The handler returns: the connection lives on in its own goroutine,
	// without the HTTP server's buffers and stack.
	go func() {
		defer s.conns.Done()
		s.serveConn(ctx, nc, bufio.NewReaderSize(src, readBuffer), j)
	}()
}

// readBuffer is the read buffer of a chat connection: clients send little.
const readBuffer = 512

// joiner is what ServeWS learnt about a connection before the upgrade.
type joiner struct {
	u          *store.User
	rm         *store.Room
	since      int64
	mutedUntil int64
	refusal    string
	ip         string
}

// serveConn runs an upgraded connection: refusals, the caps, joining the
// room's channel, then the reader until the connection ends.
func (s *Server) serveConn(ctx context.Context, nc net.Conn, br *bufio.Reader, j *joiner) {
	u, rm := j.u, j.rm
	if j.refusal != "" {
		s.refuse(nc, br, j.refusal, "you may not join this room's chat now")
		return
	}
	if u != nil {
		if !s.addConn(u.ID) {
			s.refuse(nc, br, "too_many_connections", fmt.Sprintf("at most %d chat connections per user", s.cfg.MaxConnsPerUser))
			return
		}
		defer s.dropConn(u.ID)
	} else {
		if !s.addGuest(j.ip) {
			s.refuse(nc, br, "too_many_connections", fmt.Sprintf("at most %d guest chat connections per address; log in for more", s.cfg.MaxGuestConnsPerIP))
			return
		}
		defer s.dropGuest(j.ip)
	}
	mod := u != nil && s.canManage(u, rm)
	c := newClient(nc, u, mod, &s.cfg, &s.counters)
	defer c.finish()

	ch, err := s.acquire(ctx, rm)
	if err != nil {
		s.log.Error("chat: join", "room", rm.ID, "err", err)
		c.close(websocket.CloseInternalError, "internal error")
		return
	}
	defer s.release(ch)

	var older []store.ChatMessage
	olderFull := false
	if j.since >= 0 && ch.needsStore(j.since) {
		older, err = s.st.ChatMessagesAfter(ctx, rm.ID, j.since, s.cfg.MaxResume)
		if err != nil {
			s.log.Error("chat: resume", "room", rm.ID, "err", err)
			c.close(websocket.CloseInternalError, "internal error")
			return
		}
		olderFull = len(older) == s.cfg.MaxResume
	}

	c.mutedUntil.Store(j.mutedUntil)
	welcome := welcomeFrame{Type: "welcome", Room: rm.ID, CanSend: u != nil, CanModerate: mod, MutedUntil: j.mutedUntil, Likes: rm.Likes}
	if u != nil {
		welcome.User = &userView{ID: u.ID, Name: u.Name}
	}
	ch.mu.Lock()
	ch.addLocked(c, welcome, j.since, older, olderFull)
	ch.mu.Unlock()
	defer func() {
		ch.mu.Lock()
		ch.removeLocked(c)
		ch.mu.Unlock()
	}()
	// Close closes the clients it finds in the channels; one that joined
	// after it looked closes itself here.
	if s.ctx.Err() != nil {
		c.close(websocket.CloseGoingAway, "server shutting down")
	}
	start := time.Now()
	ended := s.readLoop(ctx, ch, c, websocket.NewReader(br, int(s.cfg.MaxFrameBytes)))
	status, reason, byServer := c.closeStatus()
	if byServer {
		ended = fmt.Sprintf("closed by the server: %d %s", status, reason)
	}
	who := "guest"
	if u != nil {
		who = u.ID
	}
	s.log.Info("chat connection closed", "room", rm.ID, "user", who, "remote", nc.RemoteAddr().String(),
		"reason", ended, "duration", time.Since(start).Round(time.Millisecond))
}

// refuse sends an error frame and a close frame with status 1008 and code
// as the reason, then waits (at most closeWait) for the peer's close.
func (s *Server) refuse(nc net.Conn, br *bufio.Reader, code, msg string) {
	var b []byte
	b = websocket.AppendFrame(b, websocket.OpText, encodeError(code, msg))
	b = websocket.AppendFrame(b, websocket.OpClose, websocket.ClosePayload(websocket.ClosePolicyViolation, code))
	_ = nc.SetWriteDeadline(time.Now().Add(s.cfg.WriteTimeout))
	if _, err := nc.Write(b); err == nil {
		_ = nc.SetReadDeadline(time.Now().Add(closeWait))
		r := websocket.NewReader(br, int(s.cfg.MaxFrameBytes))
		for {
			m, err := r.Next()
			if err != nil || m.Op == websocket.OpClose {
				break
			}
		}
	}
	_ = nc.Close()
}

// readLoop reads and handles client messages until the connection fails,
// the client closes it, or it is closed and the peer answered (or did not
// within closeWait). It returns how the connection ended, for the log.
func (s *Server) readLoop(ctx context.Context, ch *roomChannel, c *client, r *websocket.Reader) string {
	for {
		m, err := r.Next()
		if err != nil {
			switch {
			case errors.Is(err, websocket.ErrTooBig):
				c.close(websocket.CloseTooBig, "frame too big")
			case errors.Is(err, websocket.ErrProtocol):
				c.close(websocket.CloseProtocolError, strings.TrimPrefix(err.Error(), "websocket: "))
			}
			return "connection lost: " + err.Error()
		}
		c.lastSeen.Store(s.cfg.Now().UnixNano())
		switch m.Op {
		case websocket.OpClose:
			code, _, err := websocket.ParseClose(m.Payload)
			switch {
			case err != nil:
				c.close(websocket.CloseProtocolError, "bad close frame")
			case code == websocket.CloseNoStatus:
				c.answer(websocket.CloseNormal)
			default:
				c.answer(code)
			}
			return fmt.Sprintf("closed by the client: %d", code)
		case websocket.OpPing:
			c.enqueue(websocket.Frame(websocket.OpPong, m.Payload))
			continue
		case websocket.OpPong:
			continue
		case websocket.OpBinary:
			s.reject(c, codeBadRequest, "frames must be JSON text")
			continue
		}
		if c.isClosing() {
			continue // draining until the peer answers the close
		}
		f, err := parseFrame(m.Payload)
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
	c.sendJSON(encodeError(code, msg))
	if !c.flood.take(1, s.cfg.Now()) {
		c.close(websocket.ClosePolicyViolation, "flooding")
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
		c.sendJSON([]byte(`{"type":"pong"}`))
	case typeMute, typeUnmute, typeKick, typeBan, typeUnban, typeDelete, typePin, typeUnpin:
		err = s.Moderate(ctx, c.user, ch.id, Command{Action: f.Type, UserID: f.UserID, Seconds: f.Seconds, MessageID: f.MessageID, Text: f.Text})
	case typeCohostRequest, typeCohostAccept, typeCohostReject, typeCohostCancel:
		err = s.cohost(ctx, ch, c, f)
	default:
		err = invalid(codeBadRequest, "unknown frame type %q", f.Type)
	}
	if err != nil {
		code, msg := errorCode(err)
		switch code {
		case codeInternal:
			s.log.Error("chat: handling frame", "room", ch.id, "type", f.Type, "err", err)
		case codeUnavailable:
			s.log.Warn("chat: handling frame", "room", ch.id, "type", f.Type, "err", err)
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
	case errors.Is(err, store.ErrUnavailable):
		return codeUnavailable, "the database is unavailable; retry in a few seconds"
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
	case codeUnavailable:
		status = http.StatusServiceUnavailable
		s.log.Warn("chat: request failed", "err", err)
	default:
		status = http.StatusBadRequest
	}
	httpx.WriteError(w, status, code, msg)
}
