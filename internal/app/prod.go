package app

import (
	"bufio"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"roomcast/internal/config"
	"roomcast/internal/httpx"
	"roomcast/internal/metrics"
)

// newMetrics builds the metrics over c's components, which must all be
// built; they are read at scrape time.
func newMetrics(c *components, build metrics.Build) *metrics.Metrics {
	return metrics.New(metrics.Sources{
		Hub: c.hub,
		Chat: func() metrics.ChatStats {
			st := c.chat.Stats()
			return metrics.ChatStats{Connections: st.Connections, MessagesIn: st.MessagesIn, MessagesDelivered: st.MessagesDelivered,
				Skips: st.Skips, SkippedMessages: st.SkippedMessages, SlowDisconnects: st.SlowDisconnects}
		},
		Webhooks: func() metrics.WebhookStats {
			st := c.hooks.Stats()
			return metrics.WebhookStats{Emitted: st.Emitted, Delivered: st.Delivered, Failed: st.Failed, Abandoned: st.Abandoned}
		},
		RecordingsActive: c.rec.Active,
		RTMPConnections:  c.rtmp.Connections,
		KeepAlive: func() metrics.KeepAliveStats {
			st := c.players.Stats()
			return metrics.KeepAliveStats{Connections: st.Connections, Taken: st.Taken, HandedBack: st.HandedBack}
		},
	}, build)
}

// mountOps mounts /metrics (when enabled), /healthz and /readyz on mux.
func mountOps(mux *http.ServeMux, c *components, cfg config.Config) {
	if cfg.Metrics {
		mux.Handle("GET /metrics", c.metrics.Handler())
	}
	mux.Handle("GET /healthz", metrics.Healthz())
	mux.Handle("GET /readyz", metrics.Readyz(c.ready.Load, map[string]metrics.Check{
		"store": c.db.Ping,
	}))
}

// handler is the HTTP handler of both listeners: request metrics around
// the security headers around the API rate limit around the routes.
func handler(c *components, cfg config.Config) http.Handler {
	var h http.Handler = c.mux
	if cfg.Limits.APIRate > 0 {
		h = apiRateLimit(h, newAPILimiter(cfg.Limits.APIRate, time.Now), cfg.TrustProxy, c.metrics)
	}
	return c.metrics.Instrument(httpx.SecurityHeaders(h, securityPolicy(cfg)))
}

// securityPolicy is what every response promises browsers: pages may reach
// the public URL besides their own origin, and HTTPS responses carry HSTS
// (a year) when the TLS listener is configured. Media (the application's
// streams, replays) gets nosniff and HSTS alone.
func securityPolicy(cfg config.Config) httpx.SecurityPolicy {
	p := httpx.SecurityPolicy{
		Origins:       []string{cfg.PublicURL},
		MediaPrefixes: []string{"/" + cfg.RTMP.App + "/", "/vod/"},
	}
	if cfg.TLS.CertFile != "" && cfg.TLS.KeyFile != "" {
		p.HSTSMaxAge = 365 * 24 * 3600
	}
	return p
}

// serveChat serves a chat WebSocket within -max-chat-connections. The chat
// server takes the connection over (Hijack) and returns; the slot is freed
// when the connection is closed. The chat server logs the close with its
// reason.
func (c *components) serveChat(w http.ResponseWriter, r *http.Request, log *slog.Logger) {
	if !c.chatConns.acquire() {
		c.metrics.Refused("max-chat-connections")
		httpx.WriteError(w, http.StatusServiceUnavailable, "too_many_connections", "the server has too many chat connections; try again later")
		return
	}
	var once sync.Once
	closed := func() { once.Do(c.chatConns.release) }
	opened := func() {
		log.Debug("chat connection opened", "room", r.PathValue("id"), "remote", r.RemoteAddr)
	}
	hw := &hijackWatcher{ResponseWriter: w, opened: opened, closed: closed}
	c.chat.ServeWS(hw, r, r.PathValue("id"))
	if !hw.hijacked {
		closed() // refused before the upgrade
	}
}

