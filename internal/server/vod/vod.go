// Package vod serves recorded live sessions (replays) as HLS VOD:
// /vod/ID/index.m3u8 and its segments /vod/ID/N.ts, and their posters
// /vod/ID/poster.jpg, from the files the
// record package wrote. Every request is checked by the app's play rule for
// the recording's room; ids and file names reach the filesystem only
// through record.Recorder.Path, which refuses anything outside the
// recordings directory.
package vod

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"

	"roomcast/internal/httpx"
	"roomcast/internal/record"
	"roomcast/internal/store"
)

// Content types and cache policies. A segment never changes once written;
// the playlist of a finished recording changes only if it is deleted, that
// of a recording in progress with every segment.
const (
	playlistType  = "application/vnd.apple.mpegurl"
	segmentType   = "video/mp2t"
	posterType    = "image/jpeg"
	posterCache   = "public, max-age=3600"
	segmentCache  = "public, max-age=31536000, immutable"
	readyCache    = "public, max-age=60"
	activeCache   = "no-cache"
	privatePrefix = "private"
)

// Store is what the server needs of the store (store/sqlite.DB has it).
type Store interface {
	RecordingByID(ctx context.Context, id string) (*store.Recording, error)
}

// Paths maps a recording's file to its path; record.Recorder has it.
type Paths interface {
	Path(roomID, recordingID, file string) (string, error)
}

// Config is the server's dependencies.
type Config struct {
	Store Store
	Paths Paths
	// Authorize decides whether the request with query q may play rec; it
	// returns whether the room is private (signed URLs are then cached
	// privately). An error wrapping store.ErrNotFound answers 404; other
	// errors are written by Denied.
	Authorize func(ctx context.Context, rec *store.Recording, q url.Values) (private bool, err error)
	// Denied writes a refusal of Authorize (the app's access error mapper).
	Denied func(w http.ResponseWriter, err error)
	Log    *slog.Logger
}

// Server serves replays.
type Server struct {
	cfg Config
}

// New returns a VOD server.
func New(cfg Config) *Server {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	return &Server{cfg: cfg}
}

// idPattern is the shape of a recording id; anything else is 404 before
// the store is asked.
var idPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// Register mounts the server on mux under /vod/.
func (s *Server) Register(mux *http.ServeMux) {
	mux.HandleFunc("/vod/{id}/{file}", s.serve)
	mux.HandleFunc("/vod/", func(w http.ResponseWriter, r *http.Request) {
		notFound(w, "no such replay file: use /vod/ID/index.m3u8")
	})
}

func notFound(w http.ResponseWriter, msg string) {
	httpx.AllowAnyOrigin(w.Header())
	httpx.WriteError(w, http.StatusNotFound, "not_found", msg)
}

// serve answers GET and HEAD of a playlist or segment, and CORS preflights.
func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	if httpx.Preflight(w, r) {
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD, OPTIONS")
		httpx.AllowAnyOrigin(w.Header())
		httpx.WriteError(w, http.StatusMethodNotAllowed, "method_not_allowed", r.Method+" is not allowed; use GET")
		return
	}
	id, file := r.PathValue("id"), r.PathValue("file")
	if !idPattern.MatchString(id) {
		notFound(w, "no such replay")
		return
	}
	rec, err := s.cfg.Store.RecordingByID(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	name, err := s.cfg.Paths.Path(rec.RoomID, rec.ID, file)
	if err != nil {
		if errors.Is(err, record.ErrBadPath) {
			notFound(w, "no such replay file")
			return
		}
		s.fail(w, r, err)
		return
	}
	private, err := s.cfg.Authorize(r.Context(), rec, r.URL.Query())
	if err != nil {
		httpx.AllowAnyOrigin(w.Header())
		if errors.Is(err, store.ErrNotFound) {
			notFound(w, "no such replay")
			return
		}
		s.cfg.Denied(w, err)
		return
	}
	httpx.AllowAnyOrigin(w.Header())
	switch {
	case strings.HasSuffix(file, ".m3u8"):
		s.servePlaylist(w, r, rec, name, private)
	case strings.HasSuffix(file, ".jpg"):
		s.serveFile(w, r, name, posterType, posterCache, private)
	default:
		s.serveFile(w, r, name, segmentType, segmentCache, private)
	}
}

func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, store.ErrNotFound) {
		notFound(w, "no such replay")
		return
	}
	s.cfg.Log.Error("vod request failed", "path", r.URL.Path, "err", err)
	httpx.AllowAnyOrigin(w.Header())
	httpx.WriteError(w, http.StatusInternalServerError, "internal", "internal server error")
}

func (s *Server) servePlaylist(w http.ResponseWriter, r *http.Request, rec *store.Recording, name string, private bool) {
	body, err := os.ReadFile(name)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			notFound(w, "replay has no playlist yet")
			return
		}
		s.fail(w, r, fmt.Errorf("read playlist: %w", err))
		return
	}
	if q := signatureQuery(r.URL.Query()); q != "" {
		body = withQuery(body, q)
	}
	cache := activeCache
	if rec.Status != store.RecordingActive {
		cache = cachePolicy(readyCache, private)
	}
	h := w.Header()
	h.Set("Content-Type", playlistType)
	h.Set("Cache-Control", cache)
	h.Set("Content-Length", fmt.Sprint(len(body)))
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodGet {
		_, _ = w.Write(body)
	}
}

// serveFile serves a segment or the poster, files that never change once
// written.
func (s *Server) serveFile(w http.ResponseWriter, r *http.Request, name, contentType, cache string, private bool) {
	f, err := os.Open(name)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			notFound(w, "no such replay file")
			return
		}
		s.fail(w, r, fmt.Errorf("open replay file: %w", err))
		return
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		notFound(w, "no such replay file")
		return
	}
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("Cache-Control", cachePolicy(cache, private))
	http.ServeContent(w, r, "", fi.ModTime(), f)
}

// cachePolicy makes a shared cache policy private for a private room: its
// responses must not be kept by shared caches.
func cachePolicy(policy string, private bool) string {
	if private {
		return privatePrefix + strings.TrimPrefix(policy, "public")
	}
	return policy
}

// signatureQuery returns the play signature of q, re-encoded, or "".
func signatureQuery(q url.Values) string {
	secret, txTime := q.Get("txSecret"), q.Get("txTime")
	if secret == "" && txTime == "" {
		return ""
	}
	return url.Values{"txSecret": {secret}, "txTime": {txTime}}.Encode()
}

// withQuery appends query to every URI line of a playlist, so that a
// private room's segments are fetched with the playlist's signature.
func withQuery(body []byte, query string) []byte {
	out := make([]byte, 0, len(body)+(len(query)+1)*bytes.Count(body, []byte(".ts")))
	for line := range bytes.Lines(body) {
		trimmed := bytes.TrimRight(line, "\r\n")
		if len(trimmed) == 0 || trimmed[0] == '#' {
			out = append(out, line...)
			continue
		}
		out = append(out, trimmed...)
		out = append(out, '?')
		out = append(out, query...)
		out = append(out, line[len(trimmed):]...)
	}
	return out
}
