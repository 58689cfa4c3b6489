package api

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"roomcast/internal/cover"
	"roomcast/internal/store"
)

// Covers keeps rooms' covers: the live ones (cover.Grabber) and the stored
// ones (the store). Options.Covers nil leaves rooms without cover_url and
// answers 404 on the cover endpoints.
type Covers interface {
	// LiveCover reports whether the stream is live with a cover.
	LiveCover(stream string) bool
	// RoomCover returns the stored cover shown when the room is not live
	// (store.ErrNotFound if none); withJPEG false leaves JPEG nil.
	RoomCover(ctx context.Context, roomID string, withJPEG bool) (*store.RoomCover, error)
	// PutRoomCover stores a room's cover of c.Source.
	PutRoomCover(ctx context.Context, c *store.RoomCover) error
}

// coverDecodes bounds the uploads decoded at once (each may take a few
// tens of MB while it is decoded).
const coverDecodes = 2

// coverURL returns r's cover_url for viewer, or nil if it has none.
func (a *API) coverURL(ctx context.Context, viewer *store.User, r *store.Room) (*string, error) {
	if a.covers == nil {
		return nil, nil
	}
	if r.Status == store.StatusLive && a.covers.LiveCover(r.Stream) {
		if u := a.rooms.CoverURL(viewer, r, true, time.Time{}); u != "" {
			return &u, nil
		}
		return nil, nil
	}
	c, err := a.covers.RoomCover(ctx, r.ID, false)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("cover of room %s: %w", r.ID, err)
	}
	if u := a.rooms.CoverURL(viewer, r, false, c.UpdatedAt); u != "" {
		return &u, nil
	}
	return nil, nil
}

// putCover: PUT /rooms/{id}/cover (owner or admin), body a JPEG, PNG or
// WebP image of at most cover.MaxUploadBytes → room. The image is checked
// and re-encoded (cover.Sanitize); a refused one stores nothing.
func (a *API) putCover(w http.ResponseWriter, r *http.Request, u *store.User) error {
	if a.covers == nil {
		return &Error{Status: http.StatusNotFound, Code: "not_found", Message: "covers are not enabled"}
	}
	rm, err := a.rooms.Manage(r.Context(), u, r.PathValue("id"))
	if err != nil {
		return roomNotFound(err)
	}
	if r.ContentLength > cover.MaxUploadBytes {
		return coverError(&cover.UploadError{Code: cover.CodeTooLarge, Message: fmt.Sprintf("the image is larger than %d bytes", cover.MaxUploadBytes)})
	}
	var body bytes.Buffer
	n, err := io.Copy(&body, io.LimitReader(r.Body, cover.MaxUploadBytes+1))
	if err != nil {
		return &Error{Status: http.StatusBadRequest, Code: "invalid_request", Message: "the image could not be read: " + err.Error()}
	}
	if n > cover.MaxUploadBytes {
		return coverError(&cover.UploadError{Code: cover.CodeTooLarge, Message: fmt.Sprintf("the image is larger than %d bytes", cover.MaxUploadBytes)})
	}
	select {
	case a.coverSem <- struct{}{}:
	case <-r.Context().Done():
		return r.Context().Err()
	}
	pic, err := cover.Sanitize(body.Bytes())
	<-a.coverSem
	if err != nil {
		return coverError(err)
	}
	c := &store.RoomCover{RoomID: rm.ID, Source: store.CoverUpload, JPEG: pic.JPEG, Width: pic.Width, Height: pic.Height}
	if err := a.covers.PutRoomCover(r.Context(), c); err != nil {
		return roomNotFound(err)
	}
	return a.writeRoom(w, r, http.StatusOK, u, rm)
}

// coverError maps a refused upload to its API error.
func coverError(err error) error {
	ue, ok := cover.IsUploadError(err)
	if !ok {
		return err
	}
	switch ue.Code {
	case cover.CodeTooLarge:
		return &Error{Status: http.StatusRequestEntityTooLarge, Code: "cover_too_large", Message: ue.Message, Err: err}
	case cover.CodeNotImage:
		return &Error{Status: http.StatusUnsupportedMediaType, Code: "cover_not_image", Message: ue.Message, Err: err}
	case cover.CodeBadDimensions:
		return &Error{Status: http.StatusBadRequest, Code: "cover_bad_dimensions", Message: ue.Message, Err: err}
	default:
		return &Error{Status: http.StatusBadRequest, Code: "cover_bad_image", Message: ue.Error(), Err: err}
	}
}

// getCover: GET /rooms/{id}/cover → the room's stored cover (image/jpeg):
// the host's upload, else the last live cover. A private room needs a
// session that may see it or the play signature of its cover_url.
func (a *API) getCover(w http.ResponseWriter, r *http.Request, u *store.User) error {
	if a.covers == nil {
		return &Error{Status: http.StatusNotFound, Code: "not_found", Message: "covers are not enabled"}
	}
	rm, err := a.rooms.CoverRoom(r.Context(), u, r.PathValue("id"), r.URL.Query())
	if err != nil {
		return roomNotFound(err)
	}
	c, err := a.covers.RoomCover(r.Context(), rm.ID, true)
	if errors.Is(err, store.ErrNotFound) {
		return &Error{Status: http.StatusNotFound, Code: "not_found", Message: "the room has no cover"}
	}
	if err != nil {
		return err
	}
	h := w.Header()
	h.Set("Content-Type", "image/jpeg")
	h.Set("Content-Length", strconv.Itoa(len(c.JPEG)))
	// The URL changes with the cover (?v=), so it may be kept a while.
	h.Set("Cache-Control", "public, max-age=300")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	_, err = w.Write(c.JPEG)
	return err
}
