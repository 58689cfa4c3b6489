package httpx

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// SecurityPolicy is what SecurityHeaders promises browsers about every
// response: where the page may load and connect, that it is never framed,
// that content types are not sniffed, and how much of the URL a referrer
// carries.
type SecurityPolicy struct {
	// Origins are extra http(s) origins the pages may fetch media, images
	// and API responses from, besides their own (the public URL when it
	// differs from the address a browser used). The matching ws(s) origin
	// is allowed for each.
	Origins []string
	// HSTSMaxAge, when positive, sends Strict-Transport-Security on
	// responses served over TLS (never over plain HTTP, where browsers
	// ignore it and it would mislead).
	HSTSMaxAge int
	// MediaPrefixes are path prefixes of media responses (live streams,
	// segments, replays, covers), which are never rendered as pages: they
	// get nosniff (and HSTS) alone, which saves some 900 bytes of headers
	// on every HLS segment and playlist.
	MediaPrefixes []string
}

// SecurityHeaders sets the security headers of p on every response of next,
// before next runs, so that handlers that hijack the connection (FLV,
// WebSocket) and error paths carry them too. A handler may override one,
// as a media handler does for Cache-Control.
func SecurityHeaders(next http.Handler, p SecurityPolicy) http.Handler {
	// The header values are built once and shared by every response; a
	// one-element slice of exact capacity is copied, never changed, by a
	// handler that Adds to it.
	one := func(v string) []string { return []string{v} }
	csp, nosniff, deny, sameOrigin := one(p.CSP()), one("nosniff"), one("DENY"), one("same-origin")
	var hsts []string
	if p.HSTSMaxAge > 0 {
		hsts = one("max-age=" + strconv.Itoa(p.HSTSMaxAge) + "; includeSubDomains")
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h["X-Content-Type-Options"] = nosniff
		if hsts != nil && r.TLS != nil {
			h["Strict-Transport-Security"] = hsts
		}
		if !hasAnyPrefix(r.URL.Path, p.MediaPrefixes) {
			h["Content-Security-Policy"] = csp
			h["X-Frame-Options"] = deny
			h["Referrer-Policy"] = sameOrigin
			h["Cross-Origin-Opener-Policy"] = sameOrigin
		}
		next.ServeHTTP(w, r)
	})
}

// hasAnyPrefix reports whether path starts with one of prefixes.
func hasAnyPrefix(path string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(path, p) {
			return true
		}
	}
	return false
}

// CSP is the Content-Security-Policy of p. The web app is built with no
// inline script or style; players feed <video> from blob: URLs (Media
// Source Extensions) and hls.js runs its demuxer in a blob: worker.
func (p SecurityPolicy) CSP() string {
	var extra, ws []string
	for _, o := range p.Origins {
		u, err := url.Parse(o)
		if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
			continue
		}
		origin := u.Scheme + "://" + u.Host
		extra = append(extra, origin)
		ws = append(ws, strings.Replace(origin, "http", "ws", 1))
	}
	join := func(base string, more ...[]string) string {
		parts := []string{base}
		for _, m := range more {
			parts = append(parts, m...)
		}
		return strings.Join(parts, " ")
	}
	return strings.Join([]string{
		"default-src 'self'",
		"script-src 'self'",
		"style-src 'self'",
		join("img-src 'self' data: blob:", extra),
		join("media-src 'self' blob:", extra),
		join("connect-src 'self'", extra, ws),
		"worker-src 'self' blob:",
		"object-src 'none'",
		"base-uri 'self'",
		"form-action 'self'",
		"frame-ancestors 'none'",
	}, "; ")
}
