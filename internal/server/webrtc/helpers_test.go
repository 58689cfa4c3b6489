package webrtc

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/webrtc/v4"

	"roomcast/internal/hub"
	"roomcast/internal/media"
	"roomcast/internal/protocol/rtph264"
)

// A real SPS (baseline, 1920x1080) and PPS.
var (
	testSPS = []byte{0x67, 0x42, 0xc0, 0x28, 0xd9, 0x00, 0x78, 0x02, 0x27, 0xe5, 0x84, 0x00, 0x00, 0x03, 0x00, 0x04, 0x00, 0x00, 0x03, 0x00, 0xf0, 0x3c, 0x60, 0xc9, 0x20}
	testPPS = []byte{0x68, 0xcb, 0x8c, 0xb2}
)

// testNAL returns a NAL unit of type typ and n bytes whose content
// identifies it by seed.
func testNAL(typ byte, n, seed int) []byte {
	b := make([]byte, n)
	b[0] = 0x60 | typ
	for i := 1; i < n; i++ {
		b[i] = byte(i*31 + seed*7 + 1)
		if b[i] == 0 {
			b[i] = 1 // no start-code look-alikes
		}
	}
	return b
}

// testEnv is a hub, a WebRTC server on loopback and an HTTP server routing
// /live/STREAM/{whip,whep}[/ID] to it.
type testEnv struct {
	hub  *hub.Hub
	srv  *Server
	http *httptest.Server
}

func newTestEnv(t *testing.T, runner Runner) *testEnv {
	t.Helper()
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	h := hub.New(hub.Config{ReconnectGrace: -1}, log)
	udp, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	tcp, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv, err := New(Config{
		App:        "live",
		ICE:        ICE{UDP: udp, TCP: tcp, IncludeLoopback: true},
		Transcoder: runner,
	}, h, log)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/live/{stream}/whep", func(w http.ResponseWriter, r *http.Request) { srv.ServeWHEP(w, r, r.PathValue("stream")) })
	mux.HandleFunc("/live/{stream}/whip", func(w http.ResponseWriter, r *http.Request) { srv.ServeWHIP(w, r, r.PathValue("stream")) })
	for _, kind := range []string{KindWHEP, KindWHIP} {
		mux.HandleFunc("/live/{stream}/"+kind+"/{id}", func(w http.ResponseWriter, r *http.Request) {
			srv.ServeResource(w, r, kind, r.PathValue("stream"), r.PathValue("id"))
		})
	}
	hs := httptest.NewServer(mux)
	t.Cleanup(func() {
		hs.Close()
		h.Close()
		if err := srv.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return &testEnv{hub: h, srv: srv, http: hs}
}

// post sends body to path with a content type and returns the answer.
func (e *testEnv) post(t *testing.T, path, contentType, body string) (*http.Response, string) {
	t.Helper()
	return e.do(t, http.MethodPost, path, contentType, body)
}

func (e *testEnv) do(t *testing.T, method, path, contentType, body string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, e.http.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// clientAPI is a pion API with the default codecs, as a browser has.
func clientAPI(t *testing.T) *webrtc.API {
	t.Helper()
	m := &webrtc.MediaEngine{}
	if err := m.RegisterDefaultCodecs(); err != nil {
		t.Fatal(err)
	}
	ir := &interceptor.Registry{}
	if err := webrtc.RegisterDefaultInterceptors(m, ir); err != nil {
		t.Fatal(err)
	}
	se := webrtc.SettingEngine{}
	se.SetIncludeLoopbackCandidate(true)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	return webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithInterceptorRegistry(ir), webrtc.WithSettingEngine(se))
}

// offer returns pc's complete offer.
func offer(t *testing.T, pc *webrtc.PeerConnection) string {
	t.Helper()
	o, err := pc.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	done := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(o); err != nil {
		t.Fatal(err)
	}
	<-done
	return pc.LocalDescription().SDP
}

// recvOffer is the offer of a client that receives video (and audio).
func recvOffer(t *testing.T, audio bool) (*webrtc.PeerConnection, string) {
	t.Helper()
	pc, err := clientAPI(t).NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pc.Close() })
	kinds := []webrtc.RTPCodecType{webrtc.RTPCodecTypeVideo}
	if audio {
		kinds = append(kinds, webrtc.RTPCodecTypeAudio)
	}
	for _, k := range kinds {
		if _, err := pc.AddTransceiverFromKind(k, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly}); err != nil {
			t.Fatal(err)
		}
	}
	return pc, offer(t, pc)
}

// received collects what a client's tracks got.
type received struct {
	mu   sync.Mutex
	aus  []rtph264.AccessUnit
	opus int
}

func (r *received) snapshot() ([]rtph264.AccessUnit, int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]rtph264.AccessUnit(nil), r.aus...), r.opus
}

// collect depacketizes pc's video and counts its audio packets.
func collect(pc *webrtc.PeerConnection) *received {
	r := &received{}
	pc.OnTrack(func(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		var d rtph264.Depacketizer
		for {
			pkt, _, err := tr.ReadRTP()
			if err != nil {
				return
			}
			r.mu.Lock()
			if tr.Kind() == webrtc.RTPCodecTypeAudio {
				r.opus++
			} else {
				aus, _ := d.Push(pkt)
				r.aus = append(r.aus, aus...)
			}
			r.mu.Unlock()
		}
	})
	return r
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// publishH264 publishes synthetic H.264 to the hub: a sequence header, then
// frames every 40 ms, a keyframe every 25, until ctx ends. It returns the
// NAL units of each frame by DTS.
func publishH264(ctx context.Context, t *testing.T, h *hub.Hub, stream string) {
	t.Helper()
	pub, err := h.Publish(stream, hub.PublisherInfo{Protocol: "test"})
	if err != nil {
		t.Fatal(err)
	}
	rec, err := rtph264.ConfigRecord(testSPS, testPPS)
	if err != nil {
		t.Fatal(err)
	}
	write := func(dts int64, body []byte) {
		pkt, err := media.NewPacket(media.TagVideo, dts, body)
		if err != nil {
			t.Error(err)
			return
		}
		_ = pub.Write(pkt)
	}
	write(0, append([]byte{0x17, 0, 0, 0, 0}, rec...))
	go func() {
		defer pub.Close(nil)
		for i := 0; ctx.Err() == nil; i++ {
			key := i%25 == 0
			head, nal := byte(0x27), testNAL(1, 1500+i%7*100, i)
			if key {
				head, nal = 0x17, testNAL(rtph264.NALTypeIDR, 6000, i)
			}
			write(int64(i*40), rtph264.AppendAVCC([]byte{head, 1, 0, 0, 0}, [][]byte{nal}))
			select {
			case <-ctx.Done():
			case <-time.After(40 * time.Millisecond):
			}
		}
	}()
}
