package e2e

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"roomcast/internal/config"
	"roomcast/internal/protocol/rtmp"
)

// scrapeMetrics fetches /metrics and returns each sample line's value by
// its series ("name" or `name{labels}`).
func (s *testServer) scrapeMetrics(ctx context.Context, t *testing.T) map[string]float64 {
	t.Helper()
	body, resp, err := httpGet(ctx, s.httpURL("/metrics"))
	if err != nil {
		t.Fatalf("GET /metrics: %v", err)
	}
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("GET /metrics: %s %s", resp.Status, resp.Header.Get("Content-Type"))
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(strings.NewReader(string(body)))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("bad metrics line %q", line)
		}
		out[line[:i]] = v
	}
	return out
}

// waitMetrics scrapes until cond holds or timeout passes.
func (s *testServer) waitMetrics(ctx context.Context, t *testing.T, what string, timeout time.Duration, cond func(m map[string]float64) bool) map[string]float64 {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		m := s.scrapeMetrics(ctx, t)
		if cond(m) {
			return m
		}
		if time.Now().After(deadline) {
			t.Fatalf("metrics: not %s within %v; last scrape %v", what, timeout, m)
		}
		time.Sleep(pollInterval)
	}
}

// TestMetricsMove: the named series exist before anything happens and move
// when a stream is published, viewed over HTTP-FLV and RTMP, and a chat
// message is sent.
func TestMetricsMove(t *testing.T) {
	ctx := testContext(t)
	s := startServer(t, roomRules)
	before := s.scrapeMetrics(ctx, t)
	for _, name := range []string{
		"roomcast_streams", "roomcast_publishers", `roomcast_viewers{protocol="flv"}`, `roomcast_viewers{protocol="rtmp"}`,
		`roomcast_viewers{protocol="ws-flv"}`, `roomcast_viewers{protocol="hls"}`,
		"roomcast_media_received_bytes_total", "roomcast_media_sent_bytes_total", "roomcast_dropped_frames_total",
		"roomcast_slow_viewers_disconnected_total", "roomcast_chat_connections", "roomcast_chat_messages_received_total",
		"roomcast_chat_messages_delivered_total", "roomcast_recordings_active", `roomcast_recordings_finished_total{result="ready"}`,
		"roomcast_webhook_events_total", `roomcast_webhook_deliveries_total{result="delivered"}`,
		"roomcast_webhook_delivery_failures_total", "roomcast_rtmp_connections", "go_goroutines", "process_cpu_seconds_total",
		"roomcast_http_keepalive_connections", "roomcast_http_keepalive_taken_total", "roomcast_http_keepalive_handed_back_total",
	} {
		if _, ok := before[name]; !ok {
			t.Errorf("series %s missing before any activity", name)
		}
	}
	if before["roomcast_publishers"] != 0 || before["roomcast_media_received_bytes_total"] != 0 {
		t.Fatalf("activity before the test: %v", before)
	}

	host := s.register(ctx, t, "metricshost")
	rm := s.createRoom(ctx, t, host, "metrics", false)
	hostChat := dialChat(ctx, t, s, rm.ID, host.Token)
	hostChat.next(ctx, t, "history")
	push := s.pushURL(ctx, t, host, rm.ID)
	startPublisher(t, push.URL)
	s.waitLive(t, rm.Stream)
	viewer := startFLVViewer(t, s.flvURL(rm.Stream))
	player, err := rtmp.Dial(ctx, s.rtmpURL(rm.Stream))
	if err != nil {
		t.Fatalf("rtmp player: %v", err)
	}
	defer player.Close()
	if err := player.Play(ctx); err != nil {
		t.Fatalf("rtmp play: %v", err)
	}
	go func() { // read what the server sends, as a player does
		for {
			if _, err := player.ReadMessage(); err != nil {
				return
			}
		}
	}()
	hostChat.send(ctx, t, map[string]any{"type": "chat", "text": "metrics hello"})
	hostChat.next(ctx, t, "chat")

	live := s.waitMetrics(ctx, t, "showing the live stream, its viewers and the chat", 20*time.Second, func(m map[string]float64) bool {
		// Two streams: the host's, and the room's programme, which the
		// server publishes from it and counts apart.
		return m["roomcast_streams"] == 2 && m["roomcast_publishers"] == 1 && m["roomcast_internal_publishers"] == 1 &&
			m[`roomcast_viewers{protocol="flv"}`] == 1 && m[`roomcast_viewers{protocol="rtmp"}`] == 1 &&
			m["roomcast_media_received_bytes_total"] > 10000 && m["roomcast_media_sent_bytes_total"] > 10000 &&
			m["roomcast_chat_connections"] == 1 && m["roomcast_chat_messages_received_total"] == 1 &&
			m["roomcast_chat_messages_delivered_total"] == 1 && m["roomcast_recordings_active"] == 1 &&
			m["roomcast_rtmp_connections"] >= 2 && viewer.byteCount() > 0
	})
	// HLS over one keep-alive connection: the loop takes it over.
	waitSegments(t, s.hlsURL(rm.Stream), 1)
	hlsClient := &http.Client{Transport: &http.Transport{}}
	defer hlsClient.CloseIdleConnections()
	for range 2 {
		resp, err := hlsClient.Get(s.hlsURL(rm.Stream))
		if err != nil {
			t.Fatalf("HLS playlist: %v", err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "#EXTM3U") {
			t.Fatalf("HLS playlist: %d %q %v", resp.StatusCode, body, err)
		}
	}
	s.waitMetrics(ctx, t, "serving HLS from the keep-alive loop", 20*time.Second, func(m map[string]float64) bool {
		return m["roomcast_http_keepalive_taken_total"] >= 1 && m["roomcast_http_keepalive_connections"] >= 1
	})
	if live[`roomcast_http_requests_total{route="/api/v1/rooms",status="201"}`] != 1 {
		t.Errorf("room creation not counted by route and status: %v", live)
	}
	// The counters keep moving with the stream.
	s.waitMetrics(ctx, t, "counting more media", 20*time.Second, func(m map[string]float64) bool {
		return m["roomcast_media_received_bytes_total"] > live["roomcast_media_received_bytes_total"] &&
			m["roomcast_media_sent_bytes_total"] > live["roomcast_media_sent_bytes_total"]
	})

	// The viewers leave: the gauges go down, the counters stay.
	viewer.close()
	player.Close()
	after := s.waitMetrics(ctx, t, "without viewers", 20*time.Second, func(m map[string]float64) bool {
		return m[`roomcast_viewers{protocol="flv"}`] == 0 && m[`roomcast_viewers{protocol="rtmp"}`] == 0
	})
	if after["roomcast_media_sent_bytes_total"] < live["roomcast_media_sent_bytes_total"] {
		t.Errorf("a counter went down: %v then %v", live["roomcast_media_sent_bytes_total"], after["roomcast_media_sent_bytes_total"])
	}
	if after[`roomcast_http_requests_total{route="/live/{file}",status="hijacked"}`]+after[`roomcast_http_requests_total{route="/live/{file}",status="200"}`] < 1 {
		t.Errorf("the closed HTTP-FLV request was not counted: %v", after)
	}
}

// TestHealthAndReady: /healthz and /readyz answer while the server runs.
func TestHealthAndReady(t *testing.T) {
	ctx := testContext(t)
	s := startServer(t)
	for _, c := range []struct{ path, want string }{{"/healthz", `"ok"`}, {"/readyz", `"ready"`}} {
		body, resp, err := httpGet(ctx, s.httpURL(c.path))
		if err != nil || resp.StatusCode != http.StatusOK || !strings.Contains(string(body), c.want) {
			t.Fatalf("GET %s: %v %v %s", c.path, resp, err, body)
		}
	}
}

// TestMetricsOff: -metrics=false removes /metrics.
func TestMetricsOff(t *testing.T) {
	ctx := testContext(t)
	s := startServer(t, func(c *config.Config) { c.Metrics = false })
	_, resp, err := httpGet(ctx, s.httpURL("/metrics"))
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode == http.StatusOK && strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain; version=") {
		t.Fatal("metrics served although turned off")
	}
}

