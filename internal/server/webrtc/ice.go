package webrtc

import (
	"fmt"
	"net"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/interceptor/pkg/nack"
	"github.com/pion/logging"
	"github.com/pion/webrtc/v4"
)

// Payload types of the codecs roomcast negotiates. Answers use the
// offerer's numbers; these matter only for pion's own offers (tests).
const (
	ptOpus = 111
	ptH264 = 102
)

// playHistory is how many sent packets a WHEP session keeps per track to
// answer NACKs: at 2 Mbit/s (about 180 video packets a second) 1.4 s of
// video, several round trips of any network a live viewer plays over.
const playHistory = 256

// h264Profiles are the H.264 profiles accepted, as browsers offer them:
// constrained baseline, baseline, main and high, all in
// packetization-mode 1.
var h264Profiles = [...]string{"42e01f", "42001f", "4d001f", "64001f"}

// h264Fmtp returns the fmtp line of an H.264 format.
func h264Fmtp(profileLevelID string) string {
	return "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=" + profileLevelID
}

// newMediaEngine registers H.264 (packetization-mode 1) and Opus only:
// what roomcast carries without transcoding video.
func newMediaEngine() (*webrtc.MediaEngine, error) {
	m := &webrtc.MediaEngine{}
	feedback := []webrtc.RTCPFeedback{{Type: "goog-remb"}, {Type: "ccm", Parameter: "fir"}, {Type: "nack"}, {Type: "nack", Parameter: "pli"}}
	for i, p := range h264Profiles {
		err := m.RegisterCodec(webrtc.RTPCodecParameters{
			RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeH264, ClockRate: 90000, SDPFmtpLine: h264Fmtp(p), RTCPFeedback: feedback},
			PayloadType:        webrtc.PayloadType(ptH264 + 2*i),
		}, webrtc.RTPCodecTypeVideo)
		if err != nil {
			return nil, fmt.Errorf("register H.264 %s: %w", p, err)
		}
	}
	err := m.RegisterCodec(webrtc.RTPCodecParameters{
		RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2, SDPFmtpLine: "minptime=10;useinbandfec=1"},
		PayloadType:        ptOpus,
	}, webrtc.RTPCodecTypeAudio)
	if err != nil {
		return nil, fmt.Errorf("register Opus: %w", err)
	}
	return m, nil
}

// ICE is where peers reach the server: one UDP socket and one TCP listener
// shared by every peer connection.
type ICE struct {
	// UDP, if not nil, carries ICE over UDP for all peers.
	UDP net.PacketConn
	// TCP, if not nil, carries ICE-TCP (RFC 6544, passive) for peers
	// whose network blocks UDP.
	TCP net.Listener
	// PublicIPs replace the host addresses in candidates (1:1 NAT, a
	// Docker port mapping); empty: the addresses of the interfaces.
	PublicIPs []string
	// IncludeLoopback also offers 127.0.0.1 (a server on loopback only).
	IncludeLoopback bool
}

// newAPIs builds the pion APIs the sessions use, sharing the ICE sockets:
// publish (WHIP) with the default interceptors (NACK, RTCP reports,
// statistics, TWCC feedback so that the browser's encoder finds its
// bitrate), and play (WHEP) with only NACK retransmission and RTCP sender
// reports (lip sync): a pre-encoded stream has no use for congestion
// feedback or statistics, which would cost CPU on every packet of every
// viewer.
func newAPIs(cfg ICE, lf logging.LoggerFactory) (publish, play *webrtc.API, closeICE func() error, err error) {
	if cfg.UDP == nil && cfg.TCP == nil {
		return nil, nil, nil, fmt.Errorf("webrtc: no UDP socket and no TCP listener for ICE")
	}
	se := webrtc.SettingEngine{LoggerFactory: lf}
	var networks []webrtc.NetworkType
	var closers []func() error
	if cfg.UDP != nil {
		mux := webrtc.NewICEUDPMux(lf.NewLogger("ice-udp"), cfg.UDP)
		se.SetICEUDPMux(mux)
		networks = append(networks, webrtc.NetworkTypeUDP4, webrtc.NetworkTypeUDP6)
		closers = append(closers, mux.Close)
	}
	if cfg.TCP != nil {
		mux := webrtc.NewICETCPMux(lf.NewLogger("ice-tcp"), cfg.TCP, 8)
		se.SetICETCPMux(mux)
		networks = append(networks, webrtc.NetworkTypeTCP4, webrtc.NetworkTypeTCP6)
		closers = append(closers, mux.Close)
	}
	closeICE = func() error {
		var first error
		for _, c := range closers {
			if err := c(); err != nil && first == nil {
				first = err
			}
		}
		return first
	}
	se.SetNetworkTypes(networks)
	se.SetIncludeLoopbackCandidate(cfg.IncludeLoopback)
	// Browsers' mDNS host names need not be resolved: the peer's address
	// is learnt from its connectivity checks (peer-reflexive).
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	se.SetICETimeouts(5*time.Second, 15*time.Second, 2*time.Second)
	if len(cfg.PublicIPs) > 0 {
		err := se.SetICEAddressRewriteRules(webrtc.ICEAddressRewriteRule{
			External:        cfg.PublicIPs,
			AsCandidateType: webrtc.ICECandidateTypeHost,
			Mode:            webrtc.ICEAddressRewriteReplace,
		})
		if err != nil {
			_ = closeICE()
			return nil, nil, nil, fmt.Errorf("webrtc public IPs: %w", err)
		}
	}
	build := func(interceptors func(*webrtc.MediaEngine, *interceptor.Registry) error) (*webrtc.API, error) {
		m, err := newMediaEngine()
		if err != nil {
			return nil, err
		}
		ir := &interceptor.Registry{}
		if err := interceptors(m, ir); err != nil {
			return nil, fmt.Errorf("webrtc interceptors: %w", err)
		}
		return webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithInterceptorRegistry(ir), webrtc.WithSettingEngine(se)), nil
	}
	if publish, err = build(webrtc.RegisterDefaultInterceptors); err != nil {
		_ = closeICE()
		return nil, nil, nil, err
	}
	play, err = build(func(m *webrtc.MediaEngine, ir *interceptor.Registry) error {
		// A WHEP viewer keeps playHistory packets per track for
		// retransmission (pion's default, 1024, held 3 MB per viewer).
		if err := webrtc.ConfigureNackWithOptions(m, ir, nil, nack.ResponderSize(playHistory)); err != nil {
			return err
		}
		return webrtc.ConfigureRTCPReports(ir)
	})
	if err != nil {
		_ = closeICE()
		return nil, nil, nil, err
	}
	return publish, play, closeICE, nil
}
