// Package httpx holds HTTP plumbing shared by roomcast's handlers: JSON
// errors with stable codes, CORS, and tracking of long-lived connections that
// http.Server.Shutdown does not wait for.
package httpx

import (
	"encoding/json"
	"net"
	"net/http"
	"strings"
	"sync"
)

// ErrorBody is the JSON shape of every API error:
// {"error":{"code":"not_found","message":"…"}}.
type ErrorBody struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail carries a stable machine-readable code and a human message.
type ErrorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// WriteError writes a JSON error with the given status.
func WriteError(w http.ResponseWriter, status int, code, message string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	encode(w, ErrorBody{Error: ErrorDetail{Code: code, Message: message}})
}

// WriteJSON writes v as JSON with the given status.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	encode(w, v)
}

// encode writes v as JSON without HTML escaping: the API's URLs keep their
// "&" (not "\u0026"), which people copy from curl's output.
func encode(w http.ResponseWriter, v any) {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// AllowAnyOrigin sets CORS headers that let browser players on any origin
// read media responses.
func AllowAnyOrigin(h http.Header) {
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("Access-Control-Allow-Methods", "GET, HEAD, OPTIONS")
	h.Set("Access-Control-Allow-Headers", "Range, Content-Type")
	h.Set("Access-Control-Expose-Headers", "Content-Length, Content-Range")
}

// Preflight answers a CORS preflight request and reports whether it did.
func Preflight(w http.ResponseWriter, r *http.Request) bool {
	if r.Method != http.MethodOptions {
		return false
	}
	AllowAnyOrigin(w.Header())
	w.Header().Set("Access-Control-Max-Age", "86400")
	w.WriteHeader(http.StatusNoContent)
	return true
}

// Tracker counts long-lived handlers (HTTP-FLV, WebSocket) so that shutdown
// can wait for them after cancelling their context.
type Tracker struct {
	wg sync.WaitGroup
}

// Add registers one connection; call the returned func when it ends.
func (t *Tracker) Add() (done func()) {
	t.wg.Add(1)
	return t.wg.Done
}

// Wait blocks until every tracked connection ended or stop is closed, and
// reports whether all ended.
func (t *Tracker) Wait(stop <-chan struct{}) bool {
	ch := make(chan struct{})
	go func() {
		t.wg.Wait()
		close(ch)
	}()
	select {
	case <-ch:
		return true
	case <-stop:
		return false
	}
}

// ClientIP is the request's client address: the connection's, or, with
// trustProxy (behind a reverse proxy), the last X-Forwarded-For entry, the
// one that proxy added.
func ClientIP(r *http.Request, trustProxy bool) string {
	if trustProxy {
		if xff := r.Header.Values("X-Forwarded-For"); len(xff) > 0 {
			parts := strings.Split(xff[len(xff)-1], ",")
			if ip := strings.TrimSpace(parts[len(parts)-1]); net.ParseIP(ip) != nil {
				return ip
			}
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