// TestLimits: the configured limits refuse the next publisher (RTMP
// NetStream.Publish.Rejected), viewer (HTTP 503 too_many_viewers) and chat
// connection (HTTP 503 too_many_connections), and count the refusals.
func TestLimits(t *testing.T) {
	ctx := testContext(t)
	s := startServer(t, func(c *config.Config) {
		c.Limits.MaxPublishers = 1
		c.Limits.MaxViewers = 1
		c.Limits.MaxChatConnections = 1
	})
	first := streamName("limit")
	startPublisher(t, s.rtmpURL(first))
	s.waitLive(t, first)

	// A second publisher is rejected.
	pub, err := rtmp.Dial(ctx, s.rtmpURL(streamName("limit")))
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	err = pub.Publish(ctx)
	var se *rtmp.StatusError
	if !errors.As(err, &se) || se.Code != "NetStream.Publish.Rejected" {
		t.Fatalf("second publisher: %v, want NetStream.Publish.Rejected", err)
	}

	// One viewer, then the next is refused on every connection protocol.
	viewer := startFLVViewer(t, s.flvURL(first))
	defer viewer.close()
	s.waitStats(t, first, "with its viewer", 10*time.Second, func(st streamStats, found bool) bool { return st.Viewers == 1 })
	a, err := getMedia(ctx, s.flvURL(first))
	if err != nil || a.Status != http.StatusServiceUnavailable || a.Code != "too_many_viewers" {
		t.Fatalf("second FLV viewer: %+v %v", a, err)
	}
	player, err := rtmp.Dial(ctx, s.rtmpURL(first))
	if err != nil {
		t.Fatal(err)
	}
	defer player.Close()
	if err := player.Play(ctx); !errors.As(err, &se) || se.Code != "NetStream.Play.Failed" {
		t.Fatalf("second RTMP viewer: %v, want NetStream.Play.Failed", err)
	}

	// One chat connection, then 503.
	host := s.register(ctx, t, "limithost")
	rm := s.createRoom(ctx, t, host, "limits", false)
	cc := dialChat(ctx, t, s, rm.ID, host.Token)
	cc.next(ctx, t, "history")
	body, resp, err := httpGet(ctx, s.httpURL("/api/v1/rooms/"+rm.ID+"/chat"))
	if err != nil || resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(body), `"too_many_connections"`) {
		t.Fatalf("second chat connection: %v %v %s", resp, err, body)
	}
	m := s.scrapeMetrics(ctx, t)
	for limit, n := range map[string]float64{"max-chat-connections": 1, "max-publishers": 1, "max-viewers": 2} {
		if got := m[`roomcast_limit_refusals_total{limit="`+limit+`"}`]; got != n {
			t.Errorf("%s refusals: %v, want %v", limit, got, n)
		}
	}
}
