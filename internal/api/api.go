// Package api serves roomcast's REST API under /api/v1/. Handlers return an
// error; one function (writeError) maps errors to a status and a JSON body
// with a stable code.
//
// Every route is declared once, in the table returned by routes: the mux,
// the authentication each route needs, its rate limit and the test that
// compares the routes with the OpenAPI document all read that table.
// Routes under /api/v1/ that other packages serve (the chat) are listed by
// ExternalRoutes, so that the document covers them too.
package api

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"roomcast/internal/httpx"
	"roomcast/internal/hub"
	"roomcast/internal/room"
	"roomcast/internal/store"
	"roomcast/internal/user"
)

// DefaultMaxBodyBytes bounds a request body when Options.MaxBodyBytes is 0.
const DefaultMaxBodyBytes = 64 << 10

// Default rate limits per client IP.
var (
	// DefaultLoginLimit applies to password and WeChat logins: bursts of
	// 10, then one every 6 s (10 a minute).
	DefaultLoginLimit = RateLimit{Burst: 10, Every: 6 * time.Second}
	// DefaultRegisterLimit applies to registrations: bursts of 5, then one
	// a minute.
	DefaultRegisterLimit = RateLimit{Burst: 5, Every: time.Minute}
)

// RateLimit is a token bucket per client IP: Burst requests at once, then
// one more every Every. The zero value means the endpoint's default; a
// negative Burst turns the limit off.
type RateLimit struct {
	Burst int
	Every time.Duration
}

// Options are the API's dependencies and settings.
type Options struct {
	// Hub, Users and Rooms are required.
	Hub   *hub.Hub
	Users *user.Service
	Rooms *room.Service
	// Log receives failed requests; nil discards.
	Log *slog.Logger
	// MaxBodyBytes bounds a request body (default DefaultMaxBodyBytes);
	// larger bodies get 413 body_too_large.
	MaxBodyBytes int64
	// LoginLimit limits POST /auth/login and /auth/wechat per client IP
	// (default DefaultLoginLimit); RegisterLimit limits POST /auth/register
	// (default DefaultRegisterLimit).
	LoginLimit    RateLimit
	RegisterLimit RateLimit
	// CORSOrigins are the browser origins ("https://example.com") allowed to
	// call the API from another origin; "*" allows any. Empty: none.
	CORSOrigins []string
	// TrustProxy takes the client IP for rate limits from the last
	// X-Forwarded-For address (the one the proxy in front of roomcast
	// added) instead of the connection's address. Set it only behind a
	// proxy that sets that header.
	TrustProxy bool
	// Now returns the current time for rate limits; nil means time.Now.
	Now func() time.Time
	// Replays serves the replay endpoints and the rooms' record setting;
	// nil answers 404 on the replay endpoints. RemoveReplay deletes a
	// recording's files (record.Recorder.Remove) before its row goes;
	// RemoveRoomReplays deletes a deleted room's recordings' files
	// (record.Recorder.RemoveRoom; the store drops their rows).
	Replays           Replays
	RemoveReplay      func(store.Recording) error
	RemoveRoomReplays func(roomID string) error
	// RoomDeleted, if set, is called after a room was deleted (the chat
	// closes the room's connections).
	RoomDeleted func(ctx context.Context, roomID string) error
	// MemberChanged, if set, is called after a co-host was added
	// (MemberJoined) or removed (MemberLeft) through the API (the chat
	// tells the room).
	MemberChanged func(ctx context.Context, event string, r *store.Room, m *room.Member)
	// Cluster, if set, makes the stream endpoints cluster-wide (streams of
	// every node, kicks forwarded to the holding node). Node is this
	// node's id, shown as the streams' node without a cluster.
	Cluster Cluster
	Node    string
	// HasPoster, if set, reports whether a recording has its poster
	// (record.Recorder.HasPoster): replays then get a poster_url.
	HasPoster func(roomID, recordingID string) bool
	// Renditions, if set, returns the live renditions of a stream (the
	// quality ladder): live rooms' play then lists them.
	Renditions func(stream string) []Rendition
	// Covers, if set, gives rooms their cover_url and serves
	// PUT/GET /rooms/{id}/cover.
	Covers Covers
}

// API holds the dependencies of the handlers.
type API struct {
	hub     *hub.Hub
	users   *user.Service
	rooms   *room.Service
	log     *slog.Logger
	maxBody int64
	origins map[string]bool // allowed CORS origins; "*" allows all
	proxy   bool

	replays           Replays
	removeReplay      func(store.Recording) error
	removeRoomReplays func(roomID string) error
	roomDeleted       func(ctx context.Context, roomID string) error
	memberChanged     func(ctx context.Context, event string, r *store.Room, m *room.Member)
	cluster           Cluster
	node              string
	covers            Covers
	hasPoster         func(roomID, recordingID string) bool
	renditions        func(stream string) []Rendition
	coverSem          chan struct{}

	loginLimit, registerLimit *httpx.Limiter

	handler http.Handler
}

