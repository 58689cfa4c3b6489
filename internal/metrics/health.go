package metrics

import (
	"context"
	"net/http"
	"time"

	"roomcast/internal/httpx"
)

// checkTimeout bounds one readiness check.
const checkTimeout = 2 * time.Second

// Check is a readiness check: nil when the dependency it checks works.
type Check func(ctx context.Context) error

// Healthz answers 200 while the process serves HTTP at all (liveness).
func Healthz() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		httpx.WriteJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
}

// Readyz answers 200 when ready() is true and every check passes, else 503
// with a JSON error naming what is not ready (code "not_ready"). A load
// balancer takes the node out of rotation on 503: ready turns false as
// soon as a shutdown starts.
func Readyz(ready func() bool, checks map[string]Check) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		if !ready() {
			httpx.WriteError(w, http.StatusServiceUnavailable, "not_ready", "the server is starting or shutting down")
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), checkTimeout)
		defer cancel()
		for name, check := range checks {
			if err := check(ctx); err != nil {
				httpx.WriteError(w, http.StatusServiceUnavailable, "not_ready", name+": "+err.Error())
				return
			}
		}
		httpx.WriteJSON(w, http.StatusOK, map[string]string{"status": "ready"})
	})
}
