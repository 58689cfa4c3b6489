package webrtc

import (
	"bytes"
	"context"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"
	pmedia "github.com/pion/webrtc/v4/pkg/media"

	"roomcast/internal/hub"
	"roomcast/internal/media"
	"roomcast/internal/protocol/adts"
	"roomcast/internal/protocol/rtph264"
)

// TestWHEPVideo: a viewer joining mid-GOP starts at the cached keyframe,
// with the SPS and PPS before it, and gets every frame's NAL units
// unchanged, with RTP timestamps at 90 kHz from the frames' PTS.
func TestWHEPVideo(t *testing.T) {
	env := newTestEnv(t, nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	publishH264(ctx, t, env.hub, "s1")
	waitFor(t, "a few frames", 5*time.Second, func() bool {
		st := env.hub.Stream("s1")
		return st != nil && st.Stats().BytesIn > 20000
	})

	pc, sdp := recvOffer(t, true)
	r := collect(pc)
	resp, body := env.post(t, "/live/s1/whep", "application/sdp", sdp)
	if resp.StatusCode != http.StatusCreated || resp.Header.Get("Content-Type") != "application/sdp" {
		t.Fatalf("POST: %d %s", resp.StatusCode, body)
	}
	loc := resp.Header.Get("Location")
	if !strings.HasPrefix(loc, "/live/s1/whep/") {
		t.Fatalf("Location %q", loc)
	}
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: body}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "30 access units", 20*time.Second, func() bool { aus, _ := r.snapshot(); return len(aus) >= 30 })
	aus, _ := r.snapshot()
	first := aus[0]
	if !first.Keyframe || len(first.NALUs) != 3 || !bytes.Equal(first.NALUs[0], testSPS) || !bytes.Equal(first.NALUs[1], testPPS) ||
		!bytes.Equal(first.NALUs[2], testNAL(rtph264.NALTypeIDR, 6000, 0)) {
		t.Fatalf("first access unit: key %v, %d NAL units", first.Keyframe, len(first.NALUs))
	}
	for i, au := range aus[1:24] {
		n := i + 1
		if len(au.NALUs) != 1 || !bytes.Equal(au.NALUs[0], testNAL(1, 1500+n%7*100, n)) {
			t.Fatalf("access unit %d differs", n)
		}
		if d := au.Timestamp - first.Timestamp; d != uint32(n*40*90) {
			t.Fatalf("access unit %d: RTP timestamp +%d, want %d", n, d, n*40*90)
		}
	}
	if n := env.srv.Sessions()[KindWHEP]; n != 1 {
		t.Fatalf("%d WHEP sessions", n)
	}
	if v := env.hub.Stream("s1").Stats().ViewersByProtocol["webrtc"]; v != 1 {
		t.Fatalf("%d webrtc viewers", v)
	}
	if env.srv.AudioTranscoders() != 0 {
		t.Fatal("an audio transcoder without a runner")
	}
	if resp, _ := env.do(t, http.MethodDelete, loc, "", ""); resp.StatusCode != http.StatusOK {
		t.Fatalf("DELETE: %d", resp.StatusCode)
	}
	waitFor(t, "the session to end", 5*time.Second, func() bool { return env.srv.Sessions()[KindWHEP] == 0 })
	if v := env.hub.Stream("s1").Stats().ViewersByProtocol["webrtc"]; v != 0 {
		t.Fatalf("%d webrtc viewers after DELETE", v)
	}
}

