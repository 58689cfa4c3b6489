package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/media"
	"github.com/pion/webrtc/v4/pkg/media/h264reader"
	"github.com/pion/webrtc/v4/pkg/media/oggreader"

	"roomcast/internal/protocol/rtph264"
)

// webrtcAnswer is the answer to a WHIP or WHEP POST.
type webrtcAnswer struct {
	Status   int
	Body     string
	Location string
	Code     string // the JSON error's code, for an error
}

// webrtcPost POSTs an SDP offer to a WHIP or WHEP URL.
func webrtcPost(ctx context.Context, rawURL, token, contentType, offer string) (webrtcAnswer, error) {
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, rawURL, strings.NewReader(offer))
	if err != nil {
		return webrtcAnswer{}, err
	}
	req.Header.Set("Content-Type", contentType)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return webrtcDo(req)
}

func webrtcDo(req *http.Request) (webrtcAnswer, error) {
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return webrtcAnswer{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return webrtcAnswer{}, err
	}
	a := webrtcAnswer{Status: resp.StatusCode, Body: string(b), Location: resp.Header.Get("Location")}
	if resp.StatusCode >= 300 {
		a.Code = apiResponse{Status: resp.StatusCode, Body: b}.errorCode()
	}
	return a, nil
}

// webrtcRequest sends a bodiless request (DELETE, PATCH) to a session URL.
func webrtcRequest(ctx context.Context, method, rawURL string) (webrtcAnswer, error) {
	req, err := http.NewRequestWithContext(ctx, method, rawURL, nil)
	if err != nil {
		return webrtcAnswer{}, err
	}
	return webrtcDo(req)
}

// webrtcClientAPI is a pion API with the default codecs and interceptors,
// as a browser would have, over UDP and TCP.
func webrtcClientAPI(t *testing.T) *webrtc.API {
	return webrtcClientAPIOn(t, webrtc.NetworkTypeUDP4, webrtc.NetworkTypeTCP4)
}

// webrtcClientAPIOn is webrtcClientAPI on the given networks only.
func webrtcClientAPIOn(t *testing.T, networks ...webrtc.NetworkType) *webrtc.API {
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
	se.SetNetworkTypes(networks)
	return webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithInterceptorRegistry(ir), webrtc.WithSettingEngine(se))
}

// webrtcOffer makes pc's complete offer (all candidates gathered).
func webrtcOffer(t *testing.T, pc *webrtc.PeerConnection) string {
	t.Helper()
	offer, err := pc.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(offer); err != nil {
		t.Fatal(err)
	}
	<-gathered
	return pc.LocalDescription().SDP
}

// webrtcViewer is a pion WHEP client: it depacketizes the video it gets
// and counts the Opus packets.
type webrtcViewer struct {
	pc       *webrtc.PeerConnection
	location string
	answer   string
	start    time.Time

	mu         sync.Mutex
	annexB     bytes.Buffer // the access units received, in Annex B
	keyframes  int
	frames     int
	opus       int
	firstFrame time.Duration // from the POST to the first keyframe
}

func (v *webrtcViewer) counts() (frames, keyframes, opus int) {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.frames, v.keyframes, v.opus
}

// webrtcPlay plays url over WHEP with a pion client that receives video
// and audio; it fails the test unless the server answers 201.
func webrtcPlay(ctx context.Context, t *testing.T, url string) *webrtcViewer {
	t.Helper()
	return webrtcPlayWith(ctx, t, webrtcClientAPI(t), url)
}

// webrtcPlayWith is webrtcPlay with a client API of the caller's.
func webrtcPlayWith(ctx context.Context, t *testing.T, api *webrtc.API, url string) *webrtcViewer {
	t.Helper()
	pc, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pc.Close() })
	recv := webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly}
	for _, kind := range []webrtc.RTPCodecType{webrtc.RTPCodecTypeVideo, webrtc.RTPCodecTypeAudio} {
		if _, err := pc.AddTransceiverFromKind(kind, recv); err != nil {
			t.Fatal(err)
		}
	}
	v := &webrtcViewer{pc: pc}
	pc.OnTrack(func(track *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		if track.Kind() == webrtc.RTPCodecTypeAudio {
			for {
				if _, _, err := track.ReadRTP(); err != nil {
					return
				}
				v.mu.Lock()
				v.opus++
				v.mu.Unlock()
			}
		}
		var d rtph264.Depacketizer
		for {
			pkt, _, err := track.ReadRTP()
			if err != nil {
				return
			}
			aus, _ := d.Push(pkt)
			v.mu.Lock()
			for _, au := range aus {
				if au.Keyframe && v.keyframes == 0 {
					v.firstFrame = time.Since(v.start)
				}
				if au.Keyframe {
					v.keyframes++
				}
				v.frames++
				for _, n := range au.NALUs {
					v.annexB.Write([]byte{0, 0, 0, 1})
					v.annexB.Write(n)
				}
			}
			v.mu.Unlock()
		}
	})
	offer := webrtcOffer(t, pc)
	v.start = time.Now()
	a, err := webrtcPost(ctx, url, "", "application/sdp", offer)
	if err != nil {
		t.Fatal(err)
	}
	if a.Status != http.StatusCreated {
		t.Fatalf("WHEP POST %s: %d %s", url, a.Status, a.Body)
	}
	v.location, v.answer = a.Location, a.Body
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: a.Body}); err != nil {
		t.Fatalf("answer: %v\n%s", err, a.Body)
	}
	return v
}

