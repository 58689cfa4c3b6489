package hls

import (
	"bytes"
	"context"
	"errors"
	"hash/maphash"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"roomcast/internal/httpx"
	"roomcast/internal/media"
)

var _ http.Handler = (*Server)(nil)

// Content types (RFC 8216 4).
const (
	playlistType = "application/vnd.apple.mpegurl"
	segmentType  = "video/mp2t"
)

// Cache policies: a playlist changes with every segment; a segment URL
// always names the same bytes.
const (
	playlistCache = "no-cache"
	segmentCache  = "public, max-age=3600"
)

// httpError is a failed request: status, stable code and message.
type httpError struct {
	status  int
	code    string
	message string
}

func (e *httpError) Error() string { return e.message }

var (
	errStreamNotFound  = &httpError{http.StatusNotFound, "stream_not_found", "stream is not live"}
	errSegmentNotFound = &httpError{http.StatusNotFound, "segment_not_found", "no such segment"}
	errBadName         = &httpError{http.StatusNotFound, "not_found", "invalid stream or segment name"}
	errNotReady        = &httpError{http.StatusServiceUnavailable, "stream_not_ready", "stream has no segment yet"}
	errMethod          = &httpError{http.StatusMethodNotAllowed, "method_not_allowed", "use GET or HEAD"}
)

// writeError maps a handler error to a JSON error response.
func writeError(w http.ResponseWriter, err error) {
	var he *httpError
	if !errors.As(err, &he) {
		he = &httpError{http.StatusInternalServerError, "internal", err.Error()}
	}
	switch he.status {
	case http.StatusMethodNotAllowed:
		w.Header().Set("Allow", "GET, HEAD, OPTIONS")
	case http.StatusServiceUnavailable:
		w.Header().Set("Retry-After", "1")
	}
	httpx.WriteError(w, he.status, he.code, he.message)
}

// handle runs a handler with the parts every HLS response shares: CORS,
// preflight, method check, error mapping.
func handle(w http.ResponseWriter, r *http.Request, fn func() error) {
	if httpx.Preflight(w, r) {
		return
	}
	httpx.AllowAnyOrigin(w.Header())
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		writeError(w, errMethod)
		return
	}
	if err := fn(); err != nil && !errors.Is(err, context.Canceled) { // canceled: the client left
		writeError(w, err)
	}
}

// ServePlaylist serves GET /APP/STREAM.m3u8: the live media playlist of
// stream. When the stream is live but has no segment yet, it waits for the
// first one up to 1.5 target durations, so that a player started with the
// stream plays at once; then it answers 503 with Retry-After. An unknown
// stream is 404 at once.
func (s *Server) ServePlaylist(w http.ResponseWriter, r *http.Request, stream string) {
	handle(w, r, func() error { return s.servePlaylist(w, r, stream) })
}

func (s *Server) servePlaylist(w http.ResponseWriter, r *http.Request, stream string) error {
	if !media.ValidName(stream) {
		return errBadName
	}
	ls := s.lookup(stream)
	if ls == nil {
		return errStreamNotFound
	}
	pr, err := s.playlistFor(r, ls)
	if err != nil {
		return err
	}
	body, length := pr.body, pr.length
	if q := signatureQuery(r); q != "" {
		body = withQuery(body, q)
		length = []string{strconv.Itoa(len(body))}
	}
	now := time.Now()
	ls.seen(s.clientKey(r), now)
	h := w.Header()
	h["Content-Type"] = playlistTypeHdr
	h["Cache-Control"] = playlistCacheHdr
	h["Content-Length"] = length
	s.setWriteDeadline(w, now)
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodGet {
		n, _ := w.Write(body)
		if hs := ls.stream(); hs != nil {
			hs.AddBytesOut(n)
		}
	}
	return nil
}

// ServeSegment serves GET /APP/STREAM/SEGMENT, SEGMENT being a name listed
// in the stream's playlist ("TOKEN-SEQ.ts"). Segments are immutable and
// cached for an hour; ranges and conditional requests are supported.
func (s *Server) ServeSegment(w http.ResponseWriter, r *http.Request, stream, segment string) {
	handle(w, r, func() error { return s.serveSegment(w, r, stream, segment) })
}

func (s *Server) serveSegment(w http.ResponseWriter, r *http.Request, stream, segment string) error {
	if !media.ValidName(stream) {
		return errBadName
	}
	token, seq, ok := parseSegmentName(segment)
	if !ok {
		return s.serveNamedPart(w, r, stream, segment)
	}
	ls := s.lookup(stream)
	if ls == nil {
		return errStreamNotFound
	}
	seg := ls.segment(token, seq)
	if seg == nil {
		return errSegmentNotFound
	}
	s.writeBody(w, r, ls, seg.hdr, seg.Data)
	return nil
}

