package hls

import (
	"errors"
	"io"
	"net/http"
	"os"
	"sync"

	hlsproto "roomcast/internal/protocol/hls"
)

// errBodyGone is returned when a segment's memory file was released.
var errBodyGone = errors.New("hls: segment body released")

// memBody holds one segment's bytes (its parts as they come) in an
// anonymous memory file, so that responses go out with sendfile(2), as a
// static file server sends files: the kernel copies the pages to the
// socket, the server never copies them through user space. Each response
// opens its own file description (/proc/self/fd/N), with its own offset,
// so any number of them read the same body at once.
//
// Only the muxer goroutine appends; readers only read ranges already
// published to them (a part is listed after its bytes are written).
type memBody struct {
	f    *os.File
	path string
	size int64 // written so far; muxer goroutine only

	mu     sync.Mutex
	opens  int  // opens under way
	closed bool // release was called
}

// write appends p. Called by the muxer goroutine.
func (b *memBody) write(p []byte) error {
	n, err := b.f.Write(p)
	b.size += int64(n)
	return err
}

// open returns a new reader of the body, positioned at off.
func (b *memBody) open(off int64) (*os.File, error) {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil, errBodyGone
	}
	b.opens++
	b.mu.Unlock()
	// While opens > 0 the descriptor stays open: path names this body and
	// no file that took its number after it was closed.
	f, err := os.Open(b.path)
	b.mu.Lock()
	b.opens--
	if b.closed && b.opens == 0 {
		b.f.Close()
	}
	b.mu.Unlock()
	if err != nil {
		return nil, err
	}
	if off > 0 {
		if _, err := f.Seek(off, io.SeekStart); err != nil {
			f.Close()
			return nil, err
		}
	}
	return f, nil
}

// release closes the body once no open is under way; readers that already
// opened it keep reading.
func (b *memBody) release() {
	if b == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return
	}
	b.closed = true
	if b.opens == 0 {
		b.f.Close()
	}
}

// readerFrom finds the connection's io.ReaderFrom below the middleware's
// wrappers (they expose Unwrap for http.ResponseController): net/http's
// response, whose ReadFrom uses sendfile for an *os.File on a TCP
// connection.
func readerFrom(w http.ResponseWriter) io.ReaderFrom {
	for range 16 {
		if rf, ok := w.(io.ReaderFrom); ok {
			return rf
		}
		u, ok := w.(interface{ Unwrap() http.ResponseWriter })
		if !ok {
			return nil
		}
		w = u.Unwrap()
	}
	return nil
}

// sendBody writes n bytes of body b from off with sendfile. It reports
// false, having written nothing, when the body cannot be opened; the caller
// then writes from memory.
func sendBody(w http.ResponseWriter, b *memBody, off, n int64) (written int64, ok bool) {
	rf := readerFrom(w)
	if b == nil || rf == nil {
		return 0, false
	}
	f, err := b.open(off)
	if err != nil {
		return 0, false
	}
	defer f.Close()
	w.WriteHeader(http.StatusOK)
	written, _ = rf.ReadFrom(&io.LimitedReader{R: f, N: n})
	return written, true
}

// segFiles is the muxer's side of the memory files: the one of the open
// segment, to which its parts are appended. A Segment or part whose file
// could not be written has none and is served from memory.
type segFiles struct {
	open    *memBody
	openSeq uint64
	off     bool // memory files are unavailable: stop trying
}

// appendPart appends a part of segment seq to its file, returning the
// file and the part's offset in it.
func (f *segFiles) appendPart(seq uint64, data []byte) (*memBody, int64) {
	if f.off {
		return nil, 0
	}
	if f.open != nil && f.openSeq != seq {
		f.open.release() // a segment that never completed
		f.open = nil
	}
	if f.open == nil {
		b, err := newMemBody("roomcast-hls")
		if err != nil {
			f.off = true
			return nil, 0
		}
		f.open, f.openSeq = b, seq
	}
	off := f.open.size
	if err := f.open.write(data); err != nil {
		f.open.release()
		f.open = nil
		return nil, 0
	}
	return f.open, off
}

// complete returns the file of a completed segment: the one its parts
// filled, or (without parts) a new one.
func (f *segFiles) complete(seg *hlsproto.Segment) *memBody {
	b := f.open
	f.open = nil
	if b != nil && f.openSeq == seg.Seq && b.size == int64(len(seg.Data)) {
		return b
	}
	b.release()
	if f.off {
		return nil
	}
	b, err := newMemBody("roomcast-hls")
	if err != nil {
		f.off = true
		return nil
	}
	if err := b.write(seg.Data); err != nil {
		b.release()
		return nil
	}
	return b
}

// releaseFiles releases the stream's memory files once it is gone;
// requests still under way fall back to the bytes in memory. Called after
// the muxer stopped.
func (ls *liveStream) releaseFiles() {
	ls.files.open.release()
	ls.files.open = nil
	ls.mu.Lock()
	defer ls.mu.Unlock()
	for _, e := range ls.segs {
		e.body.release()
	}
}
