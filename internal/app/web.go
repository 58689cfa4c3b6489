package app

import (
	"fmt"
	"log/slog"
	"net/http"

	"roomcast/internal/config"
	"roomcast/internal/web"
)

// mountWeb serves the embedded web app at / on mux, behind every other
// route: the API, the media application, /vod/ and /debug/ are never
// answered by the app. notBuilt is shown when the binary was built without
// the app (see internal/web).
func mountWeb(mux *http.ServeMux, cfg config.Config, log *slog.Logger, notBuilt string) error {
	h, err := web.New(web.Options{
		FS:       web.Dist(),
		Reserved: []string{"/api/", "/" + cfg.RTMP.App + "/", "/vod/", "/debug/"},
		NotBuilt: notBuilt,
		Log:      log.With("component", "web"),
	})
	if err != nil {
		return fmt.Errorf("web app: %w", err)
	}
	if !h.Built() {
		log.Warn("the web app is not built into this binary: run make web (the API and media work without it)")
	}
	mux.Handle("/", h)
	return nil
}
