package api

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"roomcast/internal/store"
)

// A database that cannot be reached is 503 unavailable with a Retry-After,
// from the API and from media access checks alike.
func TestUnavailableIs503(t *testing.T) {
	err := fmt.Errorf("user: authenticate: %w", fmt.Errorf("postgres: ping: %w: dial tcp: connection refused", store.ErrUnavailable))
	e := mapError(err)
	if e == nil || e.Status != http.StatusServiceUnavailable || e.Code != "unavailable" || e.RetryAfter <= 0 {
		t.Fatalf("mapError = %+v, want 503 unavailable with Retry-After", e)
	}
	w := httptest.NewRecorder()
	WriteAccessError(w, err)
	if w.Code != http.StatusServiceUnavailable || !strings.Contains(w.Body.String(), `"code":"unavailable"`) || w.Header().Get("Retry-After") == "" {
		t.Fatalf("WriteAccessError: %d %q %s", w.Code, w.Header().Get("Retry-After"), w.Body)
	}
}
