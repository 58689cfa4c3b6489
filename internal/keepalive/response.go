package keepalive

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// errTooLong is what a Write past the declared Content-Length returns, as
// net/http does.
var errTooLong = errors.New("keepalive: wrote more than the declared Content-Length")

// response is the http.ResponseWriter of a taken-over connection. The
// header goes out with the first body bytes (or at the end), in one write;
// a response without a Content-Length is kept whole and measured.
type response struct {
	c          *conn
	req        *http.Request
	header     http.Header
	status     int
	declared   int64 // Content-Length set by the handler; -1: none
	written    int64 // body bytes sent (or, with no length, kept in body)
	sent       bool  // the header is on the wire
	closeAfter bool  // the connection closes after this response
	err        error // a failed write: the connection closes
	out        []byte
	body       []byte
}

// reset prepares the response for req, reusing its header map and
// buffers.
func (w *response) reset(req *http.Request) {
	if w.header == nil {
		w.header = make(http.Header, 8)
	}
	clear(w.header)
	w.req, w.status, w.declared, w.written = req, 0, -1, 0
	w.sent, w.closeAfter, w.err = false, req.Close, nil
	w.body = w.body[:0]
}

// Header implements http.ResponseWriter.
func (w *response) Header() http.Header { return w.header }

// WriteHeader implements http.ResponseWriter. Informational codes are not
// sent; the first final code counts.
func (w *response) WriteHeader(code int) {
	if w.status != 0 || code < 200 {
		return
	}
	w.status = code
	if v := w.header.Get("Content-Length"); v != "" {
		if n, err := strconv.ParseInt(v, 10, 64); err == nil && n >= 0 {
			w.declared = n
		} else {
			w.header.Del("Content-Length") // as net/http drops a bad one
		}
	}
}

// bodyAllowed reports whether the response carries a body on the wire.
func (w *response) bodyAllowed() bool {
	return w.req.Method != http.MethodHead && w.status != http.StatusNoContent &&
		w.status != http.StatusNotModified
}

// Write implements http.ResponseWriter.
func (w *response) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	if w.err != nil {
		return 0, w.err
	}
	if !w.bodyAllowed() {
		if w.req.Method == http.MethodHead {
			if w.declared < 0 {
				w.written += int64(len(p)) // the length a GET would have
			}
			return len(p), nil
		}
		return 0, http.ErrBodyNotAllowed
	}
	if w.declared < 0 {
		w.body = append(w.body, p...)
		w.written += int64(len(p))
		return len(p), nil
	}
	if w.written+int64(len(p)) > w.declared {
		return 0, errTooLong
	}
	var err error
	if !w.sent {
		w.sent = true
		w.sniff(p)
		err = w.c.write(w.appendHead(w.out[:0]), p)
	} else {
		err = w.c.write(nil, p)
	}
	if err != nil {
		w.err = err
		return 0, err
	}
	w.written += int64(len(p))
	return len(p), nil
}

// SetWriteDeadline lets http.ResponseController bound the response.
func (w *response) SetWriteDeadline(t time.Time) error { return w.c.nc.SetWriteDeadline(t) }

// finish sends what the handler left unsent; false: the connection must
// close.
func (w *response) finish() bool {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	if w.err != nil {
		return false
	}
	if !w.sent {
		w.sent = true
		switch {
		case w.declared >= 0:
		case w.bodyAllowed():
			w.sniff(w.body)
			w.header["Content-Length"] = []string{strconv.Itoa(len(w.body))}
		case w.req.Method == http.MethodHead && w.written > 0: // as net/http does
			w.header["Content-Length"] = []string{strconv.FormatInt(w.written, 10)}
		}
		if w.err = w.c.write(w.appendHead(w.out[:0]), w.body); w.err != nil {
			return false
		}
	}
	if w.declared >= 0 && w.written < w.declared && w.bodyAllowed() {
		return false // cut short: the client must not wait for the rest
	}
	return true
}

// sniff sets the Content-Type from the body when the handler set none, as
// net/http does.
func (w *response) sniff(p []byte) {
	if _, ok := w.header["Content-Type"]; !ok && len(p) > 0 {
		w.header["Content-Type"] = []string{http.DetectContentType(p)}
	}
}

// appendHead appends the status line and header of the response, keeping
// the buffer for the next one.
func (w *response) appendHead(b []byte) []byte {
	if v := w.header["Connection"]; len(v) > 0 && strings.EqualFold(v[0], "close") {
		w.closeAfter = true
	}
	b = append(b, "HTTP/1.1 "...)
	b = strconv.AppendInt(b, int64(w.status), 10)
	b = append(b, ' ')
	b = append(b, http.StatusText(w.status)...)
	b = append(b, "\r\n"...)
	for k, vs := range w.header {
		for _, v := range vs {
			b = append(b, k...)
			b = append(b, ": "...)
			b = appendValue(b, v)
			b = append(b, "\r\n"...)
		}
	}
	if _, ok := w.header["Date"]; !ok {
		b = append(b, w.c.srv.date.line(time.Now())...)
	}
	if w.closeAfter {
		if _, ok := w.header["Connection"]; !ok {
			b = append(b, "Connection: close\r\n"...)
		}
	}
	b = append(b, "\r\n"...)
	w.out = b
	return b
}

// appendValue appends a header value with any CR or LF made a space, as
// net/http writes them.
func appendValue(b []byte, v string) []byte {
	if !strings.ContainsAny(v, "\r\n") {
		return append(b, v...)
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c == '\r' || c == '\n' {
			c = ' '
		}
		b = append(b, c)
	}
	return b
}
