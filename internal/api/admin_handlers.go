package api

import (
	"context"
	"errors"
	"net/http"

	"roomcast/internal/httpx"
	"roomcast/internal/hub"
	"roomcast/internal/media"
	"roomcast/internal/room"
	"roomcast/internal/store"
)

type streamList struct {
	Streams []StreamView `json:"streams"`
}

// listStreams: GET /streams → {streams: [stats and node…]} (admin); in a
// cluster, every node's streams.
func (a *API) listStreams(w http.ResponseWriter, r *http.Request, _ *store.User) error {
	views, err := a.streamViews(r.Context())
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, streamList{Streams: views})
	return nil
}

// streamByName returns the named stream (of the cluster) or an API error.
func (a *API) streamByName(ctx context.Context, name string) (StreamView, error) {
	if !media.ValidName(name) {
		return StreamView{}, &Error{Status: http.StatusBadRequest, Code: "invalid_stream_name", Message: "stream names are 1-128 characters of A-Z a-z 0-9 _ -"}
	}
	notFound := &Error{Status: http.StatusNotFound, Code: "stream_not_found", Message: "stream " + name + " is not live"}
	if a.cluster == nil {
		s := a.hub.Stream(name)
		if s == nil {
			return StreamView{}, notFound
		}
		return StreamView{Stats: s.Stats(), Node: a.node}, nil
	}
	views, err := a.streamViews(ctx)
	if err != nil {
		return StreamView{}, err
	}
	for _, v := range views {
		if v.Name == name {
			return v, nil
		}
	}
	return StreamView{}, notFound
}

// getStream: GET /streams/{name} → stats and node (admin).
func (a *API) getStream(w http.ResponseWriter, r *http.Request, _ *store.User) error {
	v, err := a.streamByName(r.Context(), r.PathValue("name"))
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, v)
	return nil
}

// kickStream: DELETE /streams/{name} → 204; the publisher is disconnected
// on whichever node holds it (admin). Without a push URL of its own it
// cannot come back.
func (a *API) kickStream(w http.ResponseWriter, r *http.Request, _ *store.User) error {
	name := r.PathValue("name")
	if _, err := a.streamByName(r.Context(), name); err != nil {
		return err
	}
	if err := a.kick(r.Context(), name); err != nil {
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
		if err := a.kick(r.Context(), s); err != nil && !errors.Is(err, hub.ErrNotFound) {
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
