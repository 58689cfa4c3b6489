package bench

import (
	"errors"
	"fmt"
	"io"
)

// byteStream turns what a viewer reads from its socket into media bytes.
type byteStream interface {
	// feed consumes p, read at now (µs since the run started), and reports
	// whether the stream is complete.
	feed(p []byte, now int64) (done bool, err error)
}

// flvBody is an HTTP response body carrying FLV: identity (possibly with a
// Content-Length) or chunked. It counts media bytes and scans FLV tags.
type flvBody struct {
	v       *viewer
	scan    flvScanner
	chunked bool
	cd      chunkedDecoder
	left    int64 // identity bytes still expected; -1: until EOF
	now     int64
	emitFn  func([]byte) error // b.emit, bound once
}

func newFLVBody(v *viewer, chunked bool, contentLength int64) *flvBody {
	b := &flvBody{v: v, scan: flvScanner{sink: v}, chunked: chunked, left: contentLength}
	b.emitFn = b.emit
	return b
}

// emit takes a piece of FLV.
func (b *flvBody) emit(p []byte) error {
	b.v.bytes.Add(int64(len(p)))
	return b.scan.feed(p, b.now)
}

func (b *flvBody) feed(p []byte, now int64) (bool, error) {
	b.now = now
	if b.chunked {
		return b.cd.decode(p, b.emitFn)
	}
	if b.left >= 0 {
		p = p[:min(int64(len(p)), b.left)]
		b.left -= int64(len(p))
		return b.left == 0, b.emit(p)
	}
	return false, b.emit(p)
}

// playHTTPFLV plays an HTTP-FLV stream over a raw TCP connection with a
// hand-written request: far cheaper per viewer than net/http.
func playHTTPFLV(v *viewer) error {
	cr, err := v.dial()
	if err != nil {
		return fmt.Errorf("dial: %w", err)
	}
	defer cr.c.Close()
	if _, err := cr.c.Write(appendGET(nil, v.r.t.u, "")); err != nil {
		return fmt.Errorf("request: %w", err)
	}
	buf := make([]byte, readBufSize)
	h, rest, at, err := readResponseHeader(cr, buf)
	if err != nil {
		return err
	}
	if h.status != 200 {
		return fmt.Errorf("HTTP status %d: %w", h.status, errBadResponse)
	}
	v.connected()
	return pump(cr, newFLVBody(v, h.chunked, h.contentLength), buf, rest, at)
}

// readResponseHeader reads a response header from cr into buf and returns
// it with the body bytes read after it (a slice of buf) and their arrival
// time.
func readResponseHeader(cr *connReader, buf []byte) (respHeader, []byte, int64, error) {
	filled := 0
	for {
		n, now, err := cr.read(buf[filled:])
		filled += n
		hn, h, perr := parseResponseHeader(buf[:filled])
		if perr != nil {
			return h, nil, now, perr
		}
		if hn > 0 {
			return h, buf[hn:filled], now, nil
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return h, nil, now, fmt.Errorf("response header: %w", err)
		}
	}
}

// pump feeds rest, which arrived at restAt, and then everything read from
// cr to s until the stream ends or fails. Each read's bytes are fed with
// that read's arrival time.
func pump(cr *connReader, s byteStream, buf, rest []byte, restAt int64) error {
	if len(rest) > 0 {
		done, err := s.feed(rest, restAt)
		if err != nil {
			return err
		}
		if done {
			return errStreamEnded
		}
	}
	for {
		n, now, err := cr.read(buf)
		if n > 0 {
			done, ferr := s.feed(buf[:n], now)
			if ferr != nil {
				return ferr
			}
			if done {
				return errStreamEnded
			}
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				return errStreamEnded
			}
			return err
		}
	}
}
