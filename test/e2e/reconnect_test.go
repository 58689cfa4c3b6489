package e2e

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"roomcast/internal/config"
)

// TestPublisherReconnect kills the publisher and starts a new one within the
// reconnect grace: the HTTP-FLV viewer stays connected and plays the new
// publisher's video, and the HLS playlist marks the discontinuity.
func TestPublisherReconnect(t *testing.T) {
	srv := startServer(t, func(c *config.Config) { c.Hub.ReconnectGrace = 3 * time.Second })
	name := streamName("reconnect")
	first := startPublisher(t, srv.rtmpURL(name))
	srv.waitLive(t, name)
	viewer := startFLVViewer(t, srv.flvURL(name))
	viewer.waitFrames(t, time.Time{}, 10, 10*time.Second)
	waitSegments(t, srv.hlsURL(name), 1)

	first.kill()
	killed := time.Now()
	st := srv.waitStats(t, name, "offline", 2*time.Second, func(st streamStats, found bool) bool {
		return !found || !st.Live
	})
	if st.Name == "" {
		t.Fatalf("stream removed %v after its publisher was killed, within the 3 s grace", time.Since(killed).Round(time.Millisecond))
	}

	startPublisher(t, srv.rtmpURL(name))
	srv.waitLive(t, name)
	republished := time.Now()
	t.Logf("republished %v after the kill", republished.Sub(killed).Round(time.Millisecond))
	if ended, err := viewer.ended(); ended {
		t.Fatalf("HTTP-FLV viewer disconnected although the publisher came back within the grace (after %v): %v",
			republished.Sub(killed).Round(time.Millisecond), err)
	}
	viewer.waitFrames(t, republished, 50, 15*time.Second)
	// Players such as flv.js need timestamps that keep going forward
	// across the change of publisher.
	if r := viewer.timestampRegressions(); len(r) > 0 {
		t.Errorf("HTTP-FLV timestamps went back %d times across the republish: %v", len(r), r)
	}
	t.Logf("AVC sequence headers received after the kill: %d", viewer.seqHeadersSince(killed))

	pl := waitPlaylist(t, srv.hlsURL(name), "marking the republish with #EXT-X-DISCONTINUITY", 20*time.Second, func(p playlist) bool {
		return strings.Contains(p.Text, "#EXT-X-DISCONTINUITY")
	})
	t.Logf("playlist after the republish:\n%s", pl.Text)
}

// TestPublisherGone kills the publisher with no one coming back: once the
// short grace is over, viewers are disconnected and the stream is gone.
func TestPublisherGone(t *testing.T) {
	const grace = 500 * time.Millisecond
	srv := startServer(t, func(c *config.Config) { c.Hub.ReconnectGrace = grace })
	name := streamName("gone")
	pub := startPublisher(t, srv.rtmpURL(name))
	srv.waitLive(t, name)
	viewer := startFLVViewer(t, srv.flvURL(name))
	viewer.waitFrames(t, time.Time{}, 10, 10*time.Second)
	ctx := testContext(t)
	ws, _, err := websocket.Dial(ctx, srv.wsURL(name), nil)
	if err != nil {
		t.Fatalf("WebSocket dial: %v", err)
	}
	defer ws.CloseNow()
	ws.SetReadLimit(-1)
	wsEnd := make(chan error, 1)
	go func() {
		for {
			if _, _, err := ws.Read(ctx); err != nil {
				wsEnd <- err
				return
			}
		}
	}()

	pub.kill()
	killed := time.Now()
	select {
	case <-viewer.done:
		t.Logf("HTTP-FLV viewer disconnected %v after the kill: %v", time.Since(killed).Round(time.Millisecond), viewer.err)
	case <-time.After(grace + 10*time.Second):
		t.Fatalf("HTTP-FLV viewer still connected %v after its publisher was killed, with a %v grace", time.Since(killed).Round(time.Millisecond), grace)
	}
	select {
	case err := <-wsEnd:
		// A browser player tells "the stream ended" from a network error
		// by the close status.
		if st := websocket.CloseStatus(err); st != websocket.StatusNormalClosure {
			t.Errorf("WebSocket-FLV viewer ended with %v (close status %v), want a normal closure", err, st)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("WebSocket-FLV viewer still connected %v after its publisher was killed, with a %v grace", time.Since(killed).Round(time.Millisecond), grace)
	}

	srv.waitStats(t, name, "removed", 5*time.Second, func(_ streamStats, found bool) bool { return !found })
	getCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	body, resp, err := httpGet(getCtx, srv.flvURL(name))
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET %s after the stream ended: %s, want 404; body %q", srv.flvURL(name), resp.Status, body)
	}

	// The name is free again.
	startPublisher(t, srv.rtmpURL(name))
	srv.waitLive(t, name)
	flvPlayKeyframe(ctx, t, srv.flvURL(name))
}
