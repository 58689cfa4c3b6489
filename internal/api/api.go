// Package api serves roomcast's REST API under /api/v1/. Handlers return an
// error; one function maps errors to a status and a JSON body with a stable
// code.
package api

import (
	"errors"
	"log/slog"
	"net/http"
	"sort"

	"roomcast/internal/httpx"
	"roomcast/internal/hub"
	"roomcast/internal/media"
)

// Error is an API error with an HTTP status and a stable code.
type Error struct {
	Status  int
	Code    string
	Message string
}

// Error implements error.
func (e *Error) Error() string { return e.Code + ": " + e.Message }

// API holds the dependencies of the handlers.
type API struct {
	hub *hub.Hub
	log *slog.Logger
}

// New returns the API.
func New(h *hub.Hub, log *slog.Logger) *API {
	return &API{hub: h, log: log}
}

// Register mounts the API's routes on mux.
func (a *API) Register(mux *http.ServeMux) {
	mux.Handle("GET /api/v1/streams", a.handle(a.listStreams))
	mux.Handle("GET /api/v1/streams/{name}", a.handle(a.getStream))
	mux.Handle("/api/", a.handle(func(w http.ResponseWriter, r *http.Request) error {
		return &Error{Status: http.StatusNotFound, Code: "not_found", Message: "no such API endpoint: " + r.Method + " " + r.URL.Path}
	}))
}

type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// handle adapts a handler that returns an error.
func (a *API) handle(fn handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := fn(w, r); err != nil {
			a.writeError(w, r, err)
		}
	})
}

// writeError is the one place errors become HTTP responses.
func (a *API) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var e *Error
	if !errors.As(err, &e) {
		a.log.Error("api request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		e = &Error{Status: http.StatusInternalServerError, Code: "internal", Message: "internal server error"}
	}
	httpx.WriteError(w, e.Status, e.Code, e.Message)
}

type streamList struct {
	Streams []hub.Stats `json:"streams"`
}

func (a *API) listStreams(w http.ResponseWriter, r *http.Request) error {
	streams := a.hub.Streams()
	out := streamList{Streams: make([]hub.Stats, 0, len(streams))}
	for _, s := range streams {
		out.Streams = append(out.Streams, s.Stats())
	}
	sort.Slice(out.Streams, func(i, j int) bool { return out.Streams[i].Name < out.Streams[j].Name })
	httpx.WriteJSON(w, http.StatusOK, out)
	return nil
}

func (a *API) getStream(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	if !media.ValidName(name) {
		return &Error{Status: http.StatusBadRequest, Code: "invalid_stream_name", Message: "stream names are 1-128 characters of A-Z a-z 0-9 _ -"}
	}
	s := a.hub.Stream(name)
	if s == nil {
		return &Error{Status: http.StatusNotFound, Code: "stream_not_found", Message: "stream " + name + " is not live"}
	}
	httpx.WriteJSON(w, http.StatusOK, s.Stats())
	return nil
}
