package api

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"roomcast/internal/httpx"
	"roomcast/internal/room"
	"roomcast/internal/store"
)

// Replays is what the replay endpoints need: the recordings in the store
// (store/sqlite.DB has these methods), the removal of a recording's files
// (record.Recorder.Remove) and the room's record setting.
type Replays interface {
	RecordingByID(ctx context.Context, id string) (*store.Recording, error)
	ListRecordings(ctx context.Context, roomID, cursor string, limit int) ([]store.Recording, string, error)
	DeleteRecording(ctx context.Context, id string) error
	UpdateRoom(ctx context.Context, id string, fn func(*store.Room) error) (*store.Room, error)
}

// replayView is the JSON shape of a recording.
type replayView struct {
	ID         string     `json:"id"`
	RoomID     string     `json:"room_id"`
	Status     string     `json:"status"`
	StartedAt  time.Time  `json:"started_at"`
	EndedAt    *time.Time `json:"ended_at"`
	DurationMS int64      `json:"duration_ms"`
	Bytes      int64      `json:"bytes"`
	Segments   int        `json:"segments"`
	Recovered  bool       `json:"recovered"`
	URL        string     `json:"url"`
	// PosterURL is the replay's poster (a JPEG of a frame from its first
	// seconds), null until it is made or without ffmpeg.
	PosterURL *string `json:"poster_url"`
	// Room is set in the listing across rooms (GET /replays).
	Room *roomView `json:"room,omitempty"`
}

// replayList is the answer of GET /rooms/{id}/replays.
type replayList struct {
	Replays    []replayView `json:"replays"`
	NextCursor string       `json:"next_cursor"`
}

// VODPath returns the path of a recording's playlist.
func VODPath(recordingID string) string { return "/vod/" + recordingID + "/index.m3u8" }

// PosterPath returns the path of a recording's poster.
func PosterPath(recordingID string) string { return "/vod/" + recordingID + "/poster.jpg" }

// replayView builds the view of rec in room rm for viewer: the URL carries
// the room's play signature when the room is private (only its managers
// see it).
func (a *API) replayView(viewer *store.User, rm *store.Room, rec *store.Recording) replayView {
	v := replayView{ID: rec.ID, RoomID: rec.RoomID, Status: rec.Status, StartedAt: rec.StartedAt, EndedAt: rec.EndedAt,
		DurationMS: rec.DurationMS, Bytes: rec.Bytes, Segments: rec.Segments, Recovered: rec.Recovered}
	base := strings.TrimRight(a.rooms.Config().PublicURL, "/")
	v.URL = base + VODPath(rec.ID)
	var sig string
	if p := a.rooms.PlayURLs(viewer, rm); p != nil && rm.Private {
		if _, q, ok := strings.Cut(p.HLS, "?"); ok {
			sig = "?" + q
		}
	}
	v.URL += sig
	if a.hasPoster != nil && a.hasPoster(rec.RoomID, rec.ID) {
		u := base + PosterPath(rec.ID) + sig
		v.PosterURL = &u
	}
	return v
}

var errReplaysOff = &Error{Status: http.StatusNotFound, Code: "not_found", Message: "replays are not enabled on this server"}

func replayNotFound(err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return &Error{Status: http.StatusNotFound, Code: "not_found", Message: "no such replay"}
	}
	return err
}

// listReplays: GET /rooms/{id}/replays?cursor=&limit= → newest first.
func (a *API) listReplays(w http.ResponseWriter, r *http.Request, u *store.User) error {
	if a.replays == nil {
		return errReplaysOff
	}
	cursor, limit, err := pageParams(r)
	if err != nil {
		return err
	}
	rm, err := a.rooms.Get(r.Context(), u, r.PathValue("id"))
	if err != nil {
		return roomNotFound(err)
	}
	recs, next, err := a.replays.ListRecordings(r.Context(), rm.ID, cursor, limit)
	if err != nil {
		return err
	}
	out := replayList{Replays: make([]replayView, 0, len(recs)), NextCursor: next}
	for i := range recs {
		out.Replays = append(out.Replays, a.replayView(u, rm, &recs[i]))
	}
	httpx.WriteJSON(w, http.StatusOK, out)
	return nil
}

