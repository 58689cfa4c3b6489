package httpx

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestSecurityHeaders checks every header on plain and TLS requests, on a
// page, an API error and a response whose handler sets its own headers.
func TestSecurityHeaders(t *testing.T) {
	routes := http.NewServeMux()
	routes.HandleFunc("GET /", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		_, _ = w.Write([]byte("<!doctype html>"))
	})
	routes.HandleFunc("GET /api/v1/missing", func(w http.ResponseWriter, r *http.Request) {
		WriteError(w, http.StatusNotFound, "not_found", "no such thing")
	})
	h := SecurityHeaders(routes, SecurityPolicy{Origins: []string{"https://live.example.com", "not a url"}, HSTSMaxAge: 100})
	tests := []struct {
		name, path string
		tls        bool
		wantHSTS   string
	}{
		{"page over http", "/", false, ""},
		{"api error over http", "/api/v1/missing", false, ""},
		{"page over https", "/", true, "max-age=100; includeSubDomains"},
		{"api error over https", "/api/v1/missing", true, "max-age=100; includeSubDomains"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", tt.path, nil)
			if tt.tls {
				r.TLS = &tls.ConnectionState{}
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			got := w.Result().Header
			want := map[string]string{
				"X-Content-Type-Options":    "nosniff",
				"X-Frame-Options":           "DENY",
				"Referrer-Policy":           "same-origin",
				"Strict-Transport-Security": tt.wantHSTS,
			}
			for k, v := range want {
				if got.Get(k) != v {
					t.Errorf("%s = %q, want %q", k, got.Get(k), v)
				}
			}
			csp := got.Get("Content-Security-Policy")
			for _, part := range []string{"frame-ancestors 'none'", "script-src 'self'", "object-src 'none'",
				"connect-src 'self' https://live.example.com wss://live.example.com", "media-src 'self' blob: https://live.example.com"} {
				if !strings.Contains(csp, part) {
					t.Errorf("CSP %q lacks %q", csp, part)
				}
			}
			if strings.Contains(csp, "not a url") || strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
				t.Errorf("CSP %q lets through what it must not", csp)
			}
		})
	}
}

// TestSecurityHeadersNoHSTSWhenOff sends no HSTS over TLS when the policy
// has none.
func TestSecurityHeadersNoHSTSWhenOff(t *testing.T) {
	h := SecurityHeaders(http.NotFoundHandler(), SecurityPolicy{})
	r := httptest.NewRequest("GET", "/", nil)
	r.TLS = &tls.ConnectionState{}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if v := w.Result().Header.Get("Strict-Transport-Security"); v != "" {
		t.Fatalf("HSTS %q without a max age", v)
	}
}

// TestSecurityHeadersMedia: media paths get nosniff and HSTS alone; a
// handler adding to a shared header does not change the next response's.
func TestSecurityHeadersMedia(t *testing.T) {
	h := SecurityHeaders(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Add("Referrer-Policy", "no-referrer")
	}), SecurityPolicy{MediaPrefixes: []string{"/live/", "/vod/"}, HSTSMaxAge: 60})
	tests := []struct {
		path  string
		media bool
	}{
		{"/live/s.m3u8", true},
		{"/live/s/tok-1.0.ts", true},
		{"/vod/rec_1/index.m3u8", true},
		{"/livex", false},
		{"/api/v1/rooms", false},
		{"/", false},
	}
	for range 2 {
		for _, tt := range tests {
			r := httptest.NewRequest("GET", tt.path, nil)
			r.TLS = &tls.ConnectionState{}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			got := w.Result().Header
			if got.Get("X-Content-Type-Options") != "nosniff" || got.Get("Strict-Transport-Security") != "max-age=60; includeSubDomains" {
				t.Errorf("%s: nosniff %q, HSTS %q", tt.path, got.Get("X-Content-Type-Options"), got.Get("Strict-Transport-Security"))
			}
			if hasCSP := got.Get("Content-Security-Policy") != ""; hasCSP == tt.media {
				t.Errorf("%s: CSP present %v, want %v", tt.path, hasCSP, !tt.media)
			}
			want := []string{"same-origin", "no-referrer"}
			if tt.media {
				want = []string{"no-referrer"}
			}
			if v := got.Values("Referrer-Policy"); strings.Join(v, ",") != strings.Join(want, ",") {
				t.Errorf("%s: Referrer-Policy %v, want %v", tt.path, v, want)
			}
		}
	}
}