// webrtcWaitViewer waits until the viewer got frames video frames (one a
// keyframe) and opus Opus packets.
func webrtcWaitViewer(t *testing.T, v *webrtcViewer, frames, opus int, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		f, k, o := v.counts()
		if f >= frames && k >= 1 && o >= opus {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %d frames (%d keyframes), %d Opus packets; want %d frames, a keyframe, %d Opus packets", timeout, f, k, o, frames, opus)
		}
		time.Sleep(pollInterval)
	}
}

// webrtcDecodeFrames decodes the viewer's video with ffmpeg and returns
// the number of frames decoded.
func webrtcDecodeFrames(ctx context.Context, t *testing.T, v *webrtcViewer) int {
	t.Helper()
	v.mu.Lock()
	data := append([]byte(nil), v.annexB.Bytes()...)
	v.mu.Unlock()
	path := filepath.Join(t.TempDir(), "whep.h264")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	res, err := decode(ctx, t, path)
	if err != nil {
		t.Fatal(err)
	}
	return res.Frames
}

// webrtcClip is an H.264 (Annex B, constrained baseline, keyframe every
// second) and Opus (Ogg) clip for a pion WHIP client.
type webrtcClip struct{ h264, opus string }

// webrtcMakeClip encodes d of the test pattern and a tone with ffmpeg.
func webrtcMakeClip(t *testing.T, d time.Duration) webrtcClip {
	t.Helper()
	dir := t.TempDir()
	c := webrtcClip{h264: filepath.Join(dir, "clip.h264"), opus: filepath.Join(dir, "clip.ogg")}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	secs := fmt.Sprint(d.Seconds())
	for _, args := range [][]string{
		{"-f", "lavfi", "-i", "testsrc2=size=640x360:rate=25", "-t", secs,
			"-c:v", "libx264", "-profile:v", "baseline", "-preset", "ultrafast", "-g", "25",
			"-pix_fmt", "yuv420p", "-bsf:v", "h264_mp4toannexb", "-f", "h264", c.h264},
		{"-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000", "-t", secs,
			"-c:a", "libopus", "-b:a", "64k", "-frame_duration", "20", "-page_duration", "20000", "-f", "ogg", c.opus},
	} {
		cmd := exec.CommandContext(ctx, requireTool(t, "ffmpeg"), append([]string{"-hide_banner", "-nostdin", "-loglevel", "error", "-y"}, args...)...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("ffmpeg %v: %v\n%s", args, err, out)
		}
	}
	return c
}

// webrtcPublisher is a pion WHIP client sending a clip in real time.
type webrtcPublisher struct {
	pc       *webrtc.PeerConnection
	location string
	done     chan struct{}
}

