package e2e

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"

	"roomcast/internal/config"
)

// TestWebRTCWHEPPlaysRTMP: an ffmpeg RTMP stream (H.264 + AAC) plays over
// WHEP to a pion client: the video is the published H.264 (ffmpeg decodes
// it), it starts at a keyframe, and Opus audio packets arrive (the AAC is
// transcoded while the viewer watches). DELETE ends the session.
func TestWebRTCWHEPPlaysRTMP(t *testing.T) {
	ctx := testContext(t)
	srv := startServer(t)
	stream := streamName("whep")
	startPublisher(t, srv.rtmpURL(stream))
	srv.waitLive(t, stream)
	// Let the GOP cache fill, then join mid-GOP: the keyframe comes from
	// the cache.
	srv.waitStats(t, stream, "video and audio", 20*time.Second, func(st streamStats, found bool) bool {
		return found && st.Video != nil && st.Audio != nil
	})

	v := webrtcPlay(ctx, t, srv.httpURL("/live/"+stream+"/whep"))
	webrtcWaitViewer(t, v, 50, 50, 30*time.Second)
	v.mu.Lock()
	first := v.firstFrame
	v.mu.Unlock()
	t.Logf("first keyframe %v after the POST", first)
	if n := webrtcDecodeFrames(ctx, t, v); n < 25 {
		t.Fatalf("ffmpeg decoded %d frames of the WHEP video, want at least 25", n)
	}
	st := srv.waitStats(t, stream, "a webrtc viewer", 10*time.Second, func(st streamStats, found bool) bool {
		return found && st.ViewersByProtocol["webrtc"] == 1
	})
	t.Logf("stats: %v", st)
	m := srv.scrapeMetrics(ctx, t)
	for series, want := range map[string]float64{
		`roomcast_webrtc_sessions{kind="whep"}`: 1, `roomcast_webrtc_sessions{kind="whip"}`: 0,
		"roomcast_webrtc_audio_transcoders": 1, `roomcast_viewers{protocol="webrtc"}`: 1,
		`roomcast_transcode_jobs{kind="webrtc-audio"}`: 1,
	} {
		if got, ok := m[series]; !ok || got != want {
			t.Errorf("%s = %v (exported: %v), want %v", series, got, ok, want)
		}
	}

	if v.location == "" {
		t.Fatal("no Location")
	}
	a, err := webrtcRequest(ctx, http.MethodPatch, srv.httpURL(v.location))
	if err != nil || a.Status != http.StatusMethodNotAllowed {
		t.Fatalf("PATCH: %+v %v", a, err)
	}
	a, err = webrtcRequest(ctx, http.MethodDelete, srv.httpURL(v.location))
	if err != nil || a.Status != http.StatusOK {
		t.Fatalf("DELETE: %+v %v", a, err)
	}
	srv.waitStats(t, stream, "no webrtc viewer", 10*time.Second, func(st streamStats, found bool) bool {
		return found && st.ViewersByProtocol["webrtc"] == 0
	})
	// The last viewer gone, the stream's audio transcoder stops.
	deadline := time.Now().Add(20 * time.Second)
	for srv.scrapeMetrics(ctx, t)["roomcast_webrtc_audio_transcoders"] != 0 {
		if time.Now().After(deadline) {
			t.Fatal("the audio transcoder still runs 20 s after the last WebRTC viewer left")
		}
		time.Sleep(pollInterval)
	}
	a, err = webrtcRequest(ctx, http.MethodDelete, srv.httpURL(v.location))
	if err != nil || a.Status != http.StatusNotFound || a.Code != "session_not_found" {
		t.Fatalf("second DELETE: %+v %v", a, err)
	}
}

