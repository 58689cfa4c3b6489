package api

import (
	"net/http"
	"strings"
)

// Preflight answers.
const (
	corsMethods = "GET, POST, PATCH, DELETE"
	corsHeaders = "Authorization, Content-Type"
	corsMaxAge  = "600"
)

// cors lets the configured browser origins call the API: it echoes an
// allowed Origin in Access-Control-Allow-Origin and answers preflight
// requests. Requests from other origins are served without CORS headers
// (the browser then hides the response); their preflights get 403.
// Credentials (cookies) are not involved: the API uses bearer tokens.
func (a *API) cors(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		if origin == "" {
			next.ServeHTTP(w, r)
			return
		}
		h := w.Header()
		h.Add("Vary", "Origin")
		allowed := a.origins["*"] || a.origins[strings.ToLower(origin)]
		preflight := r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != ""
		if preflight {
			h.Add("Vary", "Access-Control-Request-Method")
			h.Add("Vary", "Access-Control-Request-Headers")
			if !allowed {
				a.writeError(w, r, &Error{Status: http.StatusForbidden, Code: "forbidden", Message: "origin " + origin + " may not call this API"})
				return
			}
			h.Set("Access-Control-Allow-Origin", origin)
			h.Set("Access-Control-Allow-Methods", corsMethods)
			h.Set("Access-Control-Allow-Headers", corsHeaders)
			h.Set("Access-Control-Max-Age", corsMaxAge)
			w.WriteHeader(http.StatusNoContent)
			return
		}
		if allowed {
			h.Set("Access-Control-Allow-Origin", origin)
			h.Set("Access-Control-Expose-Headers", "Retry-After, WWW-Authenticate")
		}
		next.ServeHTTP(w, r)
	})
}
