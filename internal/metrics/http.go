package metrics

import (
	"bufio"
	"net"
	"net/http"
	"strconv"
)

// Instrument counts the requests that mux serves by route and status. The
// route is the pattern mux matched (ServeMux sets it on the request), so
// label values stay bounded whatever the URLs.
func (m *Metrics) Instrument(mux http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := &statusWriter{ResponseWriter: w}
		defer func() {
			route := r.Pattern
			if route == "" {
				route = "unmatched"
			}
			m.requests.WithLabelValues(route, sw.statusLabel()).Inc()
		}()
		mux.ServeHTTP(sw, r)
	})
}

// statusWriter remembers the status of a response. It passes Flush and
// Hijack through, and Unwrap lets http.ResponseController reach the
// connection (write deadlines).
type statusWriter struct {
	http.ResponseWriter
	status   int
	hijacked bool
}

// WriteHeader implements http.ResponseWriter.
func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 || w.status < 200 && code >= 200 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

// Write implements http.ResponseWriter.
func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Flush implements http.Flusher.
func (w *statusWriter) Flush() {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	_ = http.NewResponseController(w.ResponseWriter).Flush()
}

// Hijack implements http.Hijacker.
func (w *statusWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, brw, err := http.NewResponseController(w.ResponseWriter).Hijack()
	if err == nil {
		w.hijacked = true
	}
	return conn, brw, err
}

// Unwrap returns the wrapped writer, for http.ResponseController.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *statusWriter) statusLabel() string {
	switch {
	case w.status != 0:
		return strconv.Itoa(w.status)
	case w.hijacked:
		// The handler wrote its own response on the connection
		// (HTTP-FLV).
		return "hijacked"
	default:
		return "200" // nothing written: net/http sends 200
	}
}
