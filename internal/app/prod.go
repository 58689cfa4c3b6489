package app

import (
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

// newMetrics builds the metrics over c's components; they are read at
// scrape time, so components built later are fine.
func newMetrics(c *components, build metrics.Build) *metrics.Metrics {
	return metrics.New(metrics.Sources{
		Hub: c.hub,
		Chat: func() metrics.ChatStats {
			st := c.chat.Stats()
			return metrics.ChatStats{Connections: st.Connections, MessagesIn: st.MessagesIn, MessagesDelivered: st.MessagesDelivered}
		},
		Webhooks: func() metrics.WebhookStats {
			st := c.hooks.Stats()
			return metrics.WebhookStats{Emitted: st.Emitted, Delivered: st.Delivered, Failed: st.Failed, Abandoned: st.Abandoned}
		},
		RecordingsActive: c.rec.Active,
		RTMPConnections:  c.rtmp.Connections,
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
// the API rate limit around the routes.
func handler(c *components, cfg config.Config) http.Handler {
	var h http.Handler = c.mux
	if cfg.Limits.APIRate > 0 {
		h = apiRateLimit(h, newIPLimiter(cfg.Limits.APIRate, 2*cfg.Limits.APIRate, time.Now), cfg.TrustProxy, c.metrics)
	}
	return c.metrics.Instrument(h)
}

// serveChat serves a chat WebSocket within -max-chat-connections and logs
// one line when it closes.
func (c *components) serveChat(w http.ResponseWriter, r *http.Request, log *slog.Logger) {
	if !c.chatConns.acquire() {
		c.metrics.Refused("max-chat-connections")
		httpx.WriteError(w, http.StatusServiceUnavailable, "too_many_connections", "the server has too many chat connections; try again later")
		return
	}
	defer c.chatConns.release()
	start := time.Now()
	sw := &statusRecorder{ResponseWriter: w}
	c.chat.ServeWS(sw, r, r.PathValue("id"))
	reason := "closed"
	if sw.status != http.StatusSwitchingProtocols && sw.status != 0 {
		reason = fmt.Sprintf("refused with HTTP %d", sw.status)
	}
	log.Info("chat connection closed", "room", r.PathValue("id"), "remote", r.RemoteAddr,
		"reason", reason, "duration", time.Since(start).Round(time.Millisecond))
}

// statusRecorder remembers the status a handler wrote; Unwrap lets the
// WebSocket upgrade reach the connection.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

// WriteHeader implements http.ResponseWriter.
func (w *statusRecorder) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

// Unwrap returns the wrapped writer, for http.ResponseController.
func (w *statusRecorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }

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
func apiRateLimit(next http.Handler, l *ipLimiter, trustProxy bool, m *metrics.Metrics) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/api/") && r.Method != http.MethodOptions {
			if wait, ok := l.allow(clientIP(r, trustProxy)); !ok {
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

// clientIP is the request's client address: the connection's, or behind a
// trusted proxy the last X-Forwarded-For entry (the one it added).
func clientIP(r *http.Request, trustProxy bool) string {
	if trustProxy {
		if xff := r.Header.Values("X-Forwarded-For"); len(xff) > 0 {
			parts := strings.Split(xff[len(xff)-1], ",")
			if ip := strings.TrimSpace(parts[len(parts)-1]); net.ParseIP(ip) != nil {
				return ip
			}
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// ipLimiter is a token bucket per client IP: rate tokens per second up to
// burst. Its memory is bounded: full buckets are dropped when it holds
// maxIPBuckets.
type ipLimiter struct {
	rate, burst float64
	now         func() time.Time

	mu      sync.Mutex
	buckets map[string]*ipBucket
}

// maxIPBuckets bounds the limiter's memory.
const maxIPBuckets = 100000

type ipBucket struct {
	tokens float64
	at     time.Time
}

func newIPLimiter(rate, burst int, now func() time.Time) *ipLimiter {
	return &ipLimiter{rate: float64(rate), burst: float64(burst), now: now, buckets: make(map[string]*ipBucket)}
}

// allow takes a token of ip's bucket, or says how long until one is there.
func (l *ipLimiter) allow(ip string) (wait time.Duration, ok bool) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.buckets[ip]
	if b == nil {
		if len(l.buckets) >= maxIPBuckets {
			l.sweepLocked(now)
		}
		b = &ipBucket{tokens: l.burst, at: now}
		l.buckets[ip] = b
	}
	b.tokens = min(l.burst, b.tokens+now.Sub(b.at).Seconds()*l.rate)
	b.at = now
	if b.tokens >= 1 {
		b.tokens--
		return 0, true
	}
	return time.Duration((1 - b.tokens) / l.rate * float64(time.Second)), false
}

// sweepLocked drops the buckets that are full again; if none is, it drops
// them all. mu held.
func (l *ipLimiter) sweepLocked(now time.Time) {
	for ip, b := range l.buckets {
		if b.tokens+now.Sub(b.at).Seconds()*l.rate >= l.burst {
			delete(l.buckets, ip)
		}
	}
	if len(l.buckets) >= maxIPBuckets {
		clear(l.buckets)
	}
}
