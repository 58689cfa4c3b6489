package app

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"

	"roomcast/internal/api"
	"roomcast/internal/config"
	"roomcast/internal/httpx"
	"roomcast/internal/hub"
	"roomcast/internal/ladder"
)

// newLadder builds the quality ladder of -abr-ladder (off when empty).
func newLadder(c *components, cfg config.Config, log *slog.Logger) (*ladder.Ladder, error) {
	rungs, err := ladder.ParseRungs(cfg.Transcode.ABRLadder)
	if err != nil {
		return nil, fmt.Errorf("abr-ladder: %w", err)
	}
	l := ladder.New(c.hub, c.transcode, rungs, log.With("component", "ladder"))
	c.hub.OnEvent(func(e hub.Event) {
		if !ladderSkips(e.Stream) {
			l.Handle(e)
		}
	})
	if len(rungs) > 0 && c.transcode.Available() {
		log.Info("quality ladder on", "renditions", cfg.Transcode.ABRLadder)
	}
	return l, nil
}

// serveMaster answers STREAM.m3u8 with the multivariant playlist when the
// stream has live renditions and the request is not for the source's own
// media playlist (?variant=source). It reports whether it answered.
func serveMaster(w http.ResponseWriter, r *http.Request, l *ladder.Ladder, stream string) bool {
	q := r.URL.Query()
	if q.Get("variant") == "source" || (r.Method != http.MethodGet && r.Method != http.MethodHead) {
		return false
	}
	sig := ""
	if secret, txTime := q.Get("txSecret"), q.Get("txTime"); secret != "" || txTime != "" {
		sig = url.Values{"txSecret": {secret}, "txTime": {txTime}}.Encode()
	}
	body := l.Master(stream, sig)
	if body == nil {
		return false
	}
	h := w.Header()
	httpx.AllowAnyOrigin(h)
	h.Set("Content-Type", "application/vnd.apple.mpegurl")
	h.Set("Cache-Control", "no-cache")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodGet {
		_, _ = w.Write(body)
	}
	return true
}

// apiRenditions gives the API a stream's live renditions.
func apiRenditions(l *ladder.Ladder) func(stream string) []api.Rendition {
	return func(stream string) []api.Rendition {
		vs := l.Variants(stream)
		if len(vs) < 2 {
			return nil
		}
		out := make([]api.Rendition, 0, len(vs)-1)
		for _, v := range vs[1:] {
			out = append(out, api.Rendition{Name: v.Name, Width: v.Width, Height: v.Height, Bandwidth: v.Bandwidth})
		}
		return out
	}
}
