// Package metrics exposes roomcast's Prometheus metrics. Most series are
// read from the components' own statistics at scrape time (a custom
// Collector over the hub, chat, webhook and recorder figures), so the hot
// paths carry no extra instrumentation; HTTP requests and finished
// recordings are counted here as they happen.
package metrics

import (
	"net/http"
	"runtime"
	"sort"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"roomcast/internal/cluster"
	"roomcast/internal/hub"
)

// Namespace prefixes every roomcast series.
const Namespace = "roomcast"

// Hub is what the metrics read from the stream registry.
type Hub interface {
	Streams() []*hub.Stream
	Totals() hub.Totals
}

// ChatStats are the chat server's figures (chat.Stats).
type ChatStats struct {
	Connections                   int
	MessagesIn, MessagesDelivered uint64
	// Skips, SkippedMessages: skipped notices to clients that fell
	// behind, and the messages they missed; SlowDisconnects: clients
	// closed as too slow.
	Skips, SkippedMessages, SlowDisconnects uint64
}

// WebhookStats are the webhook dispatcher's counters (webhook.Stats).
type WebhookStats struct {
	Emitted, Delivered, Failed, Abandoned uint64
}

// Sources are the components read at scrape time. Nil fields are skipped.
type Sources struct {
	Hub Hub
	// Chat returns the chat server's figures.
	Chat func() ChatStats
	// Webhooks returns the webhook dispatcher's counters.
	Webhooks func() WebhookStats
	// RecordingsActive returns the number of recordings in progress.
	RecordingsActive func() int
	// RTMPConnections returns the number of open RTMP connections.
	RTMPConnections func() int
	// KeepAlive returns the figures of the HLS keep-alive loop.
	KeepAlive func() KeepAliveStats
}

// KeepAliveStats are the HLS keep-alive loop's figures (keepalive.Stats).
type KeepAliveStats struct {
	Connections       int
	Taken, HandedBack uint64
}

// Build describes the running binary for roomcast_build_info.
type Build struct {
	Version, Commit string
}

// Metrics holds the registry and the counters updated as things happen.
// Its methods are safe for concurrent use.
type Metrics struct {
	reg        *prometheus.Registry
	requests   *prometheus.CounterVec
	recordings *prometheus.CounterVec
	refused    *prometheus.CounterVec
	quotas     *prometheus.CounterVec
}

// New returns the metrics of a server reading src, with the Go runtime and
// process collectors.
func New(src Sources, build Build) *Metrics {
	reg := prometheus.NewRegistry()
	m := &Metrics{
		reg: reg,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Name: "http_requests_total",
			Help: "HTTP requests by route (the mux pattern, \"unmatched\" for none) and status, counted when they finish; hijacked connections (WebSocket, HTTP-FLV) count when they close.",
		}, []string{"route", "status"}),
		recordings: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Name: "recordings_finished_total",
			Help: "Recordings that finished, by result (ready or failed).",
		}, []string{"result"}),
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Name: "limit_refusals_total",
			Help: "Requests refused by a configured limit, by limit.",
		}, []string{"limit"}),
		quotas: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Name: "quota_refusals_total",
			Help: "Requests refused by a per-user or per-room quota (answered quota_exceeded), by quota.",
		}, []string{"quota"}),
	}
	for _, r := range []string{"ready", "failed"} {
		m.recordings.WithLabelValues(r)
	}
	buildInfo := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Namespace: Namespace, Name: "build_info",
		Help: "Always 1; the labels describe the running binary.",
	}, []string{"version", "commit", "goversion"})
	buildInfo.WithLabelValues(build.Version, build.Commit, runtime.Version()).Set(1)
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.requests, m.recordings, m.refused, m.quotas, buildInfo,
		newCollector(src),
	)
	return m
}

// Registry returns the registry, for tests and extra collectors.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// RecordingFinished counts a finished recording; ready is false for one
// that failed.
func (m *Metrics) RecordingFinished(ready bool) {
	if ready {
		m.recordings.WithLabelValues("ready").Inc()
	} else {
		m.recordings.WithLabelValues("failed").Inc()
	}
}

// Refused counts a request refused by the named limit ("max-chat-connections").
func (m *Metrics) Refused(limit string) { m.refused.WithLabelValues(limit).Inc() }

// QuotaRefused counts a request refused by the named quota
// (quota.RoomsPerUser, …).
func (m *Metrics) QuotaRefused(name string) { m.quotas.WithLabelValues(name).Inc() }

// collector reads Sources at scrape time.
type collector struct {
	src Sources

	streams, publishers, viewers, rtmpConns       *prometheus.Desc
	relays, internal                              *prometheus.Desc
	streamsEnded, bytesIn, bytesOut               *prometheus.Desc
	dropped, slow                                 *prometheus.Desc
	chatConns, chatIn, chatDelivered              *prometheus.Desc
	chatSkips, chatSkipped, chatSlow              *prometheus.Desc
	recordingsActive                              *prometheus.Desc
	keepAliveConns, keepAliveTaken, keepAliveBack *prometheus.Desc
	webhookEvents, webhookDeliveries, webhookF    *prometheus.Desc
}