// ServeHTTP serves /APP/STREAM.m3u8 and /APP/STREAM/SEGMENT for any single
// path element APP, for mounting the server as one handler (for example at
// "/live/"). Anything else is 404.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	parts := strings.Split(strings.TrimPrefix(r.URL.Path, "/"), "/")
	switch {
	case len(parts) == 2 && media.ValidName(parts[0]) && strings.HasSuffix(parts[1], ".m3u8"):
		s.ServePlaylist(w, r, strings.TrimSuffix(parts[1], ".m3u8"))
	case len(parts) == 3 && media.ValidName(parts[0]):
		s.ServeSegment(w, r, parts[1], parts[2])
	default:
		handle(w, r, func() error { return errBadName })
	}
}

// parseSegmentName parses "TOKEN-SEQ.ts": TOKEN 1 to 13 base-36 digits
// (lower case), SEQ a decimal number without leading zeros. Anything else,
// including any other spelling of the same numbers, is rejected, so that
// one segment has exactly one URL.
func parseSegmentName(name string) (token string, seq uint64, ok bool) {
	base, ok := strings.CutSuffix(name, ".ts")
	if !ok {
		return "", 0, false
	}
	token, num, ok := strings.Cut(base, "-")
	if !ok || len(token) == 0 || len(token) > 13 || len(num) == 0 || len(num) > 20 {
		return "", 0, false
	}
	for i := 0; i < len(token); i++ {
		if c := token[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z') {
			return "", 0, false
		}
	}
	for i := 0; i < len(num); i++ {
		if c := num[i]; c < '0' || c > '9' {
			return "", 0, false
		}
	}
	if num[0] == '0' && len(num) > 1 {
		return "", 0, false
	}
	seq, err := strconv.ParseUint(num, 10, 64)
	if err != nil {
		return "", 0, false
	}
	return token, seq, true
}

// clientKey identifies an HLS client for the viewer count: HLS clients
// share one muxer and make a request per segment, so distinct clients are
// told apart by address and User-Agent.
func (s *Server) clientKey(r *http.Request) uint64 {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	var h maphash.Hash
	h.SetSeed(s.seed)
	h.WriteString(host)
	h.WriteByte(0)
	h.WriteString(r.UserAgent())
	return h.Sum64()
}

// setWriteDeadline bounds the response write, where the connection
// supports it.
func (s *Server) setWriteDeadline(w http.ResponseWriter, now time.Time) {
	_ = http.NewResponseController(w).SetWriteDeadline(now.Add(s.cfg.WriteTimeout))
}

// countingWriter counts the body bytes written.
type countingWriter struct {
	http.ResponseWriter
	n int
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.ResponseWriter.Write(p)
	c.n += n
	return n, err
}

// Unwrap lets http.ResponseController reach the connection.
func (c *countingWriter) Unwrap() http.ResponseWriter { return c.ResponseWriter }

// signatureQuery returns the play signature (txSecret, txTime) of a request,
// encoded, or "" when it carries none.
func signatureQuery(r *http.Request) string {
	q := r.URL.Query()
	secret, txTime := q.Get("txSecret"), q.Get("txTime")
	if secret == "" && txTime == "" {
		return ""
	}
	return url.Values{"txSecret": {secret}, "txTime": {txTime}}.Encode()
}

// withQuery appends query to every URI of a playlist (URI lines and the
// URI="…" attributes of EXT-X-PART and EXT-X-PRELOAD-HINT), so that a
// private room's segments and parts are fetched with the signature the
// playlist was fetched with.
func withQuery(body []byte, query string) []byte {
	out := make([]byte, 0, len(body)+(len(query)+1)*(bytes.Count(body, []byte(".ts"))+1))
	for line := range bytes.Lines(body) {
		trimmed := bytes.TrimRight(line, "\r\n")
		if len(trimmed) == 0 {
			out = append(out, line...)
			continue
		}
		if trimmed[0] == '#' {
			out = appendAttrQuery(out, line, query)
			continue
		}
		out = append(out, trimmed...)
		out = append(out, '?')
		out = append(out, query...)
		out = append(out, line[len(trimmed):]...)
	}
	return out
}

// appendAttrQuery appends a tag line with query added to its URI="…"
// attribute, if it has one.
func appendAttrQuery(out, line []byte, query string) []byte {
	const attr = `URI="`
	i := bytes.Index(line, []byte(attr))
	if i < 0 {
		return append(out, line...)
	}
	i += len(attr)
	j := bytes.IndexByte(line[i:], '"')
	if j < 0 {
		return append(out, line...)
	}
	j += i
	out = append(out, line[:j]...)
	out = append(out, '?')
	out = append(out, query...)
	return append(out, line[j:]...)
}
