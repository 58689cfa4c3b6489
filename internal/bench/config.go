package bench

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"
	"time"
)

// Protocols a viewer can play with.
const (
	ProtoFLV   = "flv"    // HTTP-FLV: http://host/app/stream.flv
	ProtoWSFLV = "ws-flv" // WebSocket-FLV: ws://host/app/stream.flv
	ProtoHLS   = "hls"    // HLS (MPEG-TS segments): http://host/…/index.m3u8
	ProtoRTMP  = "rtmp"   // RTMP play: rtmp://host/app/stream
	ProtoWHEP  = "whep"   // WebRTC play (WHEP): http://host/app/stream/whep
)

// Defaults and limits.
const (
	// DefaultBehindThreshold is the end lag above which an FLV or RTMP
	// viewer counts as behind.
	DefaultBehindThreshold = time.Second
	// MaxViewers bounds Config.Viewers.
	MaxViewers = 100_000
	// SetupTimeout bounds how long the measurement window waits, after the
	// ramp, for the last connections to be set up.
	SetupTimeout = 10 * time.Second
)

// ErrConfig reports an invalid Config.
var ErrConfig = errors.New("bench: invalid config")

// ErrRemoteHost reports a target that is not a loopback address while
// AllowRemote is off.
var ErrRemoteHost = errors.New("bench: refusing a non-loopback target without --allow-remote")

// Config is one load test: Viewers viewers of URL connect, spread over Ramp;
// once all are set up (or SetupTimeout after the ramp), the measurement
// window of Duration starts; then every viewer is stopped.
type Config struct {
	// URL of the stream; the protocol follows from it (rtmp://…, http://….flv,
	// ws://….flv, http://….m3u8) unless Protocol is set.
	URL string
	// Protocol overrides the protocol guessed from URL: "flv", "ws-flv",
	// "hls" or "rtmp".
	Protocol string
	// Viewers is the number of viewers (1…MaxViewers).
	Viewers int
	// Duration is the length of the measurement window.
	Duration time.Duration
	// PID, when not 0, is the server process whose CPU time and RSS are
	// measured (Linux /proc).
	PID int
	// Ramp spreads the viewers' connection starts evenly over this time.
	Ramp time.Duration
	// BehindThreshold is the end lag above which a viewer counts as behind;
	// 0 means DefaultBehindThreshold (plus 1.5 target durations for HLS).
	BehindThreshold time.Duration
	// Children counts the CPU of PID's child processes (its supervised
	// ffmpeg transcoders, such as the AAC→Opus bridge of WHEP) as the
	// server's.
	Children bool
	// AllowRemote permits targets that are not loopback addresses.
	AllowRemote bool
	// LowLatency makes HLS viewers play as LL-HLS players do: blocking
	// playlist reloads (_HLS_msn/_HLS_part) and every partial segment.
	LowLatency bool
	// Out, when not nil, receives the report: a table, or JSON if JSON is set.
	Out io.Writer
	// JSON selects JSON output on Out.
	JSON bool
	// Arrival is the clock frame arrival times are taken from:
	// ArrivalKernel (the default when empty) or ArrivalUser. See the
	// package documentation.
	Arrival string
}

// target is a validated Config's parsed URL.
type target struct {
	u        *url.URL
	proto    string
	hostport string
}

// validate checks c and parses its URL.
func (c *Config) validate() (*target, error) {
	if c.Viewers < 1 || c.Viewers > MaxViewers {
		return nil, fmt.Errorf("viewers %d not in 1…%d: %w", c.Viewers, MaxViewers, ErrConfig)
	}
	if c.Duration <= 0 {
		return nil, fmt.Errorf("duration %v: %w", c.Duration, ErrConfig)
	}
	if c.Ramp < 0 || c.BehindThreshold < 0 || c.PID < 0 {
		return nil, fmt.Errorf("negative ramp, threshold or pid: %w", ErrConfig)
	}
	switch c.Arrival {
	case "", ArrivalKernel, ArrivalUser:
	default:
		return nil, fmt.Errorf("arrival %q (want %s or %s): %w", c.Arrival, ArrivalKernel, ArrivalUser, ErrConfig)
	}
	u, err := url.Parse(c.URL)
	if err != nil {
		return nil, fmt.Errorf("url: %v: %w", err, ErrConfig)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("url %q has no host: %w", c.URL, ErrConfig)
	}
	t := &target{u: u, proto: c.Protocol}
	if t.proto == "" {
		t.proto = guessProtocol(u)
	}
	var defPort string
	switch {
	case t.proto == ProtoRTMP && u.Scheme == "rtmp":
		defPort = "1935"
	case (t.proto == ProtoFLV || t.proto == ProtoHLS || t.proto == ProtoWHEP) && u.Scheme == "http",
		t.proto == ProtoWSFLV && u.Scheme == "ws":
		defPort = "80"
	case t.proto == "":
		return nil, fmt.Errorf("cannot tell the protocol of %q (want rtmp://, http://….flv, ws://….flv, http://….m3u8 or http://…/whep): %w", c.URL, ErrConfig)
	default:
		return nil, fmt.Errorf("protocol %q with scheme %q is not supported (no TLS): %w", t.proto, u.Scheme, ErrConfig)
	}
	host := u.Hostname()
	port := u.Port()
	if port == "" {
		port = defPort
	}
	t.hostport = net.JoinHostPort(host, port)
	if !c.AllowRemote && !isLoopback(host) {
		return nil, fmt.Errorf("host %q: %w", host, ErrRemoteHost)
	}
	return t, nil
}

// guessProtocol names the protocol of u from its scheme and path suffix, or
// returns "".
func guessProtocol(u *url.URL) string {
	p := strings.ToLower(u.Path)
	switch u.Scheme {
	case "rtmp", "rtmps":
		return ProtoRTMP
	case "http", "https":
		switch {
		case strings.HasSuffix(p, ".flv"):
			return ProtoFLV
		case strings.HasSuffix(p, ".m3u8"):
			return ProtoHLS
		case strings.HasSuffix(p, "/whep"):
			return ProtoWHEP
		}
	case "ws", "wss":
		return ProtoWSFLV
	}
	return ""
}

// isLoopback reports whether host is "localhost" or a loopback IP literal.
// Other names are not resolved: they count as remote.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
