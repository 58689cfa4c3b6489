package chat

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"roomcast/internal/bus"
	"roomcast/internal/room"
	"roomcast/internal/store"
	"roomcast/internal/store/sqlite"
	"roomcast/internal/user"
)

// fakeUsers maps tokens to users.
type fakeUsers map[string]*store.User

func (f fakeUsers) Authenticate(_ context.Context, token string) (*store.User, error) {
	if u, ok := f[token]; ok {
		return u, nil
	}
	return nil, user.ErrUnauthenticated
}

// roomsByDB is room.Service.Get over the store.
type roomsByDB struct{ db testDB }

// testDB is the store of the tests: what chat uses, and what sets up the
// users and rooms. *sqlite.DB and *postgres.DB implement it.
type testDB interface {
	Store
	CreateUser(ctx context.Context, u *store.User) error
	CreateRoom(ctx context.Context, r *store.Room) error
	RoomByID(ctx context.Context, id string) (*store.Room, error)
}

func (r roomsByDB) Get(ctx context.Context, viewer *store.User, id string) (*store.Room, error) {
	rm, err := r.db.RoomByID(ctx, id)
	if err != nil {
		return nil, err
	}
	if !room.CanSee(viewer, rm) {
		return nil, store.ErrNotFound
	}
	return rm, nil
}

// env is a chat server over a real SQLite store behind httptest, with users
// owner (token "t-owner"), alice ("t-alice"), bob ("t-bob"), and a public
// room "r1" and private room "r2" of owner.
type env struct {
	t   *testing.T
	db  testDB
	srv *Server
	hs  *httptest.Server
	log *syncBuffer // the server's logs
}

// syncBuffer is a bytes.Buffer safe for concurrent use.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func newEnv(t *testing.T, cfg Config) *env {
	t.Helper()
	db, users := newTestStore(t)
	return newEnvOn(t, cfg, db, users, Deps{Bus: bus.NewMemory()})
}

// newTestStore opens a SQLite store with the users and rooms newEnv
// describes.
func newTestStore(t *testing.T) (testDB, fakeUsers) {
	t.Helper()
	db, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), sqlite.FileName), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db, seedTestStore(t, db)
}

// seedTestStore creates the users and rooms newEnv describes in db.
func seedTestStore(t *testing.T, db testDB) fakeUsers {
	t.Helper()
	users := fakeUsers{}
	for _, name := range []string{"owner", "alice", "bob"} {
		u := &store.User{ID: "u-" + name, Name: name, Role: store.RoleUser}
		if err := db.CreateUser(t.Context(), u); err != nil {
			t.Fatal(err)
		}
		users["t-"+name] = u
	}
	for _, r := range []*store.Room{
		{ID: "r1", OwnerID: "u-owner", Stream: "s1", Title: "one"},
		{ID: "r2", OwnerID: "u-owner", Stream: "s2", Title: "two", Private: true},
	} {
		if err := db.CreateRoom(t.Context(), r); err != nil {
			t.Fatal(err)
		}
	}
	return users
}

// newEnvOn is a chat server over db with deps.Bus (and deps.Cluster); the
// other deps are the test's.
func newEnvOn(t *testing.T, cfg Config, db testDB, users fakeUsers, deps Deps) *env {
	t.Helper()
	if cfg.LikesInterval == 0 {
		cfg.LikesInterval = 50 * time.Millisecond
	}
	if cfg.PresenceInterval == 0 {
		cfg.PresenceInterval = 50 * time.Millisecond
	}
	logs := &syncBuffer{}
	deps.Store, deps.Users, deps.Rooms = db, users, roomsByDB{db}
	deps.Viewers = func(stream string) int { return 7 }
	deps.Log = slog.New(slog.NewTextHandler(logs, nil))
	srv, err := New(cfg, deps)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v1/rooms/{id}/chat", func(w http.ResponseWriter, r *http.Request) { srv.ServeWS(w, r, r.PathValue("id")) })
	mux.HandleFunc("GET /api/v1/rooms/{id}/messages", func(w http.ResponseWriter, r *http.Request) { srv.ServeMessages(w, r, r.PathValue("id")) })
	mux.HandleFunc("POST /api/v1/rooms/{id}/moderation/{action}", func(w http.ResponseWriter, r *http.Request) {
		srv.ServeModeration(w, r, r.PathValue("id"), r.PathValue("action"))
	})
	hs := httptest.NewServer(mux)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Close(ctx); err != nil {
			t.Errorf("Close: %v", err)
		}
		hs.Close()
	})
	return &env{t: t, db: db, srv: srv, hs: hs, log: logs}
}