// New checks o and returns the API.
func New(o Options) (*API, error) {
	if o.Hub == nil || o.Users == nil || o.Rooms == nil {
		return nil, errors.New("api: Hub, Users and Rooms are required")
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.MaxBodyBytes < 0 {
		return nil, fmt.Errorf("api: negative body limit %d", o.MaxBodyBytes)
	}
	if o.MaxBodyBytes == 0 {
		o.MaxBodyBytes = DefaultMaxBodyBytes
	}
	a := &API{hub: o.Hub, users: o.Users, rooms: o.Rooms, log: o.Log, maxBody: o.MaxBodyBytes,
		origins: make(map[string]bool), proxy: o.TrustProxy, replays: o.Replays, removeReplay: o.RemoveReplay, removeRoomReplays: o.RemoveRoomReplays, roomDeleted: o.RoomDeleted, cluster: o.Cluster, node: o.Node,
		memberChanged: o.MemberChanged}
	a.covers, a.coverSem, a.hasPoster, a.renditions = o.Covers, make(chan struct{}, coverDecodes), o.HasPoster, o.Renditions
	for _, origin := range o.CORSOrigins {
		norm, err := normalizeOrigin(origin)
		if err != nil {
			return nil, fmt.Errorf("api: CORS origin: %w", err)
		}
		a.origins[norm] = true
	}
	var err error
	if a.loginLimit, err = newLimiter(o.LoginLimit, DefaultLoginLimit, o.Now); err != nil {
		return nil, fmt.Errorf("api: login limit: %w", err)
	}
	if a.registerLimit, err = newLimiter(o.RegisterLimit, DefaultRegisterLimit, o.Now); err != nil {
		return nil, fmt.Errorf("api: register limit: %w", err)
	}
	a.handler = a.cors(a.newMux())
	return a, nil
}

// normalizeOrigin checks an allowed origin ("*" or scheme://host[:port])
// and returns it lower-cased.
func normalizeOrigin(o string) (string, error) {
	if o == "*" {
		return o, nil
	}
	u, err := url.Parse(o)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
		(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return "", fmt.Errorf("%q is not \"*\" or an origin like https://example.com", o)
	}
	return strings.ToLower(u.Scheme + "://" + u.Host), nil
}

// HubViewers returns the viewer count function room.Config.Viewers wants:
// the number of viewers of a stream over all protocols, 0 when the hub has
// no such stream.
func HubViewers(h *hub.Hub) func(stream string) int {
	return func(stream string) int {
		if s := h.Stream(stream); s != nil {
			return s.Stats().Viewers
		}
		return 0
	}
}

// Register mounts the API on mux under /api/. More specific patterns
// registered on mux by others (the chat WebSocket) take precedence.
func (a *API) Register(mux *http.ServeMux) {
	mux.Handle("/api/", a.handler)
}

// Handler returns the API's handler for every path under /api/.
func (a *API) Handler() http.Handler { return a.handler }

// access is what a route requires of the caller.
type access uint8

const (
	// open: tokens are ignored (login, register: a stale token must not
	// get in the way).
	open access = iota
	// optional: anonymous callers are served; a token, if sent, must be
	// valid.
	optional
	// loggedIn: a valid session is required (401 otherwise).
	loggedIn
	// adminOnly: a valid session of an admin is required (401, then 403).
	adminOnly
)

// handlerFunc handles a request of the caller u (nil when anonymous).
type handlerFunc func(w http.ResponseWriter, r *http.Request, u *store.User) error

// route is one entry of the route table.
type route struct {
	method  string
	pattern string // ServeMux pattern; also the OpenAPI path
	access  access
	limit   *httpx.Limiter // per-IP rate limit, or nil
	h       handlerFunc
}

// routes is the route table.
func (a *API) routes() []route {
	return []route{
		{"POST", "/api/v1/auth/register", open, a.registerLimit, a.register},
		{"POST", "/api/v1/auth/login", open, a.loginLimit, a.login},
		{"POST", "/api/v1/auth/wechat", open, a.loginLimit, a.loginWeChat},
		{"POST", "/api/v1/auth/logout", loggedIn, nil, a.logout},
		{"GET", "/api/v1/me", loggedIn, nil, a.me},

		{"POST", "/api/v1/rooms", loggedIn, nil, a.createRoom},
		{"GET", "/api/v1/rooms", optional, nil, a.listRooms},
		{"GET", "/api/v1/rooms/{id}", optional, nil, a.getRoom},
		{"PATCH", "/api/v1/rooms/{id}", loggedIn, nil, a.updateRoom},
		{"DELETE", "/api/v1/rooms/{id}", loggedIn, nil, a.deleteRoom},
		{"POST", "/api/v1/rooms/{id}/push-url", loggedIn, nil, a.pushURL},
		{"GET", "/api/v1/rooms/{id}/replays", optional, nil, a.listReplays},
		{"GET", "/api/v1/rooms/{id}/stream", loggedIn, nil, a.roomStream},
		{"POST", "/api/v1/rooms/{id}/cohosts", loggedIn, nil, a.addCohost},
		{"DELETE", "/api/v1/rooms/{id}/cohosts/{user_id}", loggedIn, nil, a.removeCohost},
		{"PUT", "/api/v1/rooms/{id}/cover", loggedIn, nil, a.putCover},
		{"GET", "/api/v1/rooms/{id}/cover", optional, nil, a.getCover},

		{"GET", "/api/v1/replays", optional, nil, a.listAllReplays},
		{"GET", "/api/v1/replays/{id}", optional, nil, a.getReplay},
		{"DELETE", "/api/v1/replays/{id}", loggedIn, nil, a.deleteReplay},

		{"GET", "/api/v1/streams", adminOnly, nil, a.listStreams},
		{"GET", "/api/v1/streams/{name}", adminOnly, nil, a.getStream},
		{"DELETE", "/api/v1/streams/{name}", adminOnly, nil, a.kickStream},

		{"GET", "/api/v1/users", adminOnly, nil, a.listUsers},
		{"POST", "/api/v1/users/{id}/ban", adminOnly, nil, a.banUser},
		{"POST", "/api/v1/users/{id}/unban", adminOnly, nil, a.unbanUser},

		{"GET", "/api/v1/openapi.json", open, nil, a.openAPI},
	}
}

// ExternalRoute is a route under /api/v1/ that another package serves: the
// app mounts it on the mux next to the API (see Register), and it belongs
// to the API's documented surface (openapi.json, docs/api.md) all the same.
type ExternalRoute struct {
	Method  string
	Pattern string // ServeMux pattern; also the OpenAPI path
	Owner   string // the package that serves it
}

// ExternalRoutes returns the routes under /api/v1/ served outside this
// package. The OpenAPI test checks them against openapi.json with the
// route table; whoever adds such a route to the app adds it here too.
func ExternalRoutes() []ExternalRoute {
	return []ExternalRoute{
		{"GET", "/api/v1/rooms/{id}/chat", "chat"}, // WebSocket upgrade
		{"GET", "/api/v1/rooms/{id}/messages", "chat"},
		{"POST", "/api/v1/rooms/{id}/moderation/{action}", "chat"},
	}
}

// newMux builds the mux from the route table: one handler per path pattern
// that dispatches on the method, so that a wrong method gets a JSON 405
// with an Allow header, and a JSON 404 for every unknown path.
func (a *API) newMux() *http.ServeMux {
	mux := http.NewServeMux()
	byPattern := map[string]map[string]route{}
	var patterns []string
	for _, rt := range a.routes() {
		if byPattern[rt.pattern] == nil {
			byPattern[rt.pattern] = map[string]route{}
			patterns = append(patterns, rt.pattern)
		}
		byPattern[rt.pattern][rt.method] = rt
	}
	for _, p := range patterns {
		methods := byPattern[p]
		allow := make([]string, 0, len(methods)+1)
		for m := range methods {
			allow = append(allow, m)
		}
		allow = append(allow, http.MethodOptions)
		slices.Sort(allow)
		allowHeader := strings.Join(allow, ", ")
		mux.Handle(p, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			rt, ok := methods[r.Method]
			if !ok {
				w.Header().Set("Allow", allowHeader)
				if r.Method == http.MethodOptions {
					w.WriteHeader(http.StatusNoContent)
					return
				}
				a.writeError(w, r, &Error{Status: http.StatusMethodNotAllowed, Code: "method_not_allowed",
					Message: r.Method + " is not allowed on " + r.URL.Path + "; allowed: " + allowHeader})
				return
			}
			a.serve(w, r, rt)
		}))
	}
	mux.Handle("/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.writeError(w, r, &Error{Status: http.StatusNotFound, Code: "not_found",
			Message: "no such API endpoint: " + r.Method + " " + r.URL.Path})
	}))
	return mux
}

// serve runs one route: rate limit, authentication, then the handler.
func (a *API) serve(w http.ResponseWriter, r *http.Request, rt route) {
	err := func() error {
		if rt.limit != nil {
			if wait, ok := rt.limit.Allow(a.clientIP(r)); !ok {
				return &Error{Status: http.StatusTooManyRequests, Code: "rate_limited",
					Message: "too many requests; retry later", RetryAfter: wait}
			}
		}
		var u *store.User
		if rt.access != open {
			var err error
			if u, err = a.authenticate(r, rt.access != optional); err != nil {
				return err
			}
			if rt.access == adminOnly && u.Role != store.RoleAdmin {
				return &Error{Status: http.StatusForbidden, Code: "forbidden", Message: "this endpoint is for admins only"}
			}
		}
		return rt.h(w, r, u)
	}()
	if err != nil {
		a.writeError(w, r, err)
	}
}
