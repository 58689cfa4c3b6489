package app

import (
	"context"
	"log/slog"

	"roomcast/internal/config"
	"roomcast/internal/metrics"
	"roomcast/internal/transcode"
)

// newTranscoder builds the supervisor of ffmpeg processes. Without ffmpeg
// it says once which features are off; the server runs without them.
func newTranscoder(ctx context.Context, cfg config.Config, c *components, log *slog.Logger) *transcode.Manager {
	log = log.With("component", "transcode")
	max := cfg.Transcode.MaxTranscodes
	if max == 0 {
		max = -1 // the flag's 0 is "no limit"
	}
	m := transcode.New(ctx, transcode.Config{
		FFmpeg:  cfg.Transcode.FFmpeg,
		MaxJobs: max,
		Refused: func(limit string) {
			if c.metrics != nil {
				c.metrics.Refused(limit)
			}
		},
	}, log)
	if !m.Available() {
		log.Warn("ffmpeg not found: live covers, replay posters, the quality ladder, the co-host mix and WebRTC audio are off",
			"ffmpeg", cfg.Transcode.FFmpeg, "reason", m.Version())
	} else {
		log.Info("ffmpeg found", "path", m.Path(), "version", m.Version())
	}
	return m
}

// watchTranscodes exports the transcoder's figures in /metrics.
func watchTranscodes(c *components) {
	c.metrics.WatchTranscodes(func() map[string]metrics.TranscodeStats {
		out := make(map[string]metrics.TranscodeStats)
		for kind, st := range c.transcode.Stats() {
			out[kind] = metrics.TranscodeStats{Running: st.Running, Restarts: st.Restarts, Refused: st.Refused, CPUSeconds: st.CPU.Seconds()}
		}
		return out
	})
}
