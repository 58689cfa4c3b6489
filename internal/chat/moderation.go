package chat

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"roomcast/internal/httpx"
	"roomcast/internal/store"
)

// Moderation actions: the type of a WebSocket command and the last path
// element of POST /api/v1/rooms/{id}/moderation/{action}.
const (
	ActionMute   = typeMute   // UserID, Seconds (default 600)
	ActionUnmute = typeUnmute // UserID
	ActionKick   = typeKick   // UserID, Seconds (default 300): disconnect, no rejoin until then
	ActionBan    = typeBan    // UserID, Seconds (0: until unbanned)
	ActionUnban  = typeUnban  // UserID: lifts a ban and a kick
	ActionDelete = typeDelete // MessageID
	ActionPin    = typePin    // Text: the announcement
	ActionUnpin  = typeUnpin
)

// Moderation durations.
const (
	DefaultMute    = 10 * time.Minute
	DefaultKick    = 5 * time.Minute
	MaxSanctionFor = 30 * 24 * time.Hour
)

// Command is one moderation action. It is also the JSON body of the REST
// moderation routes (Action comes from the path there).
type Command struct {
	Action    string `json:"-"`
	UserID    string `json:"user_id,omitempty"`
	Seconds   int    `json:"seconds,omitempty"`
	MessageID string `json:"message_id,omitempty"`
	Text      string `json:"text,omitempty"`
}

// Moderate carries out cmd in the room for actor, who must be logged in
// (ErrUnauthorized), see the room (ErrNotFound) and manage it
// (ErrForbidden). Invalid commands fail with an *InvalidError; deleting a
// message that does not exist (or is deleted) fails with ErrNotFound.
func (s *Server) Moderate(ctx context.Context, actor *store.User, roomID string, cmd Command) error {
	if actor == nil {
		return ErrUnauthorized
	}
	rm, err := s.rooms.Get(ctx, actor, roomID)
	if err != nil {
		return err
	}
	if !s.canManage(actor, rm) {
		return ErrForbidden
	}
	now := s.cfg.Now()
	switch cmd.Action {
	case ActionMute, ActionKick, ActionBan, ActionUnmute, ActionUnban:
		if cmd.UserID == "" {
			return invalid(codeBadRequest, "user_id is required")
		}
		if cmd.UserID == rm.OwnerID || cmd.UserID == actor.ID {
			return invalid(codeBadRequest, "the room's owner and you yourself cannot be sanctioned")
		}
		if cmd.Seconds < 0 || time.Duration(cmd.Seconds)*time.Second > MaxSanctionFor {
			return invalid(codeBadRequest, "seconds must be 0-%d", int(MaxSanctionFor.Seconds()))
		}
	}
	until := func(def time.Duration) *time.Time {
		d := time.Duration(cmd.Seconds) * time.Second
		if d == 0 {
			if def == 0 {
				return nil
			}
			d = def
		}
		t := now.Add(d)
		return &t
	}
	put := func(kind string, u *time.Time) error {
		return s.st.PutChatSanction(ctx, &store.ChatSanction{RoomID: rm.ID, UserID: cmd.UserID, Kind: kind, Until: u, CreatedAt: now})
	}
	switch cmd.Action {
	case ActionMute:
		u := until(DefaultMute)
		if err := put(store.SanctionMute, u); err != nil {
			return err
		}
		return s.publish(ctx, rm.ID, event{Kind: evMute, UserID: cmd.UserID, Until: u.UnixMilli(),
			Frame: mustJSON(sanctionFrame{Type: "muted", Until: u.UnixMilli()})})
	case ActionUnmute:
		if err := s.st.DeleteChatSanction(ctx, rm.ID, cmd.UserID, store.SanctionMute); err != nil {
			return err
		}
		return s.publish(ctx, rm.ID, event{Kind: evUnmute, UserID: cmd.UserID, Frame: mustJSON(sanctionFrame{Type: "unmuted"})})
	case ActionKick:
		u := until(DefaultKick)
		if err := put(store.SanctionKick, u); err != nil {
			return err
		}
		return s.publish(ctx, rm.ID, event{Kind: evKick, UserID: cmd.UserID, Text: "kicked",
			Frame: mustJSON(sanctionFrame{Type: "kicked", Until: u.UnixMilli()})})
	case ActionBan:
		u := until(0)
		if err := put(store.SanctionBan, u); err != nil {
			return err
		}
		return s.publish(ctx, rm.ID, event{Kind: evKick, UserID: cmd.UserID, Text: "banned",
			Frame: mustJSON(sanctionFrame{Type: "banned", Until: unixMilli(u)})})
	case ActionUnban:
		if err := s.st.DeleteChatSanction(ctx, rm.ID, cmd.UserID, store.SanctionBan); err != nil {
			return err
		}
		return s.st.DeleteChatSanction(ctx, rm.ID, cmd.UserID, store.SanctionKick)
	case ActionDelete:
		if cmd.MessageID == "" {
			return invalid(codeBadRequest, "message_id is required")
		}
		m, err := s.st.DeleteChatMessage(ctx, rm.ID, cmd.MessageID)
		if err != nil {
			return err
		}
		return s.publish(ctx, rm.ID, event{Kind: evDeleted, ID: m.ID, Frame: mustJSON(deletedFrame{Type: "deleted", ID: m.ID, Seq: m.Seq})})
	case ActionPin:
		text, err := s.filter.clean(cmd.Text)
		if err != nil {
			return err
		}
		if err := s.st.SetChatPin(ctx, rm.ID, text); err != nil {
			return err
		}
		return s.publish(ctx, rm.ID, event{Kind: evPin, Text: text, Frame: mustJSON(noticeFrame{Type: "notice", Kind: NoticePinned, Text: text})})
	case ActionUnpin:
		if err := s.st.SetChatPin(ctx, rm.ID, ""); err != nil {
			return err
		}
		return s.publish(ctx, rm.ID, event{Kind: evPin, Frame: mustJSON(noticeFrame{Type: "notice", Kind: NoticeUnpinned})})
	}
	return invalid(codeBadRequest, "unknown moderation action %q", cmd.Action)
}

