package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"roomcast/internal/auth"
	"roomcast/internal/config"
)

// Keys the room tests configure explicitly, so that they can sign URLs the
// way the server does (and forge ones it must refuse).
const (
	testPushKey = "e2e-push-key-0123456789abcdef"
	testPlayKey = "e2e-play-key-fedcba9876543210"
	// roomGrace is the reconnect grace of the room tests: short, so that
	// rooms end soon after their publisher.
	roomGrace = time.Second
	// roomEndTimeout bounds waiting for a room to end after its publisher
	// left: the grace plus a wide margin for a loaded machine.
	roomEndTimeout = roomGrace + 15*time.Second
)

// roomRules makes a server apply the real publish and play rules: no open
// publishing, known keys and a short reconnect grace.
func roomRules(c *config.Config) {
	c.OpenPublish = false
	c.Auth.PushKey = testPushKey
	c.Auth.PlayKey = testPlayKey
	c.Hub.ReconnectGrace = roomGrace
}

// account is a user logged in over the API.
type account struct {
	ID    string
	Name  string
	Token string
}

// roomJSON is the room object of the API.
type roomJSON struct {
	ID          string     `json:"id"`
	Title       string     `json:"title"`
	Description string     `json:"description"`
	Private     bool       `json:"private"`
	Stream      string     `json:"stream"`
	Status      string     `json:"status"`
	LiveSince   *time.Time `json:"live_since"`
	EndedAt     *time.Time `json:"ended_at"`
	Viewers     int        `json:"viewers"`
	Likes       int64      `json:"likes"`
	Owner       struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	} `json:"owner"`
	Play *struct {
		RTMP      string     `json:"rtmp"`
		FLV       string     `json:"flv"`
		WSFLV     string     `json:"ws_flv"`
		HLS       string     `json:"hls"`
		WHEP      string     `json:"whep"`
		ExpiresAt *time.Time `json:"expires_at"`
	} `json:"play"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// String renders the room for failure messages.
func (r roomJSON) String() string {
	b, _ := json.Marshal(r)
	return string(b)
}

// pushJSON is the answer of POST /rooms/{id}/push-url.
type pushJSON struct {
	URL       string    `json:"url"`
	Server    string    `json:"server"`
	StreamKey string    `json:"stream_key"`
	WHIP      string    `json:"whip"`
	ExpiresAt time.Time `json:"expires_at"`
}

// apiResponse is a raw API answer.
type apiResponse struct {
	Status int
	Header http.Header
	Body   []byte
}

// errorCode returns the code of a JSON error body, or "" if there is none.
func (r apiResponse) errorCode() string {
	var e errorBody
	if json.Unmarshal(r.Body, &e) != nil {
		return ""
	}
	return e.Error.Code
}

// String renders the answer for failure messages.
func (r apiResponse) String() string {
	return fmt.Sprintf("%d %s", r.Status, bytes.TrimSpace(r.Body))
}

// call sends an API request with an optional bearer token and JSON body
// (nil: none) and reads the whole answer. A request is bounded by 10 s.
func (s *testServer) call(ctx context.Context, method, path, token string, in any) (apiResponse, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return apiResponse{}, err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, s.httpURL(path), body)
	if err != nil {
		return apiResponse{}, err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return apiResponse{}, fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return apiResponse{}, fmt.Errorf("%s %s: reading body: %w", method, path, err)
	}
	return apiResponse{Status: resp.StatusCode, Header: resp.Header, Body: b}, nil
}

// mustCall is call that fails the test on a transport error or an answer
// other than want, and decodes a JSON answer into out (if not nil).
func (s *testServer) mustCall(ctx context.Context, t *testing.T, method, path, token string, in any, want int, out any) apiResponse {
	t.Helper()
	r, err := s.call(ctx, method, path, token, in)
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != want {
		t.Fatalf("%s %s: got %v, want status %d", method, path, r, want)
	}
	if out != nil {
		if err := json.Unmarshal(r.Body, out); err != nil {
			t.Fatalf("%s %s: decoding %s: %v", method, path, r.Body, err)
		}
	}
	return r
}

// expectError checks that an API call is answered with the given status
// and error code.
func (s *testServer) expectError(ctx context.Context, t *testing.T, method, path, token string, in any, status int, code string) {
	t.Helper()
	r, err := s.call(ctx, method, path, token, in)
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != status || r.errorCode() != code {
		t.Errorf("%s %s: got %v, want %d %s", method, path, r, status, code)
	}
}

// register creates a user over the API and returns it logged in.
func (s *testServer) register(ctx context.Context, t *testing.T, name string) account {
	t.Helper()
	var out struct {
		Token string `json:"token"`
		User  struct {
			ID   string `json:"id"`
			Name string `json:"name"`
			Role string `json:"role"`
		} `json:"user"`
	}
	s.mustCall(ctx, t, http.MethodPost, "/api/v1/auth/register", "",
		map[string]string{"name": name, "password": "e2e-password-" + name}, http.StatusCreated, &out)
	if out.Token == "" || out.User.ID == "" || out.User.Role != "user" {
		t.Fatalf("register %s: unexpected answer %+v", name, out)
	}
	return account{ID: out.User.ID, Name: out.User.Name, Token: out.Token}
}

// createRoom creates a room owned by owner.
func (s *testServer) createRoom(ctx context.Context, t *testing.T, owner account, title string, private bool) roomJSON {
	t.Helper()
	var r roomJSON
	s.mustCall(ctx, t, http.MethodPost, "/api/v1/rooms", owner.Token,
		map[string]any{"title": title, "private": private}, http.StatusCreated, &r)
	if r.ID == "" || r.Stream == "" || r.Status != "idle" || r.Private != private || r.Owner.ID != owner.ID {
		t.Fatalf("create room %q: unexpected room %v", title, r)
	}
	return r
}

// pushURL asks for a room's push URL as who.
func (s *testServer) pushURL(ctx context.Context, t *testing.T, who account, roomID string) pushJSON {
	t.Helper()
	var p pushJSON
	s.mustCall(ctx, t, http.MethodPost, "/api/v1/rooms/"+roomID+"/push-url", who.Token, nil, http.StatusOK, &p)
	return p
}

// room fetches a room as the holder of token ("" for anonymous).
func (s *testServer) room(ctx context.Context, token, id string) (roomJSON, apiResponse, error) {
	var r roomJSON
	resp, err := s.call(ctx, http.MethodGet, "/api/v1/rooms/"+id, token, nil)
	if err != nil {
		return r, resp, err
	}
	if resp.Status != http.StatusOK {
		return r, resp, fmt.Errorf("GET room %s: %v", id, resp)
	}
	if err := json.Unmarshal(resp.Body, &r); err != nil {
		return r, resp, fmt.Errorf("GET room %s: %w: %s", id, err, resp.Body)
	}
	return r, resp, nil
}

// waitRoom polls a room as the holder of token until cond holds or timeout
// passes, and fails the test then, describing the wait as what.
func (s *testServer) waitRoom(t *testing.T, token, id, what string, timeout time.Duration, cond func(roomJSON) bool) roomJSON {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var (
		last    roomJSON
		lastErr error
	)
	for {
		r, _, err := s.room(ctx, token, id)
		if err == nil && cond(r) {
			return r
		}
		last, lastErr = r, err
		select {
		case <-ctx.Done():
			t.Fatalf("room %s: not %s within %v; last view %v, last error %v", id, what, timeout, last, lastErr)
		case <-time.After(pollInterval):
		}
	}
}

// signedQuery returns the query "txSecret=…&txTime=…" that signs stream
// until exp under key, as the server's signer computes it.
func signedQuery(key, stream string, exp time.Time) string {
	txTime := auth.TxTime(exp)
	return url.Values{auth.ParamTxSecret: {auth.TxSecret(key, stream, txTime)}, auth.ParamTxTime: {txTime}}.Encode()
}

// mediaAnswer is the head of an answer of a media URL and, for errors,
// its JSON error body.
type mediaAnswer struct {
	Status int
	Code   string // the error code, for a non-200 answer
	Body   string // the error body, for a non-200 answer
}

// getMedia GETs a media URL (HTTP-FLV, HLS playlist or segment) and
// returns its status; for an error it reads the JSON error body. A 200
// body (possibly an endless FLV stream) is not read.
func getMedia(ctx context.Context, rawURL string) (mediaAnswer, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return mediaAnswer{}, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return mediaAnswer{}, err
	}
	defer resp.Body.Close()
	a := mediaAnswer{Status: resp.StatusCode}
	if a.Status == http.StatusOK {
		return a, nil
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return a, fmt.Errorf("GET %s: %s: reading body: %w", rawURL, resp.Status, err)
	}
	a.Body = strings.TrimSpace(string(b))
	var e errorBody
	if err := json.Unmarshal(b, &e); err == nil {
		a.Code = e.Error.Code
	}
	return a, nil
}

// expectMediaError checks that GET rawURL is answered with status and the
// JSON error code.
func expectMediaError(ctx context.Context, t *testing.T, rawURL string, status int, code string) {
	t.Helper()
	a, err := getMedia(ctx, rawURL)
	if err != nil {
		t.Errorf("GET %s: %v", rawURL, err)
		return
	}
	if a.Status != status || a.Code != code {
		t.Errorf("GET %s: %d %s, want %d with code %s", rawURL, a.Status, a.Body, status, code)
	}
}

// stop interrupts ffmpeg (SIGINT) as a user stopping a broadcast does: it
// ends the RTMP session cleanly. ffmpeg is killed if it has not exited
// within timeout.
func (p *publisher) stop(t *testing.T, timeout time.Duration) {
	t.Helper()
	if !p.running() {
		t.Fatalf("ffmpeg publisher exited before it was stopped: %v; stderr:\n%s", p.err, p.stderr)
	}
	if err := p.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Logf("interrupt ffmpeg: %v", err)
	}
	if _, ok := p.waitExit(timeout); !ok {
		t.Logf("ffmpeg did not exit within %v of SIGINT; killing it", timeout)
		p.kill()
	}
}

// stripQuery returns rawURL without its query.
func stripQuery(t *testing.T, rawURL string) string {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatalf("parse %q: %v", rawURL, err)
	}
	u.RawQuery = ""
	return u.String()
}

// withQuery returns rawURL with its query replaced by query.
func withQuery(t *testing.T, rawURL, query string) string {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatalf("parse %q: %v", rawURL, err)
	}
	u.RawQuery = query
	return u.String()
}

// checkWSRefused checks that a WebSocket-FLV upgrade of rawURL is refused
// with 403 invalid_signature.
func checkWSRefused(ctx context.Context, t *testing.T, rawURL string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	c, resp, err := websocket.Dial(ctx, rawURL, nil)
	if err == nil {
		c.CloseNow()
		t.Errorf("WebSocket dial %s: accepted, want 403 invalid_signature", rawURL)
		return
	}
	if resp == nil {
		t.Errorf("WebSocket dial %s: %v, want a 403 answer", rawURL, err)
		return
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	var e errorBody
	_ = json.Unmarshal(b, &e)
	if resp.StatusCode != http.StatusForbidden || e.Error.Code != "invalid_signature" {
		t.Errorf("WebSocket dial %s: %s %s, want 403 invalid_signature", rawURL, resp.Status, bytes.TrimSpace(b))
	}
}

// checkWSPlays plays rawURL over WebSocket-FLV until the sequence header
// and the first keyframe.
func checkWSPlays(ctx context.Context, t *testing.T, rawURL string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	c, resp, err := websocket.Dial(ctx, rawURL, nil)
	if err != nil {
		t.Fatalf("WebSocket dial %s: %v (response %v)", rawURL, err, resp)
	}
	defer c.CloseNow()
	c.SetReadLimit(32 << 20)
	s, _, err := newFLVStream(&wsStream{ctx: ctx, c: c})
	if err != nil {
		t.Fatalf("WebSocket-FLV %s: %v", rawURL, err)
	}
	if _, err := checkStartsPlayable(s); err != nil {
		t.Fatalf("WebSocket-FLV %s: %v", rawURL, err)
	}
	_ = c.Close(websocket.StatusNormalClosure, "")
}
