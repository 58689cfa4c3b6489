package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"roomcast/internal/api"
	"roomcast/internal/auth"
	"roomcast/internal/config"
	"roomcast/internal/httpx"
	"roomcast/internal/media"
	"roomcast/internal/metrics"
	"roomcast/internal/quota"
	"roomcast/internal/room"
	rtmpserver "roomcast/internal/server/rtmp"
	webrtcserver "roomcast/internal/server/webrtc"
	"roomcast/internal/user"
)

// startWebRTC opens the WebRTC sockets (one UDP port, one ICE-TCP port),
// builds the WHIP/WHEP server and mounts its routes. With neither address
// set, WebRTC is off.
func (c *components) startWebRTC(cfg config.Config, acc *access, log *slog.Logger) error {
	wc := cfg.WebRTC
	if wc.UDPAddr == "" && wc.TCPAddr == "" {
		routeWebRTCOff(c.mux, cfg.RTMP.App)
		return nil
	}
	log = log.With("component", "webrtc")
	ice := webrtcserver.ICE{PublicIPs: wc.PublicIPs}
	if wc.UDPAddr != "" {
		pc, err := net.ListenPacket("udp", wc.UDPAddr)
		if err != nil {
			return fmt.Errorf("webrtc udp listener: %w", err)
		}
		ice.UDP = pc
		ice.IncludeLoopback = isLoopback(pc.LocalAddr())
	}
	if wc.TCPAddr != "" {
		ln, err := net.Listen("tcp", wc.TCPAddr)
		if err != nil {
			if ice.UDP != nil {
				ice.UDP.Close()
			}
			return fmt.Errorf("webrtc tcp listener: %w", err)
		}
		ice.TCP = ln
		ice.IncludeLoopback = ice.IncludeLoopback || isLoopback(ln.Addr())
	}
	// The audio bridges are supervised jobs of the transcode manager; it
	// logs once at start when ffmpeg is missing.
	var runner webrtcserver.Runner
	if c.transcode != nil && c.transcode.Available() {
		runner = webrtcTranscoder{m: c.transcode}
	}
	srv, err := webrtcserver.New(webrtcserver.Config{
		App:              cfg.RTMP.App,
		ICE:              ice,
		Authorizer:       &webrtcAccess{acc: acc, users: c.users, app: cfg.RTMP.App},
		Denied:           writeWebRTCDenied,
		Transcoder:       runner,
		KeyframeInterval: cfg.HLS.SegmentDuration,
		Takeover:         cfg.Hub.Takeover,
	}, c.hub, log)
	if err != nil {
		if ice.UDP != nil {
			ice.UDP.Close()
		}
		if ice.TCP != nil {
			ice.TCP.Close()
		}
		return err
	}
	c.webrtc = srv
	routeWebRTC(c.mux, cfg.RTMP.App, srv)
	udp, tcp := "", ""
	if ice.UDP != nil {
		udp = ice.UDP.LocalAddr().String()
	}
	if ice.TCP != nil {
		tcp = ice.TCP.Addr().String()
	}
	log.Info("WebRTC (WHIP/WHEP) listening", "udp", udp, "tcp", tcp, "public_ips", wc.PublicIPs)
	return nil
}

// closeWebRTC ends the WebRTC sessions and closes the sockets.
func (c *components) closeWebRTC() error {
	if c.webrtc == nil {
		return nil
	}
	return c.webrtc.Close()
}

func isLoopback(a net.Addr) bool {
	host, _, err := net.SplitHostPort(a.String())
	ip := net.ParseIP(host)
	return err == nil && ip != nil && ip.IsLoopback()
}

// routeWebRTC mounts /APP/STREAM/whip and /APP/STREAM/whep and their
// session resources /APP/STREAM/whip/ID and /APP/STREAM/whep/ID.
func routeWebRTC(mux *http.ServeMux, app string, srv *webrtcserver.Server) {
	valid := func(w http.ResponseWriter, stream string) bool {
		if media.ValidName(stream) {
			return true
		}
		httpx.AllowAnyOrigin(w.Header())
		httpx.WriteError(w, http.StatusNotFound, "not_found", "invalid stream name: 1-128 characters of A-Z a-z 0-9 _ -")
		return false
	}
	mux.HandleFunc("/"+app+"/{stream}/whep", func(w http.ResponseWriter, r *http.Request) {
		if stream := r.PathValue("stream"); valid(w, stream) {
			srv.ServeWHEP(w, r, stream)
		}
	})
	mux.HandleFunc("/"+app+"/{stream}/whip", func(w http.ResponseWriter, r *http.Request) {
		if stream := r.PathValue("stream"); valid(w, stream) {
			srv.ServeWHIP(w, r, stream)
		}
	})
	for _, kind := range []string{webrtcserver.KindWHEP, webrtcserver.KindWHIP} {
		mux.HandleFunc("/"+app+"/{stream}/"+kind+"/{id}", func(w http.ResponseWriter, r *http.Request) {
			if stream := r.PathValue("stream"); valid(w, stream) {
				srv.ServeResource(w, r, kind, stream, r.PathValue("id"))
			}
		})
	}
}

