//go:build linux

package transcode

import (
	"context"
	"testing"
	"time"
)

// TestStatsCountRunningCPU checks the CPU of a process still running is
// counted (read from /proc on Linux), not only when it exits.
func TestStatsCountRunningCPU(t *testing.T) {
	bin := fakeFFmpeg(t, "while :; do :; done")
	m := newManager(t, Config{FFmpeg: bin, StopGrace: 50 * time.Millisecond})
	job, err := m.Start(context.Background(), Spec{Kind: KindRendition, Args: []string{"-i", "pipe:0", "pipe:1"}})
	if err != nil {
		t.Fatal(err)
	}
	defer job.Stop()
	waitFor(t, "CPU time of the running process", func() bool {
		st := m.Stats()[KindRendition]
		return st.Running == 1 && st.CPU > 0
	})
}
