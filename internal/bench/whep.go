package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"

	"github.com/pion/interceptor"
	"github.com/pion/webrtc/v4"

	"roomcast/internal/protocol/rtph264"
)

// whepClient is what the WHEP viewers of a run share: one WebRTC API (its
// media engine and UDP settings) and one HTTP client for the POSTs.
type whepClient struct {
	api  *webrtc.API
	http *http.Client
}

// newWHEPClient makes the WebRTC API of a run's WHEP viewers: H.264 and
// Opus, the default interceptors (NACK, reports), UDP over IPv4 with
// loopback candidates (the server is on this machine).
func newWHEPClient(viewers int) (*whepClient, error) {
	m := &webrtc.MediaEngine{}
	if err := m.RegisterDefaultCodecs(); err != nil {
		return nil, fmt.Errorf("whep: codecs: %w", err)
	}
	ir := &interceptor.Registry{}
	if err := webrtc.RegisterDefaultInterceptors(m, ir); err != nil {
		return nil, fmt.Errorf("whep: interceptors: %w", err)
	}
	se := webrtc.SettingEngine{}
	se.SetIncludeLoopbackCandidate(true)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	se.SetInterfaceFilter(func(name string) bool { return name == "lo" })
	api := webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithInterceptorRegistry(ir), webrtc.WithSettingEngine(se))
	tr := &http.Transport{MaxIdleConnsPerHost: viewers, MaxConnsPerHost: 0}
	return &whepClient{api: api, http: &http.Client{Transport: tr, Timeout: dialTimeout}}, nil
}

// whepPlayer returns the player of WHEP viewers sharing one client.
func whepPlayer(viewers int) (func(*viewer) error, error) {
	c, err := newWHEPClient(viewers)
	if err != nil {
		return nil, err
	}
	return c.play, nil
}

// play runs one WHEP viewer: an SDP offer receiving video and audio, POSTed
// to the URL; the video's RTP is put back into access units (time to first
// frame runs to the first keyframe, from before the offer was made), and
// the Opus packets are counted. The session is deleted at the end.
func (c *whepClient) play(v *viewer) error {
	pc, err := c.api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return fmt.Errorf("whep: peer connection: %w", err)
	}
	defer pc.Close()
	recv := webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly}
	for _, kind := range []webrtc.RTPCodecType{webrtc.RTPCodecTypeVideo, webrtc.RTPCodecTypeAudio} {
		if _, err := pc.AddTransceiverFromKind(kind, recv); err != nil {
			return fmt.Errorf("whep: transceiver: %w", err)
		}
	}
	failed := make(chan error, 1)
	// The video track's goroutine writes v until play returns (stopped).
	var (
		mu      sync.Mutex
		stopped bool
	)
	pc.OnTrack(func(track *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		if track.Kind() == webrtc.RTPCodecTypeAudio {
			for {
				pkt, _, err := track.ReadRTP()
				if err != nil {
					return
				}
				v.audio.Add(1)
				v.bytes.Add(int64(len(pkt.Payload)))
			}
		}
		var d rtph264.Depacketizer
		for {
			pkt, _, err := track.ReadRTP()
			if err != nil {
				return
			}
			now := v.r.now()
			v.bytes.Add(int64(len(pkt.Payload)))
			aus, _ := d.Push(pkt)
			mu.Lock()
			if stopped {
				mu.Unlock()
				return
			}
			for _, au := range aus {
				kind := videoInter
				if au.Keyframe {
					kind = videoKeyframe
				}
				// The server stamps RTP with the stream's time in 90 kHz.
				v.videoTag(uint32(uint64(pkt.Timestamp)/90), kind, now)
			}
			mu.Unlock()
		}
	})
	pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		if s == webrtc.PeerConnectionStateFailed || s == webrtc.PeerConnectionStateClosed {
			select {
			case failed <- fmt.Errorf("whep: connection %s", s):
			default:
			}
		}
	})
	offer, err := pc.CreateOffer(nil)
	if err != nil {
		return fmt.Errorf("whep: offer: %w", err)
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(offer); err != nil {
		return fmt.Errorf("whep: local description: %w", err)
	}
	select {
	case <-gathered:
	case <-v.r.ctx.Done():
		return nil
	}
	// Time to first frame runs from the POST (the offer is ready).
	v.startUS = v.r.now()
	answer, location, err := c.post(v.r.ctx, v.r.cfg.URL, pc.LocalDescription().SDP)
	if err != nil {
		return err
	}
	defer c.remove(location)
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: answer}); err != nil {
		return fmt.Errorf("whep: answer: %w", err)
	}
	v.connected()
	select {
	case <-v.r.ctx.Done():
		err = nil
	case err = <-failed:
	}
	mu.Lock() // no frame is counted after play returns
	stopped = true
	mu.Unlock()
	return err
}

// post sends the offer and returns the answer and the session's URL.
func (c *whepClient) post(ctx context.Context, url, offer string) (answer, location string, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewBufferString(offer))
	if err != nil {
		return "", "", fmt.Errorf("whep: %w", err)
	}
	req.Header.Set("Content-Type", "application/sdp")
	resp, err := c.http.Do(req)
	if err != nil {
		return "", "", fmt.Errorf("whep: POST: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return "", "", fmt.Errorf("whep: answer: %w", err)
	}
	if resp.StatusCode != http.StatusCreated {
		return "", "", fmt.Errorf("whep: POST answered %d: %s", resp.StatusCode, bytes.TrimSpace(body))
	}
	loc, err := resp.Location()
	if err != nil {
		return "", "", errors.New("whep: the answer has no Location")
	}
	return string(body), loc.String(), nil
}

// remove deletes the session (best effort: the run is over).
func (c *whepClient) remove(location string) {
	ctx, cancel := context.WithTimeout(context.Background(), dialTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodDelete, location, nil)
	if err != nil {
		return
	}
	if resp, err := c.http.Do(req); err == nil {
		resp.Body.Close()
	}
}
