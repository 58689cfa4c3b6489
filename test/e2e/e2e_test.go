// Package e2e runs roomcast end to end: an in-process server on 127.0.0.1:0
// (or a child process, for the crash tests), real ffmpeg publishers, and
// real players (ffprobe, ffmpeg, HTTP-FLV, WebSocket-FLV, HLS and the RTMP
// client). The tests need ffmpeg (with libx264 and libx265) and ffprobe in
// PATH and fail, not skip, without them.
package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"roomcast/internal/app"
	"roomcast/internal/config"
	"roomcast/internal/user"
)

// Time bounds. They are generous because the suite must pass on a loaded
// two-core machine; a healthy server meets them with a wide margin.
const (
	// startTimeout bounds the server's start.
	startTimeout = 10 * time.Second
	// stopTimeout bounds the server's shutdown after its context ends.
	stopTimeout = 15 * time.Second
	// liveTimeout bounds waiting for a freshly started ffmpeg to be live.
	liveTimeout = 15 * time.Second
	// pollInterval is the pause between polls of the API or a playlist.
	pollInterval = 100 * time.Millisecond
	// testTimeout bounds a whole test's network operations.
	testTimeout = 60 * time.Second
)

// streamSeq makes stream names unique within the process.
var streamSeq atomic.Int64

// streamName returns a stream name unique in this run, derived from prefix.
func streamName(prefix string) string {
	return fmt.Sprintf("%s-%d", prefix, streamSeq.Add(1))
}

// testContext returns a context bounded by testTimeout that ends with the
// test.
func testContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	t.Cleanup(cancel)
	return ctx
}

// requireTool returns the path of an external program the tests need, or
// fails the test: a missing ffmpeg must not turn the suite green.
func requireTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("%s is required by the end-to-end tests but was not found in PATH (install ffmpeg, e.g. apt-get install ffmpeg): %v", name, err)
	}
	return p
}

// syncBuffer is a bytes.Buffer that is safe for concurrent use; the server's
// logger and subprocesses write to one while the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write implements io.Writer.
func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// String returns everything written so far.
func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// testServer is a running in-process roomcast.
type testServer struct {
	rtmpAddr string // host:port
	httpAddr string // host:port
	logs     *syncBuffer
	cfg      config.Config

	adminMu      sync.Mutex // guards the two fields below
	adminCreated bool       // the admin account exists
	adminToken   string     // its token, once logged in

	stopOnce sync.Once
	stopFn   func() error // ends the server's context and waits for it
	stopErr  error        // stopFn's result; valid once stopOnce has run
}

// startServer runs roomcast on random local ports until the test ends.
// configure adjusts the configuration first. The server's logs are printed
// if the test fails.
func startServer(t *testing.T, configure ...func(*config.Config)) *testServer {
	t.Helper()
	return launchServer(t, testConfig(t, configure...))
}

// testConfig is the configuration of a test server: random local ports, a
// fresh data directory, debug logs, 1 s HLS segments, open publishing and
// cheap password hashes, then configure's changes.
func testConfig(t *testing.T, configure ...func(*config.Config)) config.Config {
	t.Helper()
	cfg := config.Default()
	cfg.RTMPAddr = "127.0.0.1:0"
	cfg.HTTPAddr = "127.0.0.1:0"
	cfg.WebRTC.UDPAddr, cfg.WebRTC.TCPAddr = "127.0.0.1:0", "127.0.0.1:0"
	cfg.DataDir = t.TempDir()
	cfg.LogLevel = "debug"
	cfg.HLS.SegmentDuration = time.Second
	// The media tests publish plain stream names; the room tests turn this
	// off to check signatures.
	cfg.OpenPublish = true
	// bcrypt's cheapest cost: the tests log in often, under -race.
	cfg.Auth.PasswordCost = 4
	for _, f := range configure {
		f(&cfg)
	}
	return cfg
}

