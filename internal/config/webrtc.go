package config

import (
	"flag"
	"fmt"
	"net"
)

// WebRTC configures WHIP publishing and WHEP playback.
type WebRTC struct {
	// UDPAddr is the one UDP port all WebRTC peers use ("" disables UDP).
	UDPAddr string
	// TCPAddr is the ICE-TCP port, for networks that block UDP (""
	// disables it). It may be the same port number as UDPAddr.
	TCPAddr string
	// PublicIPs are the addresses advertised to peers instead of the
	// interfaces' (a host behind 1:1 NAT, a Docker port mapping).
	PublicIPs []string
}

// defaultWebRTC is the zero-setup WebRTC configuration: UDP and TCP on
// port 8189.
func defaultWebRTC() WebRTC {
	return WebRTC{UDPAddr: ":8189", TCPAddr: ":8189"}
}

// webrtcFlags defines the WebRTC flags on fs.
func (c *Config) webrtcFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.WebRTC.UDPAddr, "webrtc-udp-addr", c.WebRTC.UDPAddr, "UDP address all WebRTC (WHIP/WHEP) peers share (empty: no UDP)")
	fs.StringVar(&c.WebRTC.TCPAddr, "webrtc-tcp-addr", c.WebRTC.TCPAddr, "ICE-TCP address for networks that block UDP (empty: none)")
	fs.Var((*listFlag)(&c.WebRTC.PublicIPs), "webrtc-public-ip", "comma-separated public IPs advertised to WebRTC peers instead of the interfaces' (1:1 NAT, Docker)")
}

// validateWebRTC checks the WebRTC settings.
func (c *Config) validateWebRTC() []error {
	var errs []error
	for _, a := range []struct{ key, addr string }{{"webrtc-udp-addr", c.WebRTC.UDPAddr}, {"webrtc-tcp-addr", c.WebRTC.TCPAddr}} {
		if a.addr == "" {
			continue
		}
		if _, port, err := net.SplitHostPort(a.addr); err != nil || port == "" {
			errs = append(errs, fmt.Errorf("%s: %q is not a host:port listen address", a.key, a.addr))
		}
	}
	for _, ip := range c.WebRTC.PublicIPs {
		if net.ParseIP(ip) == nil {
			errs = append(errs, fmt.Errorf("webrtc-public-ip: %q is not an IP address", ip))
		}
	}
	return errs
}
