package metrics

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"roomcast/internal/hub"
	"roomcast/internal/media"
)

func scrape(t *testing.T, m *Metrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != 200 {
		t.Fatalf("scrape: %d %s", rec.Code, rec.Body)
	}
	return rec.Body.String()
}

func TestCollector(t *testing.T) {
	h := hub.New(hub.Config{ReconnectGrace: -1}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	defer h.Close()
	chat := ChatStats{Connections: 2, MessagesIn: 5, MessagesDelivered: 9, Skips: 3, SkippedMessages: 40, SlowDisconnects: 6}
	m := New(Sources{
		Hub:              h,
		Chat:             func() ChatStats { return chat },
		Webhooks:         func() WebhookStats { return WebhookStats{Emitted: 4, Delivered: 3, Failed: 2, Abandoned: 1} },
		RecordingsActive: func() int { return 1 },
		RTMPConnections:  func() int { return 7 },
	}, Build{Version: "v1", Commit: "abc"})
	out := scrape(t, m)
	for _, want := range []string{
		"roomcast_streams 0", "roomcast_publishers 0", `roomcast_viewers{protocol="hls"} 0`,
		"roomcast_media_received_bytes_total 0", "roomcast_chat_connections 2",
		"roomcast_chat_messages_received_total 5", "roomcast_chat_messages_delivered_total 9",
		"roomcast_chat_skips_total 3", "roomcast_chat_skipped_messages_total 40", "roomcast_chat_slow_disconnects_total 6",
		"roomcast_recordings_active 1", "roomcast_rtmp_connections 7",
		"roomcast_webhook_events_total 4", `roomcast_webhook_deliveries_total{result="delivered"} 3`,
		`roomcast_webhook_deliveries_total{result="abandoned"} 1`, "roomcast_webhook_delivery_failures_total 2",
		`roomcast_recordings_finished_total{result="ready"} 0`,
		`roomcast_build_info{commit="abc",goversion="go`, "go_goroutines ", "process_resident_memory_bytes ",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("scrape lacks %q", want)
		}
	}

	p, err := h.Publish("s", hub.PublisherInfo{Protocol: "rtmp"})
	if err != nil {
		t.Fatal(err)
	}
	pk, err := media.NewPacket(media.TagVideo, 0, []byte{0x17, 0, 0, 0, 0, 1, 0x64, 0, 0x1f, 0xff, 0xe1, 0, 4, 0x67, 0x64, 0, 0x1f, 1, 0, 2, 0x68, 0xee})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Write(pk); err != nil {
		t.Fatal(err)
	}
	sub, err := h.Subscribe("s", "flv")
	if err != nil {
		t.Fatal(err)
	}
	h.Stream("s").AddBytesOut(1000)
	// A stream relayed from another node of a cluster is not published here.
	relay, err := h.Publish("r", hub.PublisherInfo{Protocol: "relay"})
	if err != nil {
		t.Fatal(err)
	}
	// A room's programme is published by the server itself.
	prog, err := h.Publish("s-programme", hub.PublisherInfo{Protocol: "programme", Internal: true})
	if err != nil {
		t.Fatal(err)
	}
	out = scrape(t, m)
	for _, want := range []string{"roomcast_streams 3", "roomcast_publishers 1", "roomcast_internal_publishers 1", "roomcast_relays 1", `roomcast_viewers{protocol="flv"} 1`,
		"roomcast_media_received_bytes_total 22", "roomcast_media_sent_bytes_total 1000"} {
		if !strings.Contains(out, want) {
			t.Errorf("live scrape lacks %q", want)
		}
	}
	sub.Close()
	relay.Close(nil)
	prog.Close(nil)
	p.Close(nil) // no grace: the streams end, the counters stay
	out = scrape(t, m)
	for _, want := range []string{"roomcast_streams 0", "roomcast_streams_ended_total 3", "roomcast_media_received_bytes_total 22", "roomcast_media_sent_bytes_total 1000"} {
		if !strings.Contains(out, want) {
			t.Errorf("scrape after the end lacks %q", want)
		}
	}
	m.RecordingFinished(true)
	m.RecordingFinished(false)
	m.Refused("max-chat-connections")
	if v := testutil.ToFloat64(m.recordings.WithLabelValues("failed")); v != 1 {
		t.Errorf("failed recordings %v", v)
	}
	if v := testutil.ToFloat64(m.refused.WithLabelValues("max-chat-connections")); v != 1 {
		t.Errorf("refusals %v", v)
	}
	if n, err := testutil.GatherAndCount(m.Registry()); err != nil || n == 0 {
		t.Fatalf("gather: %d %v", n, err)
	}
}

func TestInstrument(t *testing.T) {
	m := New(Sources{}, Build{})
	mux := http.NewServeMux()
	mux.HandleFunc("GET /rooms/{id}", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusTeapot) })
	mux.HandleFunc("GET /flush", func(w http.ResponseWriter, r *http.Request) {
		if err := http.NewResponseController(w).Flush(); err != nil {
			t.Errorf("flush through the wrapper: %v", err)
		}
	})
	mux.HandleFunc("GET /hijack", func(w http.ResponseWriter, r *http.Request) {
		conn, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Errorf("hijack through the wrapper: %v", err)
			return
		}
		brw.WriteString("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
		brw.Flush()
		conn.Close()
	})
	srv := httptest.NewServer(m.Instrument(mux))
	defer srv.Close()
	for _, path := range []string{"/rooms/1", "/rooms/2", "/flush", "/hijack", "/nowhere"} {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	srv.Close() // waits for the handlers, which count on return
	// except the hijacking one: the server forgets a hijacked connection,
	// and the client has its answer before the handler closes it (which
	// counts it). Wait for that, with a deadline.
	hijacked := m.requests.WithLabelValues("GET /hijack", "hijacked")
	for deadline := time.Now().Add(10 * time.Second); testutil.ToFloat64(hijacked) == 0 && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}
	for _, c := range []struct {
		route, status string
		want          float64
	}{
		{"GET /rooms/{id}", "418", 2}, {"GET /flush", "200", 1}, {"GET /hijack", "hijacked", 1}, {"unmatched", "404", 1},
	} {
		if v := testutil.ToFloat64(m.requests.WithLabelValues(c.route, c.status)); v != c.want {
			t.Errorf("%s %s = %v, want %v", c.route, c.status, v, c.want)
		}
	}
}

func TestHealth(t *testing.T) {
	rec := httptest.NewRecorder()
	Healthz().ServeHTTP(rec, httptest.NewRequest("GET", "/healthz", nil))
	if rec.Code != 200 {
		t.Fatalf("healthz %d", rec.Code)
	}
	ready := false
	var storeErr error
	h := Readyz(func() bool { return ready }, map[string]Check{"store": func(context.Context) error { return storeErr }})
	for _, c := range []struct {
		ready bool
		err   error
		code  int
		body  string
	}{
		{false, nil, 503, "not_ready"}, {true, nil, 200, "ready"}, {true, errors.New("disk gone"), 503, "store: disk gone"},
	} {
		ready, storeErr = c.ready, c.err
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/readyz", nil))
		if rec.Code != c.code || !strings.Contains(rec.Body.String(), c.body) {
			t.Errorf("ready=%v err=%v: %d %s", c.ready, c.err, rec.Code, rec.Body)
		}
	}
}