// seed stores n messages of alice in the room.
func (e *env) seed(roomID string, n int) {
	e.t.Helper()
	for i := range n {
		m := &store.ChatMessage{RoomID: roomID, ID: fmt.Sprintf("seed-%s-%d", roomID, i), UserID: "u-alice", UserName: "alice", Text: fmt.Sprintf("m%d", i+1)}
		if err := e.db.AppendChatMessage(e.t.Context(), m); err != nil {
			e.t.Fatal(err)
		}
	}
}

// frame is a decoded server frame.
type frame struct {
	Type     string          `json:"type"`
	ID       string          `json:"id"`
	Seq      int64           `json:"seq"`
	User     *userView       `json:"user"`
	Text     string          `json:"text"`
	Total    int64           `json:"total"`
	Online   int             `json:"online"`
	Viewers  int             `json:"viewers"`
	Kind     string          `json:"kind"`
	Code     string          `json:"code"`
	Until    int64           `json:"until"`
	Resumed  bool            `json:"resumed"`
	Messages []frame         `json:"messages"`
	CanSend  bool            `json:"can_send"`
	LastSeq  int64           `json:"last_seq"`
	Pinned   string          `json:"pinned"`
	Raw      json.RawMessage `json:"-"`
}

// wsClient is a test client that unpacks batched frames.
type wsClient struct {
	t       *testing.T
	conn    *websocket.Conn
	pending []frame
	batches int // array frames seen
	err     error
}

func (e *env) dial(roomID, token, query string) *wsClient {
	e.t.Helper()
	c, err := e.tryDial(roomID, token, query)
	if err != nil {
		e.t.Fatalf("dial: %v", err)
	}
	return c
}

func (e *env) tryDial(roomID, token, query string) (*wsClient, error) {
	u := "ws" + strings.TrimPrefix(e.hs.URL, "http") + "/api/v1/rooms/" + roomID + "/chat"
	q := url.Values{}
	if token != "" {
		q.Set("token", token)
	}
	if query != "" {
		extra, _ := url.ParseQuery(query)
		for k, v := range extra {
			q[k] = v
		}
	}
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	ctx, cancel := context.WithTimeout(e.t.Context(), 5*time.Second)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, u, nil)
	if err != nil {
		return nil, err
	}
	e.t.Cleanup(func() { _ = conn.CloseNow() })
	return &wsClient{t: e.t, conn: conn}, nil
}

func (c *wsClient) send(v any) {
	c.t.Helper()
	b, _ := json.Marshal(v)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.conn.Write(ctx, websocket.MessageText, b); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

// read returns the next frame, or an error when the connection ends or
// nothing arrives within 5s.
func (c *wsClient) read() (frame, error) {
	for len(c.pending) == 0 {
		if c.err != nil {
			return frame{}, c.err
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_, b, err := c.conn.Read(ctx)
		cancel()
		if err != nil {
			c.err = err
			return frame{}, err
		}
		var raws []json.RawMessage
		if len(b) > 0 && b[0] == '[' {
			c.batches++
			if err := json.Unmarshal(b, &raws); err != nil {
				c.t.Fatalf("bad batch %s: %v", b, err)
			}
		} else {
			raws = []json.RawMessage{b}
		}
		for _, r := range raws {
			var f frame
			if err := json.Unmarshal(r, &f); err != nil {
				c.t.Fatalf("bad frame %s: %v", r, err)
			}
			f.Raw = r
			c.pending = append(c.pending, f)
		}
	}
	f := c.pending[0]
	c.pending = c.pending[1:]
	return f, nil
}

// expect returns the next frame of type typ, skipping others (presence and
// likes arrive at any time).
func (c *wsClient) expect(typ string) frame {
	c.t.Helper()
	for {
		f, err := c.read()
		if err != nil {
			c.t.Fatalf("waiting for %q: %v", typ, err)
		}
		if f.Type == typ {
			return f
		}
	}
}

// expectWhere returns the next frame of type typ for which ok holds.
func (c *wsClient) expectWhere(typ string, ok func(frame) bool) frame {
	c.t.Helper()
	for {
		f := c.expect(typ)
		if ok(f) {
			return f
		}
	}
}

// expectClose reads until the connection closes and returns the close error.
func (c *wsClient) expectClose() websocket.CloseError {
	c.t.Helper()
	for {
		_, err := c.read()
		if err == nil {
			continue
		}
		var ce websocket.CloseError
		if !errors.As(err, &ce) {
			c.t.Fatalf("connection ended without a close frame: %v", err)
		}
		return ce
	}
}

// join dials and consumes welcome and history.
func (e *env) join(roomID, token string) (*wsClient, frame) {
	e.t.Helper()
	c := e.dial(roomID, token, "")
	c.expect("welcome")
	return c, c.expect("history")
}

func (e *env) post(path, token, body string) *http.Response {
	e.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, e.hs.URL+path, strings.NewReader(body))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

// waitFor polls cond until it holds, failing t after 10s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