// hijackWatcher calls opened when its handler hijacks the connection and
// closed when that connection is closed.
type hijackWatcher struct {
	http.ResponseWriter
	opened, closed func()
	hijacked       bool
}

// Hijack implements http.Hijacker. The connection keeps its concrete
// methods (SyscallConn, writev) when it is a TCP connection.
func (w *hijackWatcher) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	nc, brw, err := http.NewResponseController(w.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, err
	}
	w.hijacked = true
	w.opened()
	if tc, ok := nc.(*net.TCPConn); ok {
		return &watchedTCPConn{TCPConn: tc, closed: w.closed}, brw, nil
	}
	return &watchedConn{Conn: nc, closed: w.closed}, brw, nil
}

// Unwrap returns the wrapped writer, for http.ResponseController.
func (w *hijackWatcher) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// watchedTCPConn is a TCP connection that reports its Close.
type watchedTCPConn struct {
	*net.TCPConn
	closed func()
}

// Close implements net.Conn.
func (c *watchedTCPConn) Close() error {
	c.closed()
	return c.TCPConn.Close()
}

// watchedConn is any other connection (TLS) that reports its Close.
type watchedConn struct {
	net.Conn
	closed func()
}

// Close implements net.Conn.
func (c *watchedConn) Close() error {
	c.closed()
	return c.Conn.Close()
}

// connLimit bounds concurrent connections; max 0 means no bound.
type connLimit struct {
	max int64
	n   atomic.Int64
}

// acquire takes a slot, or reports false when none is free.
func (l *connLimit) acquire() bool {
	if l.n.Add(1) > l.max && l.max > 0 {
		l.n.Add(-1)
		return false
	}
	return true
}

// release frees a slot taken by acquire.
func (l *connLimit) release() { l.n.Add(-1) }

// apiRateLimit answers 429 (code "rate_limited", Retry-After) to a client
// IP past its budget on /api/ paths; media, chat frames on an open
// WebSocket and the ops endpoints are not limited.
func apiRateLimit(next http.Handler, l *httpx.Limiter, trustProxy bool, m *metrics.Metrics) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/api/") && r.Method != http.MethodOptions {
			if wait, ok := l.Allow(httpx.ClientIP(r, trustProxy)); !ok {
				m.Refused("api-rate-limit")
				secs := int(wait/time.Second) + 1
				w.Header().Set("Retry-After", fmt.Sprint(secs))
				httpx.AllowAnyOrigin(w.Header())
				httpx.WriteError(w, http.StatusTooManyRequests, "rate_limited", "too many requests; retry later")
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// maxAPIBuckets bounds the memory of the API rate limit.
const maxAPIBuckets = 100000

// newAPILimiter returns the limiter of -api-rate-limit: rate requests per
// second per client IP, in bursts of twice that.
func newAPILimiter(rate int, now func() time.Time) *httpx.Limiter {
	return httpx.NewLimiter(2*rate, time.Second/time.Duration(rate), maxAPIBuckets, now)
}

// hlsRequest matches the HLS requests of package keepalive's loop: GET or
// HEAD of /APP/STREAM.m3u8 and of /APP/STREAM/SEGMENT (segments and parts).
func hlsRequest(app string) func(method, path string) bool {
	prefix := "/" + app + "/"
	return func(method, path string) bool {
		if method != http.MethodGet && method != http.MethodHead {
			return false
		}
		rest, ok := strings.CutPrefix(path, prefix)
		if !ok || rest == "" {
			return false
		}
		stream, file, nested := strings.Cut(rest, "/")
		if !nested {
			return strings.HasSuffix(rest, ".m3u8")
		}
		return stream != "" && file != "" && !strings.Contains(file, "/")
	}
}
