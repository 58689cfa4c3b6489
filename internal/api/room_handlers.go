package api

import (
	"errors"
	"net/http"

	"roomcast/internal/httpx"
	"roomcast/internal/hub"
	"roomcast/internal/room"
	"roomcast/internal/store"
)

// roomInput is the body of POST /rooms and PATCH /rooms/{id}; absent (or
// null) fields are left alone.
type roomInput struct {
	Title       *string `json:"title"`
	Description *string `json:"description"`
	Private     *bool   `json:"private"`
	Record      *bool   `json:"record"`
}

func (in roomInput) input() room.Input {
	return room.Input{Title: in.Title, Description: in.Description, Private: in.Private}
}

// writeRoom answers with the view of one room.
func (a *API) writeRoom(w http.ResponseWriter, r *http.Request, status int, u *store.User, rm *store.Room) error {
	v, err := a.roomView(r.Context(), u, rm, ownerNames{})
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, status, v)
	return nil
}

// createRoom: POST /rooms {title, description?, private?, record?} → 201
// room; record (recording of its lives as replays) defaults to true.
func (a *API) createRoom(w http.ResponseWriter, r *http.Request, u *store.User) error {
	var in roomInput
	if err := a.decodeJSON(w, r, &in); err != nil {
		return err
	}
	rm, err := a.rooms.Create(r.Context(), u, in.input())
	if err != nil {
		return err
	}
	if rm, err = a.setRecord(r.Context(), rm, in.Record == nil || *in.Record); err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/rooms/"+rm.ID)
	return a.writeRoom(w, r, http.StatusCreated, u, rm)
}

// listRooms: GET /rooms?status=live|idle|ended|all&owner=ID|me&cursor=&limit=.
func (a *API) listRooms(w http.ResponseWriter, r *http.Request, u *store.User) error {
	cursor, limit, err := pageParams(r)
	if err != nil {
		return err
	}
	q := room.ListQuery{Cursor: cursor, Limit: limit}
	switch s := r.URL.Query().Get("status"); s {
	case "", "all":
	case store.StatusLive, store.StatusIdle, store.StatusEnded:
		q.Status = s
	default:
		return &Error{Status: http.StatusBadRequest, Code: "validation_failed", Message: "status: must be live, idle, ended or all"}
	}
	switch owner := r.URL.Query().Get("owner"); {
	case owner == "me" && u == nil:
		return &Error{Status: http.StatusUnauthorized, Code: "unauthorized", Message: "log in to list your rooms"}
	case owner == "me":
		q.OwnerID = u.ID
	default:
		q.OwnerID = owner
	}
	rooms, next, err := a.rooms.List(r.Context(), u, q)
	if err != nil {
		return err
	}
	out := roomList{Rooms: make([]*roomView, 0, len(rooms)), NextCursor: next}
	names := ownerNames{}
	for i := range rooms {
		v, err := a.roomView(r.Context(), u, &rooms[i], names)
		if err != nil {
			return err
		}
		out.Rooms = append(out.Rooms, v)
	}
	httpx.WriteJSON(w, http.StatusOK, out)
	return nil
}

// getRoom: GET /rooms/{id} → room (404 for a private room of someone else).
func (a *API) getRoom(w http.ResponseWriter, r *http.Request, u *store.User) error {
	rm, err := a.rooms.Get(r.Context(), u, r.PathValue("id"))
	if err != nil {
		return roomNotFound(err)
	}
	return a.writeRoom(w, r, http.StatusOK, u, rm)
}

// updateRoom: PATCH /rooms/{id} {title?, description?, private?, record?} →
// room.
func (a *API) updateRoom(w http.ResponseWriter, r *http.Request, u *store.User) error {
	var in roomInput
	if err := a.decodeJSON(w, r, &in); err != nil {
		return err
	}
	rm, err := a.rooms.Update(r.Context(), u, r.PathValue("id"), in.input())
	if err != nil {
		return roomNotFound(err)
	}
	if in.Record != nil {
		if rm, err = a.setRecord(r.Context(), rm, *in.Record); err != nil {
			return roomNotFound(err)
		}
	}
	return a.writeRoom(w, r, http.StatusOK, u, rm)
}

// deleteRoom: DELETE /rooms/{id} → 204; a live stream of the room is
// kicked and its replays' files are deleted.
func (a *API) deleteRoom(w http.ResponseWriter, r *http.Request, u *store.User) error {
	rm, err := a.rooms.Delete(r.Context(), u, r.PathValue("id"))
	if err != nil {
		return roomNotFound(err)
	}
	streams := a.cohostStreamsOf(func(ref room.StreamRef) bool { return ref.Room == rm.Stream })
	for _, s := range append([]string{rm.Stream}, streams...) {
		if err := a.kick(r.Context(), s); err != nil && !errors.Is(err, hub.ErrNotFound) {
			a.log.Warn("kick stream of deleted room", "room", rm.ID, "stream", s, "err", err)
		}
	}
	if a.removeRoomReplays != nil {
		if err := a.removeRoomReplays(rm.ID); err != nil {
			a.log.Warn("replay files of deleted room not removed", "room", rm.ID, "err", err)
		}
	}
	if a.roomDeleted != nil {
		if err := a.roomDeleted(r.Context(), rm.ID); err != nil {
			a.log.Warn("chat of deleted room not closed", "room", rm.ID, "err", err)
		}
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// pushURL: POST /rooms/{id}/push-url → {url, server, stream_key, expires_at}.
func (a *API) pushURL(w http.ResponseWriter, r *http.Request, u *store.User) error {
	p, err := a.rooms.PushURL(r.Context(), u, r.PathValue("id"))
	if err != nil {
		return roomNotFound(err)
	}
	httpx.WriteJSON(w, http.StatusOK, newPushView(p))
	return nil
}

// roomNotFound gives a missing room its own message.
func roomNotFound(err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return &Error{Status: http.StatusNotFound, Code: "not_found", Message: "no such room"}
	}
	return err
}
