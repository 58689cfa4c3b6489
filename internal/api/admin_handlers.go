package api

import (
	"errors"
	"net/http"
	"sort"

	"roomcast/internal/httpx"
	"roomcast/internal/hub"
	"roomcast/internal/media"
	"roomcast/internal/room"
	"roomcast/internal/store"
)

type streamList struct {
	Streams []hub.Stats `json:"streams"`
}

// listStreams: GET /streams → {streams: [stats…]} (admin).
func (a *API) listStreams(w http.ResponseWriter, r *http.Request, _ *store.User) error {
	streams := a.hub.Streams()
	out := streamList{Streams: make([]hub.Stats, 0, len(streams))}
	for _, s := range streams {
		out.Streams = append(out.Streams, s.Stats())
	}
	sort.Slice(out.Streams, func(i, j int) bool { return out.Streams[i].Name < out.Streams[j].Name })
	httpx.WriteJSON(w, http.StatusOK, out)
	return nil
}

// streamByName returns the named stream or an API error.
func (a *API) streamByName(name string) (*hub.Stream, error) {
	if !media.ValidName(name) {
		return nil, &Error{Status: http.StatusBadRequest, Code: "invalid_stream_name", Message: "stream names are 1-128 characters of A-Z a-z 0-9 _ -"}
	}
	s := a.hub.Stream(name)
	if s == nil {
		return nil, &Error{Status: http.StatusNotFound, Code: "stream_not_found", Message: "stream " + name + " is not live"}
	}
	return s, nil
}

// getStream: GET /streams/{name} → stats (admin).
func (a *API) getStream(w http.ResponseWriter, r *http.Request, _ *store.User) error {
	s, err := a.streamByName(r.PathValue("name"))
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, s.Stats())
	return nil
}

// kickStream: DELETE /streams/{name} → 204; the publisher is disconnected
// (admin). Without a push URL of its own it cannot come back.
func (a *API) kickStream(w http.ResponseWriter, r *http.Request, _ *store.User) error {
	name := r.PathValue("name")
	if _, err := a.streamByName(name); err != nil {
		return err
	}
	if err := a.hub.Kick(name); err != nil {
		if errors.Is(err, hub.ErrNotFound) {
			return &Error{Status: http.StatusNotFound, Code: "stream_not_found", Message: "stream " + name + " has no publisher"}
		}
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// listUsers: GET /users?cursor=&limit= → {users, next_cursor} (admin).
func (a *API) listUsers(w http.ResponseWriter, r *http.Request, _ *store.User) error {
	cursor, limit, err := pageParams(r)
	if err != nil {
		return err
	}
	users, next, err := a.users.List(r.Context(), cursor, limit)
	if err != nil {
		return err
	}
	out := userList{Users: make([]userView, 0, len(users)), NextCursor: next}
	for i := range users {
		out.Users = append(out.Users, newUserView(&users[i]))
	}
	httpx.WriteJSON(w, http.StatusOK, out)
	return nil
}

// banUser: POST /users/{id}/ban → user (admin). The user's sessions end
// and their live streams are kicked.
func (a *API) banUser(w http.ResponseWriter, r *http.Request, me *store.User) error {
	id := r.PathValue("id")
	if id == me.ID {
		return &Error{Status: http.StatusConflict, Code: "conflict", Message: "you cannot ban yourself"}
	}
	u, err := a.users.SetBanned(r.Context(), id, true)
	if err != nil {
		return userNotFound(err)
	}
	streams, err := a.rooms.LiveStreams(r.Context(), id)
	if err != nil {
		return err
	}
	for _, s := range append(streams, a.cohostStreamsOf(func(ref room.StreamRef) bool { return ref.UserID == id })...) {
		if err := a.hub.Kick(s); err != nil && !errors.Is(err, hub.ErrNotFound) {
			a.log.Warn("kick stream of banned user", "user", id, "stream", s, "err", err)
		}
	}
	httpx.WriteJSON(w, http.StatusOK, newUserView(u))
	return nil
}

// unbanUser: POST /users/{id}/unban → user (admin).
func (a *API) unbanUser(w http.ResponseWriter, r *http.Request, _ *store.User) error {
	u, err := a.users.SetBanned(r.Context(), r.PathValue("id"), false)
	if err != nil {
		return userNotFound(err)
	}
	httpx.WriteJSON(w, http.StatusOK, newUserView(u))
	return nil
}

// userNotFound gives a missing user its own message.
func userNotFound(err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return &Error{Status: http.StatusNotFound, Code: "not_found", Message: "no such user"}
	}
	return err
}