// maxReplayScans bounds the store pages GET /replays reads for one answer
// (recordings of rooms the caller may not see, or not ready, are skipped).
const maxReplayScans = 8

// listAllReplays: GET /replays?cursor=&limit= → the newest ready replays
// of every room the caller may see, each with its room.
func (a *API) listAllReplays(w http.ResponseWriter, r *http.Request, u *store.User) error {
	if a.replays == nil {
		return errReplaysOff
	}
	cursor, limit, err := pageParams(r)
	if err != nil {
		return err
	}
	out := replayList{Replays: []replayView{}}
	rooms := map[string]*store.Room{} // nil: not visible
	names := ownerNames{}
	// Each store page asks for just what is still missing, so the answer
	// fills at a page boundary and the store's cursor is where it stopped.
	for scan := 0; scan < maxReplayScans && len(out.Replays) < limit; scan++ {
		recs, next, err := a.replays.ListRecordings(r.Context(), "", cursor, limit-len(out.Replays))
		if err != nil {
			return err
		}
		for i := range recs {
			rec := &recs[i]
			rm, seen := rooms[rec.RoomID]
			if !seen {
				rm, err = a.rooms.Get(r.Context(), u, rec.RoomID)
				if err != nil && !errors.Is(err, room.ErrNotFound) {
					return err
				}
				rooms[rec.RoomID] = rm
			}
			if rm == nil || rec.Status != store.RecordingReady {
				continue
			}
			v := a.replayView(u, rm, rec)
			if v.Room, err = a.roomView(r.Context(), u, rm, names); err != nil {
				return err
			}
			out.Replays = append(out.Replays, v)
		}
		cursor = next
		if next == "" {
			break
		}
	}
	out.NextCursor = cursor
	httpx.WriteJSON(w, http.StatusOK, out)
	return nil
}

// replay loads a recording and its room as u may see them: a recording of
// a room u may not see is not found.
func (a *API) replay(r *http.Request, u *store.User) (*store.Recording, *store.Room, error) {
	if a.replays == nil {
		return nil, nil, errReplaysOff
	}
	rec, err := a.replays.RecordingByID(r.Context(), r.PathValue("id"))
	if err != nil {
		return nil, nil, replayNotFound(err)
	}
	rm, err := a.rooms.Get(r.Context(), u, rec.RoomID)
	if err != nil {
		return nil, nil, replayNotFound(err)
	}
	return rec, rm, nil
}

// getReplay: GET /replays/{id} → replay.
func (a *API) getReplay(w http.ResponseWriter, r *http.Request, u *store.User) error {
	rec, rm, err := a.replay(r, u)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, a.replayView(u, rm, rec))
	return nil
}

// deleteReplay: DELETE /replays/{id} → 204, files and row; owner or admin;
// 409 while it is still being recorded.
func (a *API) deleteReplay(w http.ResponseWriter, r *http.Request, u *store.User) error {
	rec, rm, err := a.replay(r, u)
	if err != nil {
		return err
	}
	if !room.CanManage(u, rm) {
		return &Error{Status: http.StatusForbidden, Code: "forbidden", Message: "only the room's owner or an admin may delete its replays"}
	}
	if rec.Status == store.RecordingActive {
		return &Error{Status: http.StatusConflict, Code: "conflict", Message: "the replay is still being recorded"}
	}
	if a.removeReplay != nil {
		if err := a.removeReplay(*rec); err != nil {
			return err
		}
	}
	if err := a.replays.DeleteRecording(r.Context(), rec.ID); err != nil {
		return replayNotFound(err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// setRecord stores a room's record setting (room.Input has no such field:
// the setting belongs to the replays feature). The caller checked that u
// may manage the room.
func (a *API) setRecord(ctx context.Context, rm *store.Room, on bool) (*store.Room, error) {
	if a.replays == nil || rm.Record == on {
		return rm, nil
	}
	return a.replays.UpdateRoom(ctx, rm.ID, func(x *store.Room) error {
		x.Record = on
		return nil
	})
}
