package metrics

import (
	"strings"
	"testing"
)

func TestWatchTranscodes(t *testing.T) {
	m := New(Sources{}, Build{})
	m.WatchTranscodes(func() map[string]TranscodeStats {
		return map[string]TranscodeStats{
			"cover":     {Running: 2, Restarts: 1, Refused: 3, CPUSeconds: 1.5},
			"rendition": {},
		}
	})
	out := scrape(t, m)
	for _, want := range []string{
		`roomcast_transcode_jobs{kind="cover"} 2`,
		`roomcast_transcode_restarts_total{kind="cover"} 1`,
		`roomcast_transcode_refused_total{kind="cover"} 3`,
		`roomcast_transcode_cpu_seconds_total{kind="cover"} 1.5`,
		`roomcast_transcode_jobs{kind="rendition"} 0`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
}