// webrtcPublish publishes clip to url (a WHIP URL) in real time, looping,
// until the test ends or stop is called; token, if set, is sent as the
// bearer token. It returns the server's answer when it is not 201.
func webrtcPublish(ctx context.Context, t *testing.T, url, token string, clip webrtcClip) (*webrtcPublisher, webrtcAnswer) {
	t.Helper()
	pc, err := webrtcClientAPI(t).NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	video, err := webrtc.NewTrackLocalStaticSample(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeH264, ClockRate: 90000,
		SDPFmtpLine: "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f"}, "video", "e2e")
	if err != nil {
		t.Fatal(err)
	}
	audio, err := webrtc.NewTrackLocalStaticSample(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}, "audio", "e2e")
	if err != nil {
		t.Fatal(err)
	}
	send := webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly}
	for _, tr := range []webrtc.TrackLocal{video, audio} {
		x, err := pc.AddTransceiverFromTrack(tr, send)
		if err != nil {
			t.Fatal(err)
		}
		go func() {
			buf := make([]byte, 1500)
			for {
				if _, _, err := x.Sender().Read(buf); err != nil {
					return
				}
			}
		}()
	}
	p := &webrtcPublisher{pc: pc, done: make(chan struct{})}
	a, err := webrtcPost(ctx, url, token, "application/sdp", webrtcOffer(t, pc))
	if err != nil {
		t.Fatal(err)
	}
	if a.Status != http.StatusCreated {
		_ = pc.Close()
		return nil, a
	}
	p.location = a.Location
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: a.Body}); err != nil {
		t.Fatalf("answer: %v\n%s", err, a.Body)
	}
	sendCtx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); webrtcSendH264(sendCtx, video, clip.h264) }()
	go func() { defer wg.Done(); webrtcSendOpus(sendCtx, audio, clip.opus) }()
	go func() { wg.Wait(); close(p.done) }()
	t.Cleanup(func() { cancel(); <-p.done; _ = pc.Close() })
	return p, a
}

// webrtcSendH264 sends the Annex B file's access units at 25 fps, looping.
func webrtcSendH264(ctx context.Context, track *webrtc.TrackLocalStaticSample, path string) {
	tick := time.NewTicker(40 * time.Millisecond)
	defer tick.Stop()
	for ctx.Err() == nil {
		f, err := os.Open(path)
		if err != nil {
			return
		}
		r, err := h264reader.NewReader(f)
		if err != nil {
			f.Close()
			return
		}
		var au []byte
		for ctx.Err() == nil {
			nal, err := r.NextNAL()
			if err != nil {
				break
			}
			au = append(au, 0, 0, 0, 1)
			au = append(au, nal.Data...)
			// A slice ends the access unit (one slice per picture here).
			if nal.UnitType == h264reader.NalUnitTypeCodedSliceIdr || nal.UnitType == h264reader.NalUnitTypeCodedSliceNonIdr {
				select {
				case <-ctx.Done():
				case <-tick.C:
				}
				_ = track.WriteSample(media.Sample{Data: au, Duration: 40 * time.Millisecond})
				au = nil
			}
		}
		f.Close()
	}
}

// webrtcSendOpus sends the Ogg file's Opus packets every 20 ms, looping.
func webrtcSendOpus(ctx context.Context, track *webrtc.TrackLocalStaticSample, path string) {
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for ctx.Err() == nil {
		f, err := os.Open(path)
		if err != nil {
			return
		}
		r, _, err := oggreader.NewWith(f)
		if err != nil {
			f.Close()
			return
		}
		for ctx.Err() == nil {
			page, _, err := r.ParseNextPage()
			if errors.Is(err, io.EOF) || err != nil {
				break
			}
			if bytes.HasPrefix(page, []byte("OpusTags")) || bytes.HasPrefix(page, []byte("OpusHead")) {
				continue
			}
			select {
			case <-ctx.Done():
			case <-tick.C:
			}
			_ = track.WriteSample(media.Sample{Data: page, Duration: 20 * time.Millisecond})
		}
		f.Close()
	}
}

// Shorthands for the tests.
var (
	webrtcVideo    = webrtc.RTPCodecTypeVideo
	webrtcRecvOnly = webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly}
)

func webrtcConfig() webrtc.Configuration { return webrtc.Configuration{} }

// webrtcStartGap returns how far apart the first audio and video packets'
// timestamps are in url, read with ffprobe.
func webrtcStartGap(ctx context.Context, t *testing.T, url string) time.Duration {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, requireTool(t, "ffprobe"), "-hide_banner", "-v", "error", "-rw_timeout", ioTimeout,
		"-read_intervals", "%+3", "-show_entries", "packet=codec_type,pts_time", "-of", "csv=p=0", url)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("ffprobe packets of %s: %v", url, err)
	}
	first := map[string]float64{}
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		kind, ts, ok := strings.Cut(l, ",")
		if !ok {
			continue
		}
		var v float64
		if _, err := fmt.Sscan(ts, &v); err != nil {
			continue
		}
		if _, seen := first[kind]; !seen {
			first[kind] = v
		}
	}
	a, okA := first["audio"]
	v, okV := first["video"]
	if !okA || !okV {
		t.Fatalf("%s: no audio or no video packets:\n%s", url, out)
	}
	d := time.Duration((a - v) * float64(time.Second))
	t.Logf("%s: first audio %.3f s, first video %.3f s", url, a, v)
	if d < 0 {
		d = -d
	}
	return d
}