// TestWHIPVideo: a WHIP client's H.264 arrives in the hub as a sequence
// header with its SPS and PPS and AVCC frames with the same NAL units, 40
// ms apart as sent; a second publisher is refused with 409.
func TestWHIPVideo(t *testing.T) {
	env := newTestEnv(t, nil)
	pc, err := clientAPI(t).NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	track, err := webrtc.NewTrackLocalStaticSample(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeH264, ClockRate: 90000,
		SDPFmtpLine: h264Fmtp("42e01f")}, "video", "test")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pc.AddTransceiverFromTrack(track, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly}); err != nil {
		t.Fatal(err)
	}
	resp, body := env.post(t, "/live/s2/whip", "application/sdp", offer(t, pc))
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST: %d %s", resp.StatusCode, body)
	}
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: body}); err != nil {
		t.Fatal(err)
	}
	sub, err := env.hub.Subscribe("s2", "")
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()

	annexB := func(nalus ...[]byte) []byte {
		var b []byte
		for _, n := range nalus {
			b = append(append(b, 0, 0, 0, 1), n...)
		}
		return b
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		for i := 0; ctx.Err() == nil; i++ {
			data := annexB(testNAL(1, 2000+i, i))
			if i%25 == 0 {
				data = annexB(testSPS, testPPS, testNAL(rtph264.NALTypeIDR, 8000, i))
			}
			_ = track.WriteSample(pmedia.Sample{Data: data, Duration: 40 * time.Millisecond})
			time.Sleep(40 * time.Millisecond)
		}
	}()

	var seq *media.Packet
	var frames []*media.Packet
	var buf []*hub.Frame
	rctx, rcancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer rcancel()
	for len(frames) < 10 {
		buf, err = sub.Next(rctx, buf)
		if err != nil {
			t.Fatalf("after %d frames: %v", len(frames), err)
		}
		for _, f := range buf {
			switch p := f.Packet; {
			case p.Type == media.TagVideo && p.SeqHeader:
				seq = p
			case p.Type == media.TagVideo:
				frames = append(frames, p)
			}
		}
	}
	if seq == nil {
		t.Fatal("no sequence header")
	}
	c, err := media.ParseAVCConfig(seq.Payload())
	if err != nil || !bytes.Equal(c.SPS[0], testSPS) || !bytes.Equal(c.PPS[0], testPPS) || c.LengthSize != 4 {
		t.Fatalf("sequence header %+v %v", c, err)
	}
	if !frames[0].Keyframe {
		t.Fatal("the first frame is not a keyframe")
	}
	k := -1
	for i, f := range frames {
		nalus, err := media.SplitAVCC(f.Payload(), 4)
		if err != nil || len(nalus) != 1 {
			t.Fatalf("frame %d: %d NAL units, %v", i, len(nalus), err)
		}
		if nalus[0][0]&0x1f == rtph264.NALTypeIDR {
			k = i
			continue
		}
		if i > 0 && f.DTS-frames[i-1].DTS != 40 {
			t.Fatalf("frame %d: DTS +%d ms, want 40", i, f.DTS-frames[i-1].DTS)
		}
	}
	if k < 0 {
		t.Fatal("no IDR frame")
	}
	st := env.hub.Stream("s2").Stats()
	if st.Publisher == nil || st.Publisher.Protocol != "webrtc" || st.Video == nil || st.Video.Width != 1920 {
		t.Fatalf("stats %+v", st)
	}

	pc2, sdp2 := func() (*webrtc.PeerConnection, string) {
		pc, err := clientAPI(t).NewPeerConnection(webrtc.Configuration{})
		if err != nil {
			t.Fatal(err)
		}
		tr, _ := webrtc.NewTrackLocalStaticSample(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeH264, ClockRate: 90000, SDPFmtpLine: h264Fmtp("42e01f")}, "v", "t")
		if _, err := pc.AddTrack(tr); err != nil {
			t.Fatal(err)
		}
		return pc, offer(t, pc)
	}()
	defer pc2.Close()
	if resp, body := env.post(t, "/live/s2/whip", "application/sdp", sdp2); resp.StatusCode != http.StatusConflict || !strings.Contains(body, "stream_busy") {
		t.Fatalf("second publisher: %d %s", resp.StatusCode, body)
	}
	if n := env.srv.Sessions()[KindWHIP]; n != 1 {
		t.Fatalf("%d WHIP sessions", n)
	}
}

// TestRefusals: what the endpoints refuse, with status and code.
func TestRefusals(t *testing.T) {
	env := newTestEnv(t, nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	publishH264(ctx, t, env.hub, "live1")
	hevc, err := env.hub.Publish("hevc1", hub.PublisherInfo{})
	if err != nil {
		t.Fatal(err)
	}
	pkt, _ := media.NewPacket(media.TagVideo, 0, append([]byte{0x90, 'h', 'v', 'c', '1'}, make([]byte, 30)...))
	if err := hevc.Write(pkt); err != nil {
		t.Fatal(err)
	}
	_, good := recvOffer(t, true)
	sendOnly := strings.ReplaceAll(good, "a=recvonly", "a=sendonly")
	noH264 := strings.ReplaceAll(good, "H264", "H999")
	audioOnly := good[:strings.Index(good, "m=video")] + good[strings.Index(good, "m=audio"):]
	for _, tc := range []struct {
		name, method, path, ctype, body string
		status                          int
		code                            string
	}{
		{"whep not live", "POST", "/live/nosuch/whep", "application/sdp", good, 404, "stream_not_found"},
		{"whep not sdp", "POST", "/live/live1/whep", "text/plain", good, 415, "unsupported_media_type"},
		{"whep malformed", "POST", "/live/live1/whep", "application/sdp", "v=0\r\nnonsense", 400, "invalid_sdp"},
		{"whep empty", "POST", "/live/live1/whep", "application/sdp", "", 400, "invalid_sdp"},
		{"whep hevc", "POST", "/live/hevc1/whep", "application/sdp", good, 415, "unsupported_codec"},
		{"whep offer without h264", "POST", "/live/live1/whep", "application/sdp", noH264, 415, "unsupported_codec"},
		{"whep audio-only offer without audio to give", "POST", "/live/live1/whep", "application/sdp", audioOnly, 415, "unsupported_codec"},
		{"whip recv-only offer", "POST", "/live/new1/whip", "application/sdp", good, 415, "unsupported_codec"},
		{"whip busy", "POST", "/live/live1/whip", "application/sdp", sendOnly, 409, "stream_busy"},
		{"get", "GET", "/live/live1/whep", "", "", 405, "method_not_allowed"},
		{"patch", "PATCH", "/live/live1/whep/abc", "application/trickle-ice-sdpfrag", "a=x", 405, "trickle_not_supported"},
		{"delete unknown", "DELETE", "/live/live1/whep/abc", "", "", 404, "session_not_found"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := env.do(t, tc.method, tc.path, tc.ctype, tc.body)
			if resp.StatusCode != tc.status || !strings.Contains(body, `"code":"`+tc.code+`"`) {
				t.Fatalf("got %d %s, want %d %s", resp.StatusCode, body, tc.status, tc.code)
			}
			if resp.Header.Get("Access-Control-Allow-Origin") != "*" {
				t.Fatal("no CORS header")
			}
		})
	}
	resp, _ := env.do(t, "OPTIONS", "/live/live1/whep", "", "")
	if resp.StatusCode != http.StatusNoContent || !strings.Contains(resp.Header.Get("Access-Control-Allow-Methods"), "POST") ||
		!strings.Contains(resp.Header.Get("Access-Control-Expose-Headers"), "Location") {
		t.Fatalf("preflight: %d %v", resp.StatusCode, resp.Header)
	}
	if n := env.srv.Sessions(); n[KindWHEP]+n[KindWHIP] != 0 {
		t.Fatalf("sessions left after refusals: %v", n)
	}
}