// routeWebRTCOff answers the WHIP and WHEP URLs with 503 webrtc_disabled
// when WebRTC is off, so that players fall back to another protocol with a
// clear reason.
func routeWebRTCOff(mux *http.ServeMux, app string) {
	off := func(w http.ResponseWriter, r *http.Request) {
		httpx.AllowAnyOrigin(w.Header())
		httpx.WriteError(w, http.StatusServiceUnavailable, "webrtc_disabled",
			"WebRTC is off on this server (-webrtc-udp-addr and -webrtc-tcp-addr are empty): play over HTTP-FLV or HLS, publish over RTMP")
	}
	for _, p := range []string{"whep", "whip", "whep/{id}", "whip/{id}"} {
		mux.HandleFunc("/"+app+"/{stream}/"+p, off)
	}
}

// webrtcAccess applies the same rules as RTMP to WHIP and WHEP: a push
// signature (or, for WHIP, the bearer token of a user who manages the
// room) to publish, the room's play rule to play.
type webrtcAccess struct {
	acc   *access
	users *user.Service
	app   string
}

// AuthorizePublish implements webrtcserver.Authorizer.
func (a *webrtcAccess) AuthorizePublish(ctx context.Context, req webrtcserver.Request) error {
	if req.Token != "" && !req.Query.Has("txSecret") {
		u, err := a.users.Authenticate(ctx, req.Token)
		if err != nil {
			return err
		}
		if err := a.acc.rooms.AuthorizePublishBy(ctx, u, req.Stream); err != nil {
			return err
		}
		if err := a.acc.admitPublish(ctx, req.Stream); err != nil {
			return err
		}
		// In a cluster, the stream is claimed for this node as over RTMP.
		return a.acc.clusterPublish(ctx, req.Stream)
	}
	return a.acc.AuthorizePublish(ctx, rtmpserver.Request{
		App: a.app, Stream: req.Stream, Query: req.Query, RemoteAddr: req.RemoteAddr,
	})
}

// AuthorizePlay implements webrtcserver.Authorizer. In a cluster, a
// stream held by another node is relayed here first, as for the other
// play URLs.
func (a *webrtcAccess) AuthorizePlay(ctx context.Context, req webrtcserver.Request) error {
	return a.acc.play(ctx, req.Stream, req.Query)
}

// writeWebRTCDenied answers a refused WHIP or WHEP request. WHEP answers
// as the other play URLs; WHIP answers 401 without credentials (no
// signature, no or a bad token), 403 with a wrong or expired signature or
// a user who may not publish, 404 for a stream without a room.
func writeWebRTCDenied(w http.ResponseWriter, publish bool, err error) {
	switch {
	case !publish:
		api.WriteAccessError(w, err) // as the other play URLs
	case errors.Is(err, user.ErrUnauthenticated), errors.Is(err, auth.ErrMissingSignature):
		w.Header().Set("WWW-Authenticate", `Bearer realm="roomcast"`)
		httpx.WriteError(w, http.StatusUnauthorized, "unauthorized",
			"sign the URL (txSecret and txTime from POST /api/v1/rooms/ID/push-url) or send Authorization: Bearer TOKEN of the room's owner: "+err.Error())
	case errors.Is(err, quota.ErrExceeded):
		httpx.WriteError(w, http.StatusForbidden, "quota_exceeded", err.Error())
	case errors.Is(err, user.ErrBanned), errors.Is(err, room.ErrUserBanned):
		httpx.WriteError(w, http.StatusForbidden, "banned", err.Error())
	case errors.Is(err, room.ErrForbidden), errors.Is(err, room.ErrOwnerBanned),
		errors.Is(err, room.ErrNotCohost), errors.Is(err, room.ErrReservedStream):
		httpx.WriteError(w, http.StatusForbidden, "forbidden", err.Error())
	default:
		api.WriteAccessError(w, err)
	}
}

// registerWebRTCMetrics adds roomcast_webrtc_sessions{kind} and
// roomcast_webrtc_audio_transcoders, read at scrape time.
func (c *components) registerWebRTCMetrics() {
	if c.webrtc == nil {
		return
	}
	srv := c.webrtc
	c.metrics.Registry().MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Namespace: metrics.Namespace, Name: "webrtc_audio_transcoders",
			Help: "Running WHEP audio transcoders (AAC to Opus, one per stream with WebRTC viewers).",
		}, func() float64 { return float64(srv.AudioTranscoders()) }),
		webrtcSessions{srv: srv, desc: prometheus.NewDesc(metrics.Namespace+"_webrtc_sessions",
			"Open WebRTC sessions, by kind (whip: publishers, whep: viewers).", []string{"kind"}, nil)},
	)
}

// webrtcSessions exports the open sessions by kind.
type webrtcSessions struct {
	srv  *webrtcserver.Server
	desc *prometheus.Desc
}

// Describe implements prometheus.Collector.
func (w webrtcSessions) Describe(ch chan<- *prometheus.Desc) { ch <- w.desc }

// Collect implements prometheus.Collector.
func (w webrtcSessions) Collect(ch chan<- prometheus.Metric) {
	n := w.srv.Sessions()
	for _, kind := range []string{webrtcserver.KindWHIP, webrtcserver.KindWHEP} {
		ch <- prometheus.MustNewConstMetric(w.desc, prometheus.GaugeValue, float64(n[kind]), kind)
	}
}

// webrtcPorts describes the WebRTC media ports for the banner.
func webrtcPorts(cfg config.Config) string {
	var parts []string
	if a := cfg.WebRTC.UDPAddr; a != "" {
		parts = append(parts, "UDP "+a)
	}
	if a := cfg.WebRTC.TCPAddr; a != "" {
		parts = append(parts, "TCP "+a)
	}
	return strings.Join(parts, ", ")
}
