package webrtc

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"
	pmedia "github.com/pion/webrtc/v4/pkg/media"

	"roomcast/internal/protocol/rtph264"
)

// TestOpusPassthrough: a WebRTC viewer of a WHIP stream gets the
// publisher's Opus packets unchanged, without a transcoder.
func TestOpusPassthrough(t *testing.T) {
	env := newTestEnv(t, nil)
	pub, err := clientAPI(t).NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	video, _ := webrtc.NewTrackLocalStaticSample(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeH264, ClockRate: 90000, SDPFmtpLine: h264Fmtp("42e01f")}, "video", "t")
	audio, _ := webrtc.NewTrackLocalStaticSample(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}, "audio", "t")
	for _, tr := range []webrtc.TrackLocal{video, audio} {
		if _, err := pub.AddTransceiverFromTrack(tr, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly}); err != nil {
			t.Fatal(err)
		}
	}
	resp, body := env.post(t, "/live/op/whip", "application/sdp", offer(t, pub))
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("WHIP: %d %s", resp.StatusCode, body)
	}
	if err := pub.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: body}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	opusPayload := func(i int) []byte { return []byte(fmt.Sprintf("opus-frame-%08d", i)) }
	go func() {
		for i := 0; ctx.Err() == nil; i++ {
			_ = audio.WriteSample(pmedia.Sample{Data: opusPayload(i), Duration: 20 * time.Millisecond})
			if i%2 == 0 {
				data := []byte{0, 0, 0, 1}
				data = append(data, testNAL(1, 500, i)...)
				if i%50 == 0 {
					data = nil
					for _, n := range [][]byte{testSPS, testPPS, testNAL(rtph264.NALTypeIDR, 2000, i)} {
						data = append(append(data, 0, 0, 0, 1), n...)
					}
				}
				_ = video.WriteSample(pmedia.Sample{Data: data, Duration: 40 * time.Millisecond})
			}
			time.Sleep(20 * time.Millisecond)
		}
	}()
	waitFor(t, "the WHIP stream", 10*time.Second, func() bool {
		st := env.hub.Stream("op")
		return st != nil && st.Stats().Video != nil
	})

	view, sdp := recvOffer(t, true)
	var mu sync.Mutex
	var got [][]byte
	view.OnTrack(func(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		for {
			pkt, _, err := tr.ReadRTP()
			if err != nil {
				return
			}
			if tr.Kind() == webrtc.RTPCodecTypeAudio {
				mu.Lock()
				got = append(got, append([]byte(nil), pkt.Payload...))
				mu.Unlock()
			}
		}
	})
	resp, body = env.post(t, "/live/op/whep", "application/sdp", sdp)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("WHEP: %d %s", resp.StatusCode, body)
	}
	if err := view.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: body}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "Opus packets at the viewer", 20*time.Second, func() bool { mu.Lock(); defer mu.Unlock(); return len(got) >= 20 })
	mu.Lock()
	defer mu.Unlock()
	for _, p := range got {
		if !bytes.HasPrefix(p, []byte("opus-frame-")) {
			t.Fatalf("packet %q is not one the publisher sent", p)
		}
	}
	if env.srv.AudioTranscoders() != 0 {
		t.Fatal("a transcoder ran for a WHIP stream's Opus")
	}
}
