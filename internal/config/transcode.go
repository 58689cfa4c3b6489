package config

import (
	"flag"
	"fmt"
	"time"
)

// Transcode configures the features that run ffmpeg: live covers, replay
// posters and the quality ladder (and the co-host mix and WebRTC audio,
// which share the same supervisor and bound).
type Transcode struct {
	// FFmpeg is the ffmpeg binary (a name looked up in PATH, or a path).
	// Without it those features are off and everything else works.
	FFmpeg string
	// MaxTranscodes bounds the ffmpeg processes running at once (0: no
	// limit).
	MaxTranscodes int
	// CoverInterval is how often a live stream's cover is refreshed.
	CoverInterval time.Duration
	// ABRLadder lists the renditions each live stream is transcoded into
	// ("720p", "480p", "360p"); empty means no ladder.
	ABRLadder []string
}

// Ladder renditions -abr-ladder accepts, tallest first.
var ladderRungs = []string{"1080p", "720p", "480p", "360p", "240p"}

func defaultTranscode() Transcode {
	return Transcode{FFmpeg: "ffmpeg", MaxTranscodes: 32, CoverInterval: 10 * time.Second}
}

// transcodeFlags defines the Transcode flags on fs.
func (c *Config) transcodeFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.Transcode.FFmpeg, "ffmpeg", c.Transcode.FFmpeg, "ffmpeg binary for live covers, replay posters, the quality ladder, the co-host mix and WebRTC audio (those are off without it)")
	fs.IntVar(&c.Transcode.MaxTranscodes, "max-transcodes", c.Transcode.MaxTranscodes, "ffmpeg processes running at once (0: no limit)")
	fs.DurationVar(&c.Transcode.CoverInterval, "cover-interval", c.Transcode.CoverInterval, "how often a live stream's cover picture (/APP/STREAM.jpg) is refreshed while it is asked for")
	fs.Var((*listFlag)(&c.Transcode.ABRLadder), "abr-ladder", "comma-separated renditions each live stream is transcoded into, e.g. 720p,480p,360p (any of "+fmt.Sprint(ladderRungs)+"; empty: off)")
}

// validateTranscode checks the Transcode settings.
func (c *Config) validateTranscode(check func(ok bool, key, format string, args ...any)) {
	check(c.Transcode.FFmpeg != "", "ffmpeg", "must not be empty")
	check(c.Transcode.MaxTranscodes >= 0, "max-transcodes", "must not be negative")
	check(c.Transcode.CoverInterval >= time.Second && c.Transcode.CoverInterval <= time.Hour, "cover-interval", "%v is outside 1s..1h", c.Transcode.CoverInterval)
	seen := map[string]bool{}
	for _, r := range c.Transcode.ABRLadder {
		check(oneOf(r, ladderRungs...), "abr-ladder", "%q is not one of %v", r, ladderRungs)
		check(!seen[r], "abr-ladder", "%q is listed twice", r)
		seen[r] = true
	}
}
