package api

import (
	"errors"
	"net/http"

	"roomcast/internal/httpx"
	"roomcast/internal/room"
	"roomcast/internal/store"
)

// roomStream: GET /rooms/{id}/stream → the statistics of the room's live
// stream (owner or admin), for the studio's health graph; 404
// stream_not_found while nothing publishes. The admin-only
// GET /streams/{name} gives the same for any stream; in a cluster, from
// whichever node holds it, with the viewers of every node.
func (a *API) roomStream(w http.ResponseWriter, r *http.Request, u *store.User) error {
	rm, err := a.rooms.Get(r.Context(), u, r.PathValue("id"))
	if err != nil {
		return roomNotFound(err)
	}
	if !room.CanManage(u, rm) {
		return &Error{Status: http.StatusForbidden, Code: "forbidden", Message: "only the room's owner or an admin may see its stream's health"}
	}
	v, err := a.streamByName(r.Context(), rm.Stream)
	if e := (*Error)(nil); errors.As(err, &e) && e.Code == "stream_not_found" {
		return &Error{Status: http.StatusNotFound, Code: "stream_not_found", Message: "the room's stream is not live"}
	}
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, v)
	return nil
}
