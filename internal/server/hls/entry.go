package hls

import (
	"bytes"
	"net/http"
	"strconv"
	"strings"
	"time"

	hlsproto "roomcast/internal/protocol/hls"
)

// Header values shared by every response: net/http only reads them. Their
// capacity is their length, so that an Add elsewhere copies instead of
// writing into them.
var (
	playlistTypeHdr  = []string{playlistType}[:1:1]
	playlistCacheHdr = []string{playlistCache}[:1:1]
	segmentTypeHdr   = []string{segmentType}[:1:1]
	segmentCacheHdr  = []string{segmentCache}[:1:1]
)

// segEntry is a served segment with its header values rendered once, so
// that serving it allocates nothing per request for the segment.
type segEntry struct {
	*hlsproto.Segment
	hdr segmentHeaders
}

// segmentHeaders are the per-body header values of a segment or part.
type segmentHeaders struct {
	length []string // Content-Length
	etag   []string // ETag, or nil
}

// newSegEntry renders the header values of segment seg of the stream
// instance token.
func newSegEntry(seg *hlsproto.Segment, token string) *segEntry {
	return &segEntry{Segment: seg, hdr: segmentHeaders{
		length: []string{strconv.Itoa(len(seg.Data))},
		etag:   []string{`"` + token + "-" + strconv.FormatUint(seg.Seq, 10) + `"`},
	}}
}

// conditional reports whether a request needs http.ServeContent: ranges
// and conditional requests.
func conditional(r *http.Request) bool {
	h := r.Header
	return h.Get("Range") != "" || h.Get("If-None-Match") != "" || h.Get("If-Range") != "" ||
		h.Get("If-Match") != "" || h.Get("If-Modified-Since") != "" || h.Get("If-Unmodified-Since") != ""
}

// writeBody writes an immutable segment or part body: straight from
// memory, or through http.ServeContent for ranges and conditional
// requests.
func (s *Server) writeBody(w http.ResponseWriter, r *http.Request, ls *liveStream, hdr segmentHeaders, data []byte) {
	now := time.Now()
	ls.seen(s.clientKey(r), now)
	h := w.Header()
	h["Content-Type"] = segmentTypeHdr
	h["Cache-Control"] = segmentCacheHdr
	if hdr.etag != nil {
		h["Etag"] = hdr.etag
	}
	s.setWriteDeadline(w, now)
	n := 0
	if conditional(r) {
		cw := &countingWriter{ResponseWriter: w}
		http.ServeContent(cw, r, "", time.Time{}, bytes.NewReader(data))
		n = cw.n
	} else {
		h["Content-Length"] = hdr.length
		w.WriteHeader(http.StatusOK)
		if r.Method == http.MethodGet {
			n, _ = w.Write(data)
		}
	}
	if hs := ls.stream(); hs != nil {
		hs.AddBytesOut(n)
	}
}

// parsePartName parses "TOKEN-SEQ.IDX.ts", the name of part IDX of segment
// SEQ, with the spelling rules of parseSegmentName; IDX is a decimal
// number up to maxPartIndex without leading zeros.
func parsePartName(name string) (token string, seq uint64, idx int, ok bool) {
	base, ok := strings.CutSuffix(name, ".ts")
	if !ok {
		return "", 0, 0, false
	}
	dot := strings.LastIndexByte(base, '.')
	if dot < 0 {
		return "", 0, 0, false
	}
	n, err := parseDecimal(base[dot+1:], maxPartIndex)
	if err != nil {
		return "", 0, 0, false
	}
	token, seq, ok = parseSegmentName(base[:dot] + ".ts")
	return token, seq, int(n), ok
}

// serveNamedPart serves a request for STREAM/NAME where NAME is not a
// segment name: a part name, or nothing.
func (s *Server) serveNamedPart(w http.ResponseWriter, r *http.Request, stream, name string) error {
	token, seq, idx, ok := parsePartName(name)
	if !ok || !s.cfg.LowLatency() {
		return errBadName
	}
	ls := s.lookup(stream)
	if ls == nil {
		return errStreamNotFound
	}
	return s.servePart(w, r, ls, token, seq, idx)
}
