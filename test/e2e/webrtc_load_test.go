package e2e

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"

	"roomcast/internal/bench"
	"roomcast/internal/protocol/rtph264"
)

// TestWebRTCManyViewers: many WHEP viewers of one ffmpeg RTMP stream
// (640x360 25 fps H.264 + AAC) served by a roomcast child process, with
// and without audio (with audio, the one AAC→Opus ffmpeg, the server's
// child, is counted in): every viewer's first whole frame is a keyframe.
// It logs the server's CPU per viewer-second over a window once all
// viewers play, and the time from each POST to the first keyframe (p50,
// p99); timing decides nothing here. By default 20 viewers and a 5 s
// window; docs/performance.md's figures come from
//
//	ROOMCAST_WEBRTC_VIEWERS=100 ROOMCAST_WEBRTC_WINDOW=20s go test ./test/e2e -run TestWebRTCManyViewers -v
func TestWebRTCManyViewers(t *testing.T) {
	viewers, window := 20, 5*time.Second
	if v, err := strconv.Atoi(os.Getenv("ROOMCAST_WEBRTC_VIEWERS")); err == nil && v > 0 {
		viewers = v
	}
	if w, err := time.ParseDuration(os.Getenv("ROOMCAST_WEBRTC_WINDOW")); err == nil && w > 0 {
		window = w
	}
	for _, audio := range []bool{false, true} {
		name := "video"
		if audio {
			name = "video+audio"
		}
		t.Run(name, func(t *testing.T) { webrtcMeasure(t, viewers, audio, window) })
	}
}

func webrtcMeasure(t *testing.T, viewers int, audio bool, window time.Duration) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cfg := testConfig(t)
	cfg.LogLevel = "warn"
	srv := startChild(t, cfg)
	stream := streamName("bench")
	startPublisher(t, srv.rtmpURL(stream))
	srv.waitStats(t, stream, "video and audio", 30*time.Second, func(st streamStats, found bool) bool {
		return found && st.Video != nil && st.Audio != nil
	})

	var mu sync.Mutex
	var firsts []time.Duration
	var pcs []*webrtc.PeerConnection
	api := webrtcClientAPI(t)
	for i := range viewers {
		pc, err := api.NewPeerConnection(webrtc.Configuration{})
		if err != nil {
			t.Fatal(err)
		}
		pcs = append(pcs, pc)
		kinds := []webrtc.RTPCodecType{webrtc.RTPCodecTypeVideo}
		if audio {
			kinds = append(kinds, webrtc.RTPCodecTypeAudio)
		}
		for _, k := range kinds {
			if _, err := pc.AddTransceiverFromKind(k, webrtcRecvOnly); err != nil {
				t.Fatal(err)
			}
		}
		var start time.Time
		pc.OnTrack(func(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
			var d rtph264.Depacketizer
			seen := tr.Kind() != webrtc.RTPCodecTypeVideo
			for {
				pkt, _, err := tr.ReadRTP()
				if err != nil {
					return
				}
				if seen {
					continue
				}
				aus, _ := d.Push(pkt)
				if len(aus) > 0 && aus[0].Keyframe {
					seen = true
					mu.Lock()
					firsts = append(firsts, time.Since(start))
					mu.Unlock()
				}
			}
		})
		offer := webrtcOffer(t, pc)
		start = time.Now()
		a, err := webrtcPost(ctx, srv.httpURL("/live/"+stream+"/whep"), "", "application/sdp", offer)
		if err != nil || a.Status != http.StatusCreated {
			t.Fatalf("viewer %d: %+v %v", i, a, err)
		}
		if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: a.Body}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	defer func() {
		for _, pc := range pcs {
			_ = pc.Close()
		}
	}()
	deadline := time.Now().Add(60 * time.Second)
	for {
		mu.Lock()
		n := len(firsts)
		mu.Unlock()
		if n == viewers {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d viewers got a keyframe", n, viewers)
		}
		time.Sleep(100 * time.Millisecond)
	}
	pid := srv.cmd.Process.Pid
	cpu0 := webrtcCPU(t, pid)
	t0 := time.Now()
	time.Sleep(window)
	cpu := webrtcCPU(t, pid) - cpu0
	elapsed := time.Since(t0)
	st, _, _ := srv.stats(ctx, stream)
	slices.Sort(firsts)
	p := func(q float64) time.Duration { return firsts[int(q*float64(len(firsts)-1))] }
	perViewer := float64(cpu.Microseconds()) / 1000 / (float64(viewers) * elapsed.Seconds())
	t.Logf("%d viewers (audio %v): server CPU %v over %v = %.3f ms per viewer-second; first keyframe p50 %v p99 %v; webrtc viewers %d, bitrate in %d",
		viewers, audio, cpu, elapsed.Round(time.Millisecond), perViewer, p(0.5), p(0.99), st.ViewersByProtocol["webrtc"], st.BitrateIn)
}

// webrtcCPU is the user+system CPU time of process pid and of its live
// children (the server's ffmpeg transcoders), from /proc.
func webrtcCPU(t *testing.T, pid int) time.Duration {
	t.Helper()
	read := func(p string) (ppid int, ticks int64, ok bool) {
		b, err := os.ReadFile(p)
		if err != nil {
			return 0, 0, false
		}
		s := string(b)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
		ppid, _ = strconv.Atoi(f[1])
		u, _ := strconv.ParseInt(f[11], 10, 64)
		st, _ := strconv.ParseInt(f[12], 10, 64)
		return ppid, u + st, true
	}
	_, total, ok := read(fmt.Sprintf("/proc/%d/stat", pid))
	if !ok {
		t.Fatalf("no /proc entry for %d", pid)
	}
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, p := range stats {
		if ppid, ticks, ok := read(p); ok && ppid == pid {
			total += ticks
		}
	}
	return time.Duration(total) * 10 * time.Millisecond // USER_HZ = 100
}

// TestBenchWHEP runs `roomcast bench play` over WHEP against a real server
// (briefly, so that the load tool cannot rot): every viewer connects, gets
// a first keyframe and Opus audio, and none falls behind.
func TestBenchWHEP(t *testing.T) {
	ctx := testContext(t)
	srv := startServer(t)
	stream := streamName("benchwhep")
	startPublisher(t, srv.rtmpURL(stream))
	srv.waitStats(t, stream, "video and audio", 20*time.Second, func(st streamStats, found bool) bool {
		return found && st.Video != nil && st.Audio != nil
	})
	rep, err := bench.RunPlay(ctx, bench.Config{URL: srv.httpURL("/live/" + stream + "/whep"), Viewers: 3, Duration: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	_ = rep.Write(&out, false)
	t.Log(out.String())
	if rep.Protocol != bench.ProtoWHEP || rep.Connected != 3 || rep.TTFF.Count != 3 || rep.ViewersWithAudio != 3 || rep.Behind != 0 || rep.Bytes == 0 {
		t.Fatalf("bench over WHEP: protocol %s, %d connected, %d first frames, %d with audio, %d behind, %d bytes",
			rep.Protocol, rep.Connected, rep.TTFF.Count, rep.ViewersWithAudio, rep.Behind, rep.Bytes)
	}
}
