package metrics

import (
	"sort"

	"github.com/prometheus/client_golang/prometheus"
)

// TranscodeStats are one job kind's figures (transcode.KindStats).
type TranscodeStats struct {
	Running           int
	Restarts, Refused uint64
	CPUSeconds        float64
}

// WatchTranscodes exports the transcoding processes' figures by job kind
// ("cover", "rendition", …), read from stats at scrape time:
// roomcast_transcode_jobs, roomcast_transcode_restarts_total,
// roomcast_transcode_refused_total and roomcast_transcode_cpu_seconds_total.
// Call it once, before serving.
func (m *Metrics) WatchTranscodes(stats func() map[string]TranscodeStats) {
	m.reg.MustRegister(newTranscodeCollector(stats))
}

type transcodeCollector struct {
	stats                           func() map[string]TranscodeStats
	running, restarts, refused, cpu *prometheus.Desc
}

func newTranscodeCollector(stats func() map[string]TranscodeStats) *transcodeCollector {
	d := func(name, help string) *prometheus.Desc {
		return prometheus.NewDesc(Namespace+"_"+name, help, []string{"kind"}, nil)
	}
	return &transcodeCollector{
		stats:    stats,
		running:  d("transcode_jobs", "Transcoding processes (ffmpeg) running now, by job kind."),
		restarts: d("transcode_restarts_total", "Transcoding processes that died and were restarted, by job kind."),
		refused:  d("transcode_refused_total", "Transcoding jobs refused by -max-transcodes, by job kind."),
		cpu:      d("transcode_cpu_seconds_total", "CPU time (user + system) used by transcoding processes, by job kind."),
	}
}

// Describe implements prometheus.Collector.
func (c *transcodeCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.running
	ch <- c.restarts
	ch <- c.refused
	ch <- c.cpu
}

// Collect implements prometheus.Collector.
func (c *transcodeCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.stats()
	kinds := make([]string, 0, len(st))
	for k := range st {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	for _, k := range kinds {
		s := st[k]
		ch <- prometheus.MustNewConstMetric(c.running, prometheus.GaugeValue, float64(s.Running), k)
		ch <- prometheus.MustNewConstMetric(c.restarts, prometheus.CounterValue, float64(s.Restarts), k)
		ch <- prometheus.MustNewConstMetric(c.refused, prometheus.CounterValue, float64(s.Refused), k)
		ch <- prometheus.MustNewConstMetric(c.cpu, prometheus.CounterValue, s.CPUSeconds, k)
	}
}