func newCollector(src Sources) *collector {
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc(Namespace+"_"+name, help, labels, nil)
	}
	return &collector{
		src:               src,
		streams:           d("streams", "Streams in the registry (live or waiting for their publisher to come back)."),
		publishers:        d("publishers", "Streams with a publisher on this node now (relays from other nodes and the server's own programme mixes not counted)."),
		internal:          d("internal_publishers", "Streams the server publishes itself now (a room's co-host programme)."),
		relays:            d("relays", "Streams relayed now from the node of the cluster holding them."),
		viewers:           d("viewers", "Viewers now, by protocol (rtmp, flv, ws-flv, hls, webrtc).", "protocol"),
		rtmpConns:         d("rtmp_connections", "Open RTMP connections (publishers, players and connections still handshaking)."),
		streamsEnded:      d("streams_ended_total", "Streams that ended."),
		bytesIn:           d("media_received_bytes_total", "Media bytes received from publishers."),
		bytesOut:          d("media_sent_bytes_total", "Media bytes sent to viewers."),
		dropped:           d("dropped_frames_total", "Frames skipped for viewers that fell behind."),
		slow:              d("slow_viewers_disconnected_total", "Viewers disconnected for staying too slow."),
		chatConns:         d("chat_connections", "Chat WebSocket clients on this node."),
		chatIn:            d("chat_messages_received_total", "Chat messages accepted from this node's clients."),
		chatDelivered:     d("chat_messages_delivered_total", "Chat messages queued to this node's clients (one per message and client)."),
		chatSkips:         d("chat_skips_total", "Skipped notices sent to chat clients that fell behind the room (their waiting messages were dropped)."),
		chatSkipped:       d("chat_skipped_messages_total", "Chat messages dropped for clients that fell behind (counted in their skipped notices)."),
		chatSlow:          d("chat_slow_disconnects_total", "Chat clients disconnected as too slow (send queue full, or skipped too often)."),
		recordingsActive:  d("recordings_active", "Recordings in progress."),
		keepAliveConns:    d("http_keepalive_connections", "HLS players' keep-alive connections served by the server's own loop now (outside net/http)."),
		keepAliveTaken:    d("http_keepalive_taken_total", "Connections the HLS keep-alive loop took over from net/http."),
		keepAliveBack:     d("http_keepalive_handed_back_total", "Connections the HLS keep-alive loop gave back to net/http for a request it does not serve."),
		webhookEvents:     d("webhook_events_total", "Webhook events queued in the outbox."),
		webhookDeliveries: d("webhook_deliveries_total", "Webhook deliveries, by result: delivered (2xx) or abandoned (gave up).", "result"),
		webhookF:          d("webhook_delivery_failures_total", "Failed webhook delivery attempts (each retry counts)."),
	}
}

// Describe implements prometheus.Collector.
func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{
		c.streams, c.publishers, c.internal, c.relays, c.viewers, c.rtmpConns, c.streamsEnded, c.bytesIn, c.bytesOut,
		c.dropped, c.slow, c.chatConns, c.chatIn, c.chatDelivered, c.chatSkips, c.chatSkipped, c.chatSlow, c.recordingsActive,
		c.webhookEvents, c.webhookDeliveries, c.webhookF, c.keepAliveConns, c.keepAliveTaken, c.keepAliveBack,
	} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *collector) Collect(ch chan<- prometheus.Metric) {
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	counter := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	if h := c.src.Hub; h != nil {
		streams := h.Streams()
		publishers, internal, relays := 0, 0, 0
		// Every protocol is always exported, so that a dashboard's series
		// exist before the first viewer.
		viewers := map[string]int{"rtmp": 0, "flv": 0, "ws-flv": 0, "hls": 0, "webrtc": 0}
		for _, s := range streams {
			st := s.Stats()
			switch {
			case st.Live && st.Publisher != nil && st.Publisher.Protocol == cluster.RelayProtocol:
				relays++
			case st.Live && st.Publisher != nil && st.Publisher.Internal:
				internal++
			case st.Live:
				publishers++
			}
			for p, n := range st.ViewersByProtocol {
				viewers[p] += n
			}
		}
		gauge(c.streams, float64(len(streams)))
		gauge(c.publishers, float64(publishers))
		gauge(c.internal, float64(internal))
		gauge(c.relays, float64(relays))
		protocols := make([]string, 0, len(viewers))
		for p := range viewers {
			protocols = append(protocols, p)
		}
		sort.Strings(protocols)
		for _, p := range protocols {
			gauge(c.viewers, float64(viewers[p]), p)
		}
		t := h.Totals()
		counter(c.streamsEnded, t.StreamsEnded)
		counter(c.bytesIn, t.BytesIn)
		counter(c.bytesOut, t.BytesOut)
		counter(c.dropped, t.DroppedFrames)
		counter(c.slow, t.SlowDisconnects)
	}
	if f := c.src.RTMPConnections; f != nil {
		gauge(c.rtmpConns, float64(f()))
	}
	if f := c.src.KeepAlive; f != nil {
		st := f()
		gauge(c.keepAliveConns, float64(st.Connections))
		counter(c.keepAliveTaken, st.Taken)
		counter(c.keepAliveBack, st.HandedBack)
	}
	if f := c.src.Chat; f != nil {
		st := f()
		gauge(c.chatConns, float64(st.Connections))
		counter(c.chatIn, st.MessagesIn)
		counter(c.chatDelivered, st.MessagesDelivered)
		counter(c.chatSkips, st.Skips)
		counter(c.chatSkipped, st.SkippedMessages)
		counter(c.chatSlow, st.SlowDisconnects)
	}
	if f := c.src.RecordingsActive; f != nil {
		gauge(c.recordingsActive, float64(f()))
	}
	if f := c.src.Webhooks; f != nil {
		st := f()
		counter(c.webhookEvents, st.Emitted)
		counter(c.webhookDeliveries, st.Delivered, "delivered")
		counter(c.webhookDeliveries, st.Abandoned, "abandoned")
		counter(c.webhookF, st.Failed)
	}
}
