package bench

import (
	"bytes"
	"errors"
	"fmt"
	"net/url"
	"strconv"
)

// errBadResponse reports an HTTP response the bench cannot use.
var errBadResponse = errors.New("bench: bad HTTP response")

// maxResponseHeader bounds the size of a response header.
const maxResponseHeader = 16 << 10

// appendGET appends a minimal HTTP/1.1 GET request for u to dst, plus any
// extra header lines (each ending in \r\n).
func appendGET(dst []byte, u *url.URL, extra string) []byte {
	dst = append(dst, "GET "...)
	dst = append(dst, u.RequestURI()...)
	dst = append(dst, " HTTP/1.1\r\nHost: "...)
	dst = append(dst, u.Host...)
	dst = append(dst, "\r\nUser-Agent: roomcast-bench\r\nAccept: */*\r\n"...)
	dst = append(dst, extra...)
	return append(dst, "\r\n"...)
}

// respHeader is what the bench needs from a response header.
type respHeader struct {
	status        int
	chunked       bool
	contentLength int64 // -1 when absent
	// wsAccept is the Sec-WebSocket-Accept value.
	wsAccept string
}

// parseResponseHeader parses the response header at the start of b. It
// returns n == 0 and no error while the header is still incomplete, or the
// header's length including the blank line.
func parseResponseHeader(b []byte) (n int, h respHeader, err error) {
	end := bytes.Index(b, []byte("\r\n\r\n"))
	if end < 0 {
		if len(b) >= maxResponseHeader {
			return 0, h, fmt.Errorf("header over %d bytes: %w", maxResponseHeader, errBadResponse)
		}
		return 0, h, nil
	}
	n = end + 4
	lines := bytes.Split(b[:end], []byte("\r\n"))
	// Status line: HTTP/1.x SSS reason
	sl := lines[0]
	if !bytes.HasPrefix(sl, []byte("HTTP/1.")) || len(sl) < 12 || sl[8] != ' ' {
		return 0, h, fmt.Errorf("status line %q: %w", sl, errBadResponse)
	}
	h.status, err = strconv.Atoi(string(sl[9:12]))
	if err != nil || (len(sl) > 12 && sl[12] != ' ') {
		return 0, h, fmt.Errorf("status line %q: %w", sl, errBadResponse)
	}
	h.contentLength = -1
	for _, l := range lines[1:] {
		name, value, ok := bytes.Cut(l, []byte(":"))
		if !ok {
			return 0, h, fmt.Errorf("header line %q: %w", l, errBadResponse)
		}
		value = bytes.TrimSpace(value)
		switch {
		case bytes.EqualFold(name, []byte("Transfer-Encoding")):
			// The last coding must be chunked for a streamed body.
			h.chunked = bytes.HasSuffix(bytes.ToLower(value), []byte("chunked"))
		case bytes.EqualFold(name, []byte("Content-Length")):
			h.contentLength, err = strconv.ParseInt(string(value), 10, 64)
			if err != nil || h.contentLength < 0 {
				return 0, h, fmt.Errorf("content length %q: %w", value, errBadResponse)
			}
		case bytes.EqualFold(name, []byte("Sec-WebSocket-Accept")):
			h.wsAccept = string(value)
		}
	}
	if h.chunked {
		h.contentLength = -1
	}
	return n, h, nil
}

// Chunked decoder states.
const (
	chunkSize = iota
	chunkExt
	chunkSizeLF
	chunkData
	chunkDataCR
	chunkDataLF
	chunkDone
)

// errBadChunk reports malformed chunked transfer coding.
var errBadChunk = errors.New("bench: bad chunked encoding")

// chunkedDecoder removes HTTP/1.1 chunked transfer coding from a byte
// stream fed in arbitrary pieces, in place and without allocating.
type chunkedDecoder struct {
	state  int
	size   int64 // chunk bytes still to come
	digits int
}

// decode consumes p and calls emit with each piece of payload it contains
// (slices of p). It returns done once the last (zero-size) chunk is seen.
func (d *chunkedDecoder) decode(p []byte, emit func([]byte) error) (done bool, err error) {
	for len(p) > 0 {
		switch d.state {
		case chunkSize:
			c := p[0]
			p = p[1:]
			var v int64
			switch {
			case c >= '0' && c <= '9':
				v = int64(c - '0')
			case c >= 'a' && c <= 'f':
				v = int64(c-'a') + 10
			case c >= 'A' && c <= 'F':
				v = int64(c-'A') + 10
			case c == ';' || c == ' ' || c == '\t':
				d.state = chunkExt
				continue
			case c == '\r':
				d.state = chunkSizeLF
				continue
			case c == '\n':
				if err := d.endSizeLine(); err != nil {
					return false, err
				}
				continue
			default:
				return false, fmt.Errorf("byte %q in chunk size: %w", c, errBadChunk)
			}
			if d.digits++; d.digits > 12 {
				return false, fmt.Errorf("chunk size too long: %w", errBadChunk)
			}
			d.size = d.size<<4 | v
		case chunkExt:
			i := bytes.IndexByte(p, '\n')
			if i < 0 {
				return false, nil
			}
			p = p[i+1:]
			if err := d.endSizeLine(); err != nil {
				return false, err
			}
		case chunkSizeLF:
			if p[0] != '\n' {
				return false, fmt.Errorf("no LF after chunk size: %w", errBadChunk)
			}
			p = p[1:]
			if err := d.endSizeLine(); err != nil {
				return false, err
			}
		case chunkData:
			k := int(min(d.size, int64(len(p))))
			if err := emit(p[:k]); err != nil {
				return false, err
			}
			p = p[k:]
			if d.size -= int64(k); d.size == 0 {
				d.state = chunkDataCR
			}
		case chunkDataCR:
			switch p[0] {
			case '\r':
				d.state = chunkDataLF
			case '\n':
				d.state = chunkSize
			default:
				return false, fmt.Errorf("no CRLF after chunk data: %w", errBadChunk)
			}
			p = p[1:]
		case chunkDataLF:
			if p[0] != '\n' {
				return false, fmt.Errorf("no LF after chunk data: %w", errBadChunk)
			}
			p = p[1:]
			d.state = chunkSize
		case chunkDone:
			return true, nil
		}
	}
	return d.state == chunkDone, nil
}

func (d *chunkedDecoder) endSizeLine() error {
	if d.digits == 0 {
		return fmt.Errorf("empty chunk size: %w", errBadChunk)
	}
	d.digits = 0
	if d.size == 0 {
		d.state = chunkDone
		return nil
	}
	d.state = chunkData
	return nil
}
