package e2e

import (
	"context"
	"testing"
	"time"

	"roomcast/internal/config"
)

// TestCoverHEVC checks an H.265 stream (enhanced RTMP) gets a live cover of
// its size too: the keyframe goes to ffmpeg as an H.265 elementary stream.
func TestCoverHEVC(t *testing.T) {
	clip := makeHEVCClip(t, 8*time.Second)
	ctx := testContext(t)
	srv := startServer(t, func(c *config.Config) { c.Transcode.CoverInterval = time.Second })
	stream := streamName("coverhevc")
	pubCtx, stopPub := context.WithCancel(ctx)
	sent := &sentTags{bodies: map[string]bool{}}
	pubErr := make(chan error, 1)
	go func() { pubErr <- publishHEVC(pubCtx, srv.rtmpURL(stream), clip, true, sent) }()
	defer func() {
		stopPub()
		<-pubErr
	}()
	_, cfg, _ := coverWaitJPEG(ctx, t, srv.httpURL("/live/"+stream+".jpg"), 30*time.Second)
	if cfg.Width != wantWidth || cfg.Height != wantHeight {
		t.Fatalf("H.265 live cover is %dx%d, want %dx%d", cfg.Width, cfg.Height, wantWidth, wantHeight)
	}
}