// launchServer runs roomcast with cfg until the test ends or stop is
// called. The server's logs are printed if the test fails. To restart a
// server, stop it and launch its cfg again: the new server has the same
// data directory (database, webhook outbox, generated secrets) and the same
// configured keys, on new random ports.
func launchServer(t *testing.T, cfg config.Config) *testServer {
	t.Helper()
	if err := cfg.Validate(); err != nil {
		t.Fatalf("invalid test configuration: %v", err)
	}

	logs := &syncBuffer{}
	// Registered first so that it runs last, after the shutdown below.
	t.Cleanup(func() {
		if strings.Contains(logs.String(), "panic") {
			t.Errorf("the server logged a panic")
		}
		if t.Failed() {
			t.Logf("server logs:\n%s", logs)
		}
	})

	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan app.Addrs, 1)
	stopped := make(chan struct{})
	var runErr error // Run's result; valid once stopped is closed
	go func() {
		defer close(stopped)
		runErr = app.Run(ctx, cfg, app.Options{
			Logs:          logs,
			ShutdownGrace: 5 * time.Second,
			OnReady:       func(a app.Addrs) { ready <- a },
		})
	}()
	s := &testServer{logs: logs, cfg: cfg}
	s.stopFn = func() error {
		cancel()
		select {
		case <-stopped:
			if runErr != nil {
				return fmt.Errorf("server stopped with an error: %w", runErr)
			}
			return nil
		case <-time.After(stopTimeout):
			return fmt.Errorf("server did not stop within %v of its context ending", stopTimeout)
		}
	}
	t.Cleanup(func() {
		if first, err := s.shutdown(); first && err != nil {
			t.Error(err)
		}
	})

	select {
	case a := <-ready:
		s.rtmpAddr, s.httpAddr = a.RTMP.String(), a.HTTP.String()
		return s
	case <-stopped:
		t.Fatalf("server exited during start: %v", runErr)
	case <-time.After(startTimeout):
		t.Fatalf("server not ready within %v", startTimeout)
	}
	return nil
}

// shutdown stops the server once and returns the result of that stop;
// first is true for the call that stopped it.
func (s *testServer) shutdown() (first bool, err error) {
	s.stopOnce.Do(func() {
		s.stopErr = s.stopFn()
		first = true
	})
	return first, s.stopErr
}

// stop shuts the server down (as its end of a test would) and fails the
// test if it does not stop cleanly within stopTimeout.
func (s *testServer) stop(t *testing.T) {
	t.Helper()
	if _, err := s.shutdown(); err != nil {
		t.Fatal(err)
	}
}

// rtmpURL returns the RTMP URL of a stream in the "live" application.
func (s *testServer) rtmpURL(stream string) string {
	return "rtmp://" + s.rtmpAddr + "/live/" + stream
}

// httpURL returns the URL of path on the HTTP server.
func (s *testServer) httpURL(path string) string {
	return "http://" + s.httpAddr + path
}

// flvURL, wsURL and hlsURL return a stream's playback URLs.
func (s *testServer) flvURL(stream string) string { return s.httpURL("/live/" + stream + ".flv") }
func (s *testServer) wsURL(stream string) string {
	return "ws://" + s.httpAddr + "/live/" + stream + ".flv"
}
func (s *testServer) hlsURL(stream string) string { return s.httpURL("/live/" + stream + ".m3u8") }

// streamStats is the part of GET /api/v1/streams/{name} the tests read.
type streamStats struct {
	Name      string `json:"name"`
	Live      bool   `json:"live"`
	Publisher *struct {
		Protocol   string `json:"protocol"`
		RemoteAddr string `json:"remote_addr"`
	} `json:"publisher"`
	Video *struct {
		Codec  string  `json:"codec"`
		Width  int     `json:"width"`
		Height int     `json:"height"`
		FPS    float64 `json:"fps"`
	} `json:"video"`
	Audio *struct {
		Codec      string `json:"codec"`
		SampleRate int    `json:"sample_rate"`
		Channels   int    `json:"channels"`
	} `json:"audio"`
	BitrateIn         int64          `json:"bitrate_in"`
	BytesIn           uint64         `json:"bytes_in"`
	Viewers           int            `json:"viewers"`
	ViewersByProtocol map[string]int `json:"viewers_by_protocol"`
	DroppedFrames     uint64         `json:"dropped_frames"`
}