// TestWebRTCWHIPPublishes: a pion client publishes H.264 + Opus over WHIP;
// the stream plays back as H.264 + AAC over RTMP, HTTP-FLV and HLS.
func TestWebRTCWHIPPublishes(t *testing.T) {
	ctx := testContext(t)
	srv := startServer(t)
	clip := webrtcMakeClip(t, 4*time.Second)
	stream := streamName("whip")
	p, a := webrtcPublish(ctx, t, srv.httpURL("/live/"+stream+"/whip"), "", clip)
	if p == nil {
		t.Fatalf("WHIP POST: %d %s", a.Status, a.Body)
	}
	st := srv.waitStats(t, stream, "H.264 and AAC", 30*time.Second, func(st streamStats, found bool) bool {
		return found && st.Live && st.Video != nil && st.Audio != nil
	})
	if st.Video.Codec != "H264" || st.Audio.Codec != "AAC" || st.Publisher == nil || st.Publisher.Protocol != "webrtc" {
		t.Fatalf("stats %v", st)
	}
	for _, url := range []string{srv.rtmpURL(stream), srv.flvURL(stream), srv.hlsURL(stream)} {
		streams, err := ffprobe(ctx, t, url)
		if err != nil {
			t.Fatal(err)
		}
		var video, audio bool
		for _, s := range streams {
			video = video || s.CodecName == "h264" && s.Width == wantWidth && s.Height == wantHeight
			audio = audio || s.CodecName == "aac" && s.SampleRate == "48000"
		}
		if !video || !audio {
			t.Fatalf("%s: streams %+v, want H.264 %dx%d and AAC 48 kHz", url, streams, wantWidth, wantHeight)
		}
		res, err := decode(ctx, t, url)
		if err != nil {
			t.Fatal(err)
		}
		if res.Frames < 25 {
			t.Fatalf("%s: decoded %d frames", url, res.Frames)
		}
	}
	// Audio and video start together (the AAC from ffmpeg is stamped from
	// the arrival of the first Opus packet, the video from its RTP clock).
	if d := webrtcStartGap(ctx, t, srv.flvURL(stream)); d > 500*time.Millisecond {
		t.Fatalf("audio and video start %v apart over HTTP-FLV", d)
	}
	// A second publisher is refused as over RTMP.
	if p2, a := webrtcPublish(ctx, t, srv.httpURL("/live/"+stream+"/whip"), "", clip); p2 != nil || a.Status != http.StatusConflict || a.Code != "stream_busy" {
		t.Fatalf("second WHIP publisher: %+v", a)
	}
	a, err := webrtcRequest(ctx, http.MethodDelete, srv.httpURL(p.location))
	if err != nil || a.Status != http.StatusOK {
		t.Fatalf("DELETE: %+v %v", a, err)
	}
	srv.waitStats(t, stream, "not live", 10*time.Second, func(st streamStats, found bool) bool {
		return !found || !st.Live
	})
}

// TestWebRTCICETCP: with UDP blocked (here: off on the server, and the
// client on TCP only), WHEP plays over ICE-TCP on -webrtc-tcp-addr.
func TestWebRTCICETCP(t *testing.T) {
	ctx := testContext(t)
	srv := startServer(t, func(c *config.Config) { c.WebRTC.UDPAddr = "" })
	stream := streamName("icetcp")
	startPublisher(t, srv.rtmpURL(stream))
	srv.waitStats(t, stream, "video", 20*time.Second, func(st streamStats, found bool) bool { return found && st.Video != nil })
	v := webrtcPlayWith(ctx, t, webrtcClientAPIOn(t, webrtc.NetworkTypeTCP4), srv.httpURL("/live/"+stream+"/whep"))
	if !strings.Contains(v.answer, " tcp ") || !strings.Contains(v.answer, "tcptype passive") || strings.Contains(v.answer, " udp ") {
		t.Fatalf("answer candidates are not passive TCP only:\n%s", v.answer)
	}
	webrtcWaitViewer(t, v, 25, 0, 30*time.Second)
	if n := webrtcDecodeFrames(ctx, t, v); n < 10 {
		t.Fatalf("ffmpeg decoded %d frames received over ICE-TCP", n)
	}
}

// TestWebRTCPublicIP: -webrtc-public-ip replaces the interfaces' addresses
// in the answer's candidates (a host behind 1:1 NAT), and peers connect to
// it. Here the "public" address is 127.0.0.2, which reaches the server's
// wildcard socket through loopback.
func TestWebRTCPublicIP(t *testing.T) {
	ctx := testContext(t)
	srv := startServer(t, func(c *config.Config) {
		c.WebRTC.UDPAddr, c.WebRTC.TCPAddr = "0.0.0.0:0", ""
		c.WebRTC.PublicIPs = []string{"127.0.0.2"}
	})
	stream := streamName("natip")
	startPublisher(t, srv.rtmpURL(stream))
	srv.waitStats(t, stream, "video", 20*time.Second, func(st streamStats, found bool) bool { return found && st.Video != nil })
	v := webrtcPlay(ctx, t, srv.httpURL("/live/"+stream+"/whep"))
	var hosts []string
	for _, l := range strings.Split(v.answer, "\n") {
		if strings.HasPrefix(l, "a=candidate:") {
			if f := strings.Fields(l); len(f) > 4 {
				hosts = append(hosts, f[4])
			}
		}
	}
	if len(hosts) == 0 {
		t.Fatalf("no candidates in the answer:\n%s", v.answer)
	}
	// IPv4 candidates carry the public IP only; IPv6 ones (not NATed)
	// keep the interfaces' addresses.
	public := false
	for _, h := range hosts {
		if !strings.Contains(h, ":") && h != "127.0.0.2" {
			t.Fatalf("IPv4 candidate address %s, want only the public IP 127.0.0.2 (%v)", h, hosts)
		}
		public = public || h == "127.0.0.2"
	}
	if !public {
		t.Fatalf("no candidate with the public IP: %v", hosts)
	}
	webrtcWaitViewer(t, v, 25, 0, 30*time.Second)
}
