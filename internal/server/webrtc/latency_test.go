package webrtc

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"
	pmedia "github.com/pion/webrtc/v4/pkg/media"

	"roomcast/internal/protocol/rtph264"
)

// TestWHIPToWHEPLatency: frames published over WHIP reach a WHEP viewer of
// the same stream; it logs the time from handing a frame to the WHIP
// client's track to holding it whole at the viewer (p50, p99), which is
// the server's share of glass-to-glass latency on loopback (no encoder,
// decoder or display). The time rides in each frame's NAL unit.
func TestWHIPToWHEPLatency(t *testing.T) {
	env := newTestEnv(t, nil)
	pub, err := clientAPI(t).NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	track, err := webrtc.NewTrackLocalStaticSample(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeH264, ClockRate: 90000, SDPFmtpLine: h264Fmtp("42e01f")}, "video", "test")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pub.AddTransceiverFromTrack(track, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly}); err != nil {
		t.Fatal(err)
	}
	resp, body := env.post(t, "/live/lat/whip", "application/sdp", offer(t, pub))
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("WHIP: %d %s", resp.StatusCode, body)
	}
	if err := pub.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: body}); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	stamp := func(typ byte, i int) []byte {
		n := testNAL(typ, 3000, i)
		// In decimal digits: no zero bytes, no start-code look-alikes.
		copy(n[1:21], fmt.Sprintf("%020d", time.Since(start)))
		return n
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		for i := 0; ctx.Err() == nil; i++ {
			var data []byte
			if i%25 == 0 {
				for _, n := range [][]byte{testSPS, testPPS, stamp(rtph264.NALTypeIDR, i)} {
					data = append(append(data, 0, 0, 0, 1), n...)
				}
			} else {
				data = append([]byte{0, 0, 0, 1}, stamp(1, i)...)
			}
			_ = track.WriteSample(pmedia.Sample{Data: data, Duration: 40 * time.Millisecond})
			time.Sleep(40 * time.Millisecond)
		}
	}()
	waitFor(t, "the WHIP stream", 10*time.Second, func() bool {
		st := env.hub.Stream("lat")
		return st != nil && st.Stats().Video != nil
	})

	view, sdp := recvOffer(t, false)
	var lat []time.Duration
	done := make(chan struct{})
	view.OnTrack(func(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		var d rtph264.Depacketizer
		for {
			pkt, _, err := tr.ReadRTP()
			if err != nil {
				return
			}
			aus, _ := d.Push(pkt) // a loss shows as fewer frames
			for _, au := range aus {
				n := au.NALUs[len(au.NALUs)-1]
				v, _ := strconv.ParseInt(string(n[1:21]), 10, 64)
				sent := time.Duration(v)
				// Frames from the GOP cache are old by design: count live ones.
				if l := time.Since(start) - sent; len(lat) < 200 && l < 5*time.Second {
					lat = append(lat, l)
					if len(lat) == 200 {
						close(done)
					}
				}
			}
		}
	})
	resp, body = env.post(t, "/live/lat/whep", "application/sdp", sdp)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("WHEP: %d %s", resp.StatusCode, body)
	}
	if err := view.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: body}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatalf("only %d frames reached the viewer", len(lat))
	}
	live := slices.Clone(lat[50:]) // past the join burst
	slices.Sort(live)
	t.Logf("WHIP → WHEP on loopback over %d frames: p50 %v, p99 %v, max %v",
		len(live), live[len(live)/2], live[len(live)*99/100], live[len(live)-1])
}
