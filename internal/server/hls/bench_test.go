package hls

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"roomcast/internal/hub"
	hlsproto "roomcast/internal/protocol/hls"
)

// discardWriter is a ResponseWriter that counts the body and keeps one
// header map, as a server connection does between requests.
type discardWriter struct {
	h http.Header
	n int
}

func (d *discardWriter) Header() http.Header { return d.h }
func (d *discardWriter) Write(p []byte) (int, error) {
	d.n += len(p)
	return len(p), nil
}
func (d *discardWriter) WriteHeader(int) {}

// benchServer is a server with one stream holding a segment of size bytes
// and its parts.
func benchServer(b *testing.B, size int) (*Server, *liveStream) {
	b.Helper()
	s := New(hub.New(hub.Config{}, slog.New(slog.NewTextHandler(io.Discard, nil))), Config{}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	ls := newLiveStream("s", "tok", s.cfg, func() {})
	s.streams["s"] = ls
	data := make([]byte, size)
	for i := range 4 {
		n := size / 4
		ls.addPart(&hlsproto.Part{PartInfo: hlsproto.PartInfo{Seq: 7, Index: i, Duration: 250 * time.Millisecond, Independent: i == 0}, Data: data[i*n : (i+1)*n]})
	}
	ls.add(&hlsproto.Segment{SegmentInfo: hlsproto.SegmentInfo{Seq: 7, Duration: time.Second}, Data: data})
	return s, ls
}

func benchServe(b *testing.B, s *Server, path string, want int) {
	b.Helper()
	r := httptest.NewRequest("GET", path, nil)
	r.RemoteAddr = "127.0.0.1:5000"
	w := &discardWriter{h: make(http.Header)}
	s.ServeHTTP(w, r)
	if w.n != want {
		b.Fatalf("%s: %d bytes, want %d", path, w.n, want)
	}
	b.ReportAllocs()
	b.SetBytes(int64(want))
	b.ResetTimer()
	for range b.N {
		clear(w.h)
		s.ServeHTTP(w, r)
	}
}

// BenchmarkServeSegment shows that a segment is written from memory: the
// bytes allocated per request do not grow with the segment.
func BenchmarkServeSegment(b *testing.B) {
	for _, size := range []int{64 << 10, 1 << 20} {
		b.Run(strconv.Itoa(size>>10)+"KiB", func(b *testing.B) {
			s, _ := benchServer(b, size)
			benchServe(b, s, "/live/s/tok-7.ts", size)
		})
	}
}

// BenchmarkServePart is the same for an LL-HLS part.
func BenchmarkServePart(b *testing.B) {
	s, _ := benchServer(b, 1<<20)
	benchServe(b, s, "/live/s/tok-7.1.ts", 1<<18)
}

// BenchmarkServePlaylist serves the rendered playlist.
func BenchmarkServePlaylist(b *testing.B) {
	s, ls := benchServer(b, 1<<20)
	benchServe(b, s, "/live/s.m3u8", len(ls.playlist))
}
