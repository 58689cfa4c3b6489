package e2e

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// TestStats checks the stream statistics of the API against what ffmpeg
// publishes and who watches.
func TestStats(t *testing.T) {
	srv := startServer(t)
	name := streamName("stats")
	startPublisher(t, srv.rtmpURL(name))
	srv.waitLive(t, name)
	ctx := testContext(t)

	viewer := startFLVViewer(t, srv.flvURL(name))
	ws, _, err := websocket.Dial(ctx, srv.wsURL(name), nil)
	if err != nil {
		t.Fatalf("WebSocket dial: %v", err)
	}
	defer ws.CloseNow()
	ws.SetReadLimit(-1)
	wsDone := make(chan error, 1)
	go func() { // discard what it receives
		for {
			if _, _, err := ws.Read(ctx); err != nil {
				wsDone <- err
				return
			}
		}
	}()

	st := srv.waitStats(t, name, "counting an HTTP-FLV and a WebSocket-FLV viewer with a bitrate", 10*time.Second, func(st streamStats, found bool) bool {
		return found && st.ViewersByProtocol["flv"] >= 1 && st.ViewersByProtocol["ws-flv"] >= 1 && st.BitrateIn > 0 && st.Video != nil
	})
	t.Logf("stats: %v", st)
	if !st.Live {
		t.Errorf("live = false")
	}
	if st.Viewers < 2 {
		t.Errorf("viewers = %d, want at least 2", st.Viewers)
	}
	if st.BitrateIn < 64_000 {
		t.Errorf("bitrate_in = %d bit/s, want more than the 64 kbit/s of audio alone", st.BitrateIn)
	}
	if v := st.Video; !strings.EqualFold(v.Codec, "h264") || v.Width != wantWidth || v.Height != wantHeight {
		t.Errorf("video = %s %dx%d, want H264 %dx%d", v.Codec, v.Width, v.Height, wantWidth, wantHeight)
	}
	if v := st.Video; v.FPS <= 0 || v.FPS > 50 {
		t.Errorf("video fps = %v, want about 25", v.FPS)
	}
	if a := st.Audio; a == nil {
		t.Errorf("no audio stats")
	} else if !strings.EqualFold(a.Codec, "aac") || a.SampleRate != wantSampleRate || a.Channels != wantChannels {
		t.Errorf("audio = %s %d Hz %d channels, want AAC %d Hz %d channel", a.Codec, a.SampleRate, a.Channels, wantSampleRate, wantChannels)
	}

	t.Run("list", func(t *testing.T) {
		body, resp, err := srv.apiGet(ctx, "/api/v1/streams")
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET /api/v1/streams: %s: %s", resp.Status, body)
		}
		var list struct {
			Streams []streamStats `json:"streams"`
		}
		if err := json.Unmarshal(body, &list); err != nil {
			t.Fatalf("GET /api/v1/streams: %v: %s", err, body)
		}
		for _, s := range list.Streams {
			if s.Name == name && s.Live {
				return
			}
		}
		t.Errorf("GET /api/v1/streams does not list %s as live: %s", name, body)
	})

	t.Run("errors", func(t *testing.T) {
		for _, tc := range []struct {
			stream     string
			wantStatus int
			wantCode   string
		}{
			{streamName("nosuchstream"), http.StatusNotFound, "stream_not_found"},
			{"bad.name", http.StatusBadRequest, "invalid_stream_name"},
		} {
			body, resp, err := srv.apiGet(ctx, "/api/v1/streams/"+tc.stream)
			if err != nil {
				t.Fatal(err)
			}
			var e errorBody
			_ = json.Unmarshal(body, &e)
			if resp.StatusCode != tc.wantStatus || e.Error.Code != tc.wantCode {
				t.Errorf("GET stats of %q: %s %s, want %d with code %s", tc.stream, resp.Status, body, tc.wantStatus, tc.wantCode)
			}
		}
	})

	// Viewers leaving are counted too.
	viewer.close()
	_ = ws.Close(websocket.StatusNormalClosure, "")
	<-wsDone
	srv.waitStats(t, name, "counting no viewers after they left", 10*time.Second, func(st streamStats, found bool) bool {
		return found && st.Viewers == 0 && st.ViewersByProtocol["flv"] == 0 && st.ViewersByProtocol["ws-flv"] == 0
	})
}
