package webrtc

import (
	"context"
	"fmt"
	"net/http"
	"sync"

	"github.com/pion/webrtc/v4"
)

// negotiate applies the offer, answers it and waits until the answer holds
// every local candidate (no trickle ICE: the answer is complete).
func negotiate(ctx context.Context, pc *webrtc.PeerConnection, offer string) (string, error) {
	err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: offer})
	if err != nil {
		return "", refuse(http.StatusBadRequest, "invalid_sdp", "the offer was refused: %v", err)
	}
	answer, err := pc.CreateAnswer(nil)
	if err != nil {
		return "", refuse(http.StatusBadRequest, "invalid_sdp", "no answer to this offer: %v", err)
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(answer); err != nil {
		return "", fmt.Errorf("set local description: %w", err)
	}
	select {
	case <-gathered:
	case <-ctx.Done():
		return "", fmt.Errorf("gathering candidates: %w", ctx.Err())
	}
	return pc.LocalDescription().SDP, nil
}

// lifecycle is what WHIP and WHEP sessions share: a context that ends with
// the session, a connected signal, and one close.
type lifecycle struct {
	ctx       context.Context
	cancel    context.CancelFunc
	connected chan struct{}
	finished  chan struct{}

	once     sync.Once
	connOnce sync.Once
	mu       sync.Mutex
	reason   error
}

func newLifecycle(parent context.Context) lifecycle {
	ctx, cancel := context.WithCancel(parent)
	return lifecycle{ctx: ctx, cancel: cancel, connected: make(chan struct{}), finished: make(chan struct{})}
}

// watch ties the session to the peer connection's state: connected
// signals connected, failed and closed end the session.
func (l *lifecycle) watch(pc *webrtc.PeerConnection, end func(error)) {
	pc.OnConnectionStateChange(func(st webrtc.PeerConnectionState) {
		switch st {
		case webrtc.PeerConnectionStateConnected:
			l.connOnce.Do(func() { close(l.connected) })
		case webrtc.PeerConnectionStateFailed:
			end(errICEFailed)
		case webrtc.PeerConnectionStateClosed:
			end(errPeerClosed)
		}
	})
}

// stop records the first reason and cancels the context; it reports
// whether this call was the first.
func (l *lifecycle) stop(reason error) bool {
	first := false
	l.once.Do(func() {
		first = true
		l.mu.Lock()
		l.reason = reason
		l.mu.Unlock()
		l.cancel()
	})
	return first
}

func (l *lifecycle) why() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.reason
}

func (l *lifecycle) done() <-chan struct{} { return l.finished }

// drainRTCP reads a sender's RTCP so that the interceptors (NACK, reports)
// see it; it returns when the sender is closed.
func drainRTCP(sender *webrtc.RTPSender) {
	buf := make([]byte, 1500)
	for {
		if _, _, err := sender.Read(buf); err != nil {
			return
		}
	}
}

var (
	errICEFailed   = fmt.Errorf("ICE connection failed")
	errPeerClosed  = fmt.Errorf("peer connection closed")
	errNoConnect   = fmt.Errorf("peer did not connect in time")
	errStreamEnded = fmt.Errorf("stream ended")
)
