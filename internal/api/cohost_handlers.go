package api

import (
	"context"
	"errors"
	"net/http"

	"roomcast/internal/hub"
	"roomcast/internal/room"
	"roomcast/internal/store"
)

// Member events passed to Options.MemberChanged.
const (
	MemberJoined = "member_joined"
	MemberLeft   = "member_left"
)

// memberView is the JSON shape of a room member (room.Member): one entry
// of a room's members, the subscribe list.
type memberView struct {
	User   ownerView `json:"user"`
	Role   string    `json:"role"`
	Stream string    `json:"stream"`
	Live   bool      `json:"live"`
	Play   *playView `json:"play"`
}

// MemberJSON returns the JSON value of a member as the API shows it in a
// room's members, for the chat's member events.
func MemberJSON(m *room.Member) any { return newMemberView(m) }

func newMemberView(m *room.Member) memberView {
	v := memberView{User: ownerView{ID: m.UserID, Name: m.UserName}, Role: m.Role, Stream: m.Stream, Live: m.Live}
	if p := m.Play; p != nil {
		v.Play = &playView{RTMP: p.RTMP, FLV: p.FLV, WSFLV: p.WSFLV, HLS: p.HLS, WHEP: p.WHEP, ExpiresAt: p.ExpiresAt}
	}
	return v
}

// members returns the member views of r.
func (a *API) members(ctx context.Context, viewer *store.User, r *store.Room) ([]memberView, error) {
	ms, err := a.rooms.Members(ctx, viewer, r)
	if err != nil {
		return nil, err
	}
	out := make([]memberView, 0, len(ms))
	for i := range ms {
		out = append(out, newMemberView(&ms[i]))
	}
	return out, nil
}

// cohostInput is the body of POST /rooms/{id}/cohosts.
type cohostInput struct {
	UserID *string `json:"user_id"`
}

// addCohost: POST /rooms/{id}/cohosts {user_id} → 201 room (200 when the
// user was a co-host already). Owner or admin only.
func (a *API) addCohost(w http.ResponseWriter, r *http.Request, u *store.User) error {
	var in cohostInput
	if err := a.decodeJSON(w, r, &in); err != nil {
		return err
	}
	if in.UserID == nil || *in.UserID == "" {
		return &Error{Status: http.StatusBadRequest, Code: "validation_failed", Message: "user_id: is required"}
	}
	rm, m, added, err := a.rooms.AddCohost(r.Context(), u, r.PathValue("id"), *in.UserID)
	if err != nil {
		return cohostError(err)
	}
	status := http.StatusOK
	if added {
		status = http.StatusCreated
		if a.memberChanged != nil {
			a.memberChanged(r.Context(), MemberJoined, rm, m)
		}
	}
	return a.writeRoom(w, r, status, u, rm)
}

// removeCohost: DELETE /rooms/{id}/cohosts/{user_id} → 204; the co-host's
// publish ends at once. The owner, an admin, or the co-host leaving.
func (a *API) removeCohost(w http.ResponseWriter, r *http.Request, u *store.User) error {
	userID := r.PathValue("user_id")
	rm, stream, err := a.rooms.RemoveCohost(r.Context(), u, r.PathValue("id"), userID)
	if err != nil {
		return cohostError(err)
	}
	if err := a.hub.Kick(stream); err != nil && !errors.Is(err, hub.ErrNotFound) {
		a.log.Warn("kick stream of removed co-host", "room", rm.ID, "stream", stream, "err", err)
	}
	if a.memberChanged != nil {
		name := ""
		if cu, err := a.users.Get(r.Context(), userID); err == nil {
			name = cu.Name
		}
		a.memberChanged(r.Context(), MemberLeft, rm, &room.Member{UserID: userID, UserName: name, Role: room.RoleCohost, Stream: stream})
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// cohostStreamsOf returns the co-host streams in the hub that match: a
// deleted room's, a banned user's, whose publish ends with them.
func (a *API) cohostStreamsOf(match func(room.StreamRef) bool) []string {
	var out []string
	for _, s := range a.hub.Streams() {
		if ref, ok := room.ParseStream(s.Name()); ok && ref.Kind == room.KindCohost && match(ref) {
			out = append(out, s.Name())
		}
	}
	return out
}

// cohostError maps the co-host rules' errors.
func cohostError(err error) error {
	switch {
	case errors.Is(err, room.ErrTooManyCohosts):
		return &Error{Status: http.StatusConflict, Code: "too_many_cohosts", Message: err.Error(), Err: err}
	case errors.Is(err, room.ErrUserNotFound):
		return &Error{Status: http.StatusNotFound, Code: "not_found", Message: "no such user", Err: err}
	case errors.Is(err, room.ErrNotCohost):
		return &Error{Status: http.StatusNotFound, Code: "not_found", Message: "the user is not a co-host of this room", Err: err}
	case errors.Is(err, room.ErrIsHost):
		return &Error{Status: http.StatusBadRequest, Code: "validation_failed", Message: "user_id: the room's host cannot be its co-host", Err: err}
	case errors.Is(err, room.ErrUserBanned):
		return &Error{Status: http.StatusConflict, Code: "user_banned", Message: "a banned user cannot be a co-host", Err: err}
	case errors.Is(err, room.ErrForbidden):
		return &Error{Status: http.StatusForbidden, Code: "forbidden", Message: "only the room's owner or an admin may add co-hosts; only they or the co-host may remove one", Err: err}
	}
	return roomNotFound(err)
}