// maxBody bounds REST request bodies.
const maxBody = 16 << 10

// ServeModeration serves POST /api/v1/rooms/{id}/moderation/{action}, the
// action being one of the Action constants, with a JSON Command body
// (Authorization: Bearer TOKEN). It answers 204 No Content, or API error
// JSON: 400 (invalid), 401, 403, 404, 500.
func (s *Server) ServeModeration(w http.ResponseWriter, r *http.Request, roomID, action string) {
	actor, err := s.viewer(r, false)
	if err != nil {
		writeError(w, s, err)
		return
	}
	var cmd Command
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		httpx.WriteError(w, http.StatusRequestEntityTooLarge, "too_large", "the body is too large")
		return
	}
	if len(b) > 0 {
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&cmd); err != nil || dec.More() {
			httpx.WriteError(w, http.StatusBadRequest, codeBadRequest, "the body is not a JSON moderation command")
			return
		}
	}
	cmd.Action = action
	if err := s.Moderate(r.Context(), actor, roomID, cmd); err != nil {
		writeError(w, s, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// MessagesPage is the body of a ServeMessages answer.
type MessagesPage struct {
	Messages []json.RawMessage `json:"messages"` // chat frames, oldest first
	// NextBefore is the before value of the next (older) page; 0 when
	// this is the oldest page.
	NextBefore int64 `json:"next_before,omitempty"`
}

// ServeMessages serves GET /api/v1/rooms/{id}/messages?before=SEQ&limit=N:
// the room's messages older than seq before (absent: the newest), at most
// limit (default 50, at most 500), oldest first; deleted messages are left
// out. The token is optional, as for viewing the room.
func (s *Server) ServeMessages(w http.ResponseWriter, r *http.Request, roomID string) {
	viewer, err := s.viewer(r, false)
	if err != nil {
		writeError(w, s, err)
		return
	}
	q := r.URL.Query()
	var before int64
	limit := store.DefaultPageSize
	if v := q.Get("before"); v != "" {
		if before, err = strconv.ParseInt(v, 10, 64); err != nil || before < 1 {
			httpx.WriteError(w, http.StatusBadRequest, codeBadRequest, "before must be a positive integer")
			return
		}
	}
	if v := q.Get("limit"); v != "" {
		if limit, err = strconv.Atoi(v); err != nil || limit < 1 || limit > store.MaxPageSize {
			httpx.WriteError(w, http.StatusBadRequest, codeBadRequest, fmt.Sprintf("limit must be 1-%d", store.MaxPageSize))
			return
		}
	}
	rm, err := s.rooms.Get(r.Context(), viewer, roomID)
	if err != nil {
		writeError(w, s, err)
		return
	}
	ms, err := s.st.ChatMessagesBefore(r.Context(), rm.ID, before, limit)
	if err != nil {
		writeError(w, s, fmt.Errorf("chat: messages: %w", err))
		return
	}
	page := MessagesPage{Messages: make([]json.RawMessage, 0, len(ms))}
	for i := range ms {
		page.Messages = append(page.Messages, encodeChat(&ms[i]))
	}
	if len(ms) == limit && ms[0].Seq > 1 {
		page.NextBefore = ms[0].Seq
	}
	httpx.WriteJSON(w, http.StatusOK, page)
}