// TestWHEPAudioSharedTranscoder: two WebRTC viewers of one AAC stream get
// Opus from one transcoder (ffmpeg), which stops after the last leaves.
func TestWHEPAudioSharedTranscoder(t *testing.T) {
	ffmpeg, err := exec.LookPath("ffmpeg")
	if err != nil {
		t.Fatalf("ffmpeg is required: %v", err)
	}
	env := newTestEnv(t, ExecRunner{Path: ffmpeg})
	out, err := exec.Command(ffmpeg, "-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100",
		"-t", "20", "-c:a", "aac", "-b:a", "64k", "-f", "adts", "pipe:1").Output()
	if err != nil {
		t.Fatal(err)
	}
	var frames [][]byte
	var cfg adts.Config
	r := adts.NewReader(bytes.NewReader(out))
	for {
		f, err := r.ReadFrame()
		if err != nil {
			break
		}
		cfg = f.Config
		frames = append(frames, f.Data)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// An audio-only stream, published in real time.
	apub, err := env.hub.Publish("a2", hub.PublisherInfo{Protocol: "test"})
	if err != nil {
		t.Fatal(err)
	}
	seq, _ := media.NewPacket(media.TagAudio, 0, append([]byte{0xaf, 0}, cfg.AudioSpecificConfig()...))
	if err := apub.Write(seq); err != nil {
		t.Fatal(err)
	}
	go func() {
		defer apub.Close(nil)
		start := time.Now()
		for i, f := range frames {
			dts := int64(i) * 1024 * 1000 / 44100
			if d := time.Until(start.Add(time.Duration(dts) * time.Millisecond)); d > 0 {
				select {
				case <-ctx.Done():
					return
				case <-time.After(d):
				}
			}
			pkt, _ := media.NewPacket(media.TagAudio, dts, append([]byte{0xaf, 1}, f...))
			if apub.Write(pkt) != nil {
				return
			}
		}
	}()
	waitFor(t, "audio in the hub", 5*time.Second, func() bool {
		st := env.hub.Stream("a2").Stats()
		return st.Audio != nil && st.BytesIn > 2000
	})

	var viewers []*received
	var pcs []*webrtc.PeerConnection
	for range 2 {
		pc, sdp := recvOffer(t, true)
		rv := collect(pc)
		resp, body := env.post(t, "/live/a2/whep", "application/sdp", sdp)
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("POST: %d %s", resp.StatusCode, body)
		}
		if !strings.Contains(body, "opus") {
			t.Fatalf("answer without Opus:\n%s", body)
		}
		if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: body}); err != nil {
			t.Fatal(err)
		}
		viewers = append(viewers, rv)
		pcs = append(pcs, pc)
	}
	if n := env.srv.AudioTranscoders(); n != 1 {
		t.Fatalf("%d audio transcoders for one stream, want 1", n)
	}
	for i, v := range viewers {
		waitFor(t, "Opus packets", 20*time.Second, func() bool { _, n := v.snapshot(); return n >= 50 })
		_, n := v.snapshot()
		t.Logf("viewer %d: %d Opus packets", i, n)
	}
	for _, pc := range pcs {
		_ = pc.Close()
	}
	waitFor(t, "the transcoder to stop", 40*time.Second, func() bool { return env.srv.AudioTranscoders() == 0 })
}
