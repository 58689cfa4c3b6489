package e2e

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestCoverReplayPoster records a short live and checks its replay's
// poster_url is a JPEG of the stream's size, and that a private room's
// poster needs the signature its poster_url carries.
func TestCoverReplayPoster(t *testing.T) {
	requireTool(t, "ffmpeg")
	ctx := testContext(t)
	s := startServer(t, coverRules)
	owner := s.register(ctx, t, "posterhost")
	for _, private := range []bool{false, true} {
		rm := s.createRoom(ctx, t, owner, "Poster", private)
		recordFinite(ctx, t, s, owner, rm, 5*time.Second)
		var rep struct {
			PosterURL *string `json:"poster_url"`
		}
		id := s.waitReady(ctx, t, owner.Token, rm.ID, 1).ID
		s.mustCall(ctx, t, http.MethodGet, "/api/v1/replays/"+id, owner.Token, nil, http.StatusOK, &rep)
		if rep.PosterURL == nil || !strings.Contains(*rep.PosterURL, "/vod/"+id+"/poster.jpg") {
			t.Fatalf("replay %s (private %v): poster_url %v", id, private, rep.PosterURL)
		}
		_, cfg, _ := coverWaitJPEG(ctx, t, *rep.PosterURL, 10*time.Second)
		if cfg.Width != wantWidth || cfg.Height != wantHeight {
			t.Fatalf("poster is %dx%d, want %dx%d", cfg.Width, cfg.Height, wantWidth, wantHeight)
		}
		if private {
			expectMediaError(ctx, t, stripQuery(t, *rep.PosterURL), http.StatusForbidden, "invalid_signature")
		}
	}
}
