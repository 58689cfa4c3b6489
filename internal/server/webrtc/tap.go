package webrtc

import (
	"fmt"
	"sync"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
	pmedia "github.com/pion/webrtc/v4/pkg/media"
)

// opusTaps passes a WHIP publisher's Opus straight to the WHEP viewers of
// its stream, so that browser-to-browser audio is not transcoded twice
// (Opus → AAC for the hub, AAC → Opus again for WebRTC). A stream's tap
// lives as long as its hub stream, so that viewers keep their audio track
// across a publisher's reconnect within the grace.
type opusTaps struct {
	srv  *Server
	mu   sync.Mutex
	taps map[string]*opusTap
}

// opusTap is one stream's shared Opus track, written by its WHIP publisher.
type opusTap struct {
	track *webrtc.TrackLocalStaticSample

	mu     sync.Mutex
	lastTS uint32
	primed bool
}

func newOpusTaps(s *Server) *opusTaps {
	return &opusTaps{srv: s, taps: make(map[string]*opusTap)}
}

// open returns stream's tap, creating it for a WHIP publisher; it is
// dropped when the hub stream ends.
func (o *opusTaps) open(stream string, done <-chan struct{}) (*opusTap, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if t := o.taps[stream]; t != nil {
		return t, nil
	}
	track, err := webrtc.NewTrackLocalStaticSample(webrtc.RTPCodecCapability{
		MimeType: webrtc.MimeTypeOpus, ClockRate: opusRate, Channels: 2, SDPFmtpLine: "minptime=10;useinbandfec=1",
	}, "audio", "roomcast-"+stream)
	if err != nil {
		return nil, fmt.Errorf("opus tap: %w", err)
	}
	t := &opusTap{track: track}
	if !o.srv.background(func() {
		select {
		case <-done:
		case <-o.srv.ctx.Done():
		}
		o.mu.Lock()
		if o.taps[stream] == t {
			delete(o.taps, stream)
		}
		o.mu.Unlock()
	}) {
		return nil, ErrClosed
	}
	o.taps[stream] = t
	return t, nil
}

// get returns stream's tap while a WHIP publisher feeds it, or nil.
func (o *opusTaps) get(stream string) *opusTap {
	st := o.srv.hub.Stream(stream)
	if st == nil {
		return nil
	}
	if p := st.Stats().Publisher; p == nil || p.Protocol != publisherProtocol {
		return nil
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.taps[stream]
}

// write passes one Opus packet on, with its duration from the RTP clock
// (20 ms for the first and after a jump).
func (t *opusTap) write(pkt *rtp.Packet) {
	t.mu.Lock()
	dur := 20 * time.Millisecond
	if d := pkt.Timestamp - t.lastTS; t.primed && d > 0 && d <= opusRate/10 {
		dur = time.Duration(d) * time.Second / opusRate
	}
	t.lastTS, t.primed = pkt.Timestamp, true
	t.mu.Unlock()
	_ = t.track.WriteSample(pmedia.Sample{Data: pkt.Payload, Duration: dur})
}