// String renders the stats for failure messages.
func (st streamStats) String() string {
	b, _ := json.Marshal(st)
	return string(b)
}

// errorBody is the JSON shape of every error response.
type errorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// stats fetches a stream's statistics. found is false on 404.
func (s *testServer) stats(ctx context.Context, stream string) (st streamStats, found bool, err error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	body, resp, err := s.apiGet(ctx, "/api/v1/streams/"+stream)
	if err != nil {
		return st, false, err
	}
	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusNotFound:
		return st, false, nil
	default:
		return st, false, fmt.Errorf("GET stats of %s: status %s: %s", stream, resp.Status, body)
	}
	if err := json.Unmarshal(body, &st); err != nil {
		return st, false, fmt.Errorf("GET stats of %s: %w: %s", stream, err, body)
	}
	return st, true, nil
}

// waitStats polls a stream's statistics until cond holds (found is false
// while the stream does not exist) or timeout passes, and fails the test
// then, describing the wait as what.
func (s *testServer) waitStats(t *testing.T, stream, what string, timeout time.Duration, cond func(st streamStats, found bool) bool) streamStats {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var (
		last    streamStats
		lastErr error
	)
	for {
		st, found, err := s.stats(ctx, stream)
		if err == nil && cond(st, found) {
			return st
		}
		last, lastErr = st, err
		select {
		case <-ctx.Done():
			t.Fatalf("stream %s: not %s within %v; last stats %v, last error %v", stream, what, timeout, last, lastErr)
		case <-time.After(pollInterval):
		}
	}
}

// waitLive waits until a stream is live and the API knows its video and
// audio tracks: players that connect now get both sequence headers.
func (s *testServer) waitLive(t *testing.T, stream string) streamStats {
	t.Helper()
	return s.waitStats(t, stream, "live with video and audio", liveTimeout, func(st streamStats, found bool) bool {
		return found && st.Live && st.Video != nil && st.Video.Width > 0 && st.Audio != nil
	})
}

// httpGet performs a GET and returns the whole body.
func httpGet(ctx context.Context, url string) ([]byte, *http.Response, error) {
	return httpGetAuth(ctx, url, "")
}

// httpGetAuth is httpGet with a bearer token (none if empty).
func httpGetAuth(ctx context.Context, url, token string) ([]byte, *http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, nil, err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return nil, resp, fmt.Errorf("GET %s: reading body: %w", url, err)
	}
	return body, resp, nil
}

// admin returns the token of an admin account, created on first use with
// the same code path as `roomcast user add --admin`. A failure is not
// remembered: the next call tries again.
func (s *testServer) admin(ctx context.Context) (string, error) {
	const name, password = "e2eadmin", "e2e-admin-password"
	s.adminMu.Lock()
	defer s.adminMu.Unlock()
	if s.adminToken != "" {
		return s.adminToken, nil
	}
	// bcrypt at the default cost takes seconds on a loaded machine: the
	// caller's bound on one API request is too short for it.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if !s.adminCreated {
		// The name is taken if an earlier attempt created the account
		// but timed out, or if the data directory is an earlier server's.
		if _, err := app.AddUser(ctx, s.cfg, name, password, true); err != nil && !errors.Is(err, user.ErrNameTaken) {
			return "", err
		}
		s.adminCreated = true
	}
	body := strings.NewReader(`{"name":"` + name + `","password":"` + password + `"}`)
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, s.httpURL("/api/v1/auth/login"), body)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var out struct {
		Token string `json:"token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || out.Token == "" {
		return "", fmt.Errorf("admin login: %s: %v", resp.Status, err)
	}
	s.adminToken = out.Token
	return s.adminToken, nil
}

// apiGet GETs an admin API path such as /api/v1/streams.
func (s *testServer) apiGet(ctx context.Context, path string) ([]byte, *http.Response, error) {
	token, err := s.admin(ctx)
	if err != nil {
		return nil, nil, err
	}
	return httpGetAuth(ctx, s.httpURL(path), token)
}
