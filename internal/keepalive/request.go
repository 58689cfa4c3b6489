package keepalive

import (
	"bytes"
	"strings"
)

// headState is what parseHead found at the start of a buffer.
type headState int

const (
	headIncomplete headState = iota // the header has not all arrived
	headComplete                    // a whole request header
)

// parseHead looks for a whole request header (request line, header lines,
// the empty line) at the start of b. For a complete one it returns its
// length and, when its request line is an origin-form HTTP/1.1 request
// whose path is plain (see plainPath), the method and the path without the
// query; otherwise method and path are "". Lines may end in CRLF or LF, as
// net/http accepts.
func parseHead(b []byte) (state headState, n int, method, path string) {
	start := 0
	for {
		i := bytes.IndexByte(b[start:], '\n')
		if i < 0 {
			return headIncomplete, 0, "", ""
		}
		end := start + i
		line := b[start:end]
		if len(line) > 0 && line[len(line)-1] == '\r' {
			line = line[:len(line)-1]
		}
		if start == 0 {
			method, path = parseRequestLine(line)
		} else if len(line) == 0 {
			return headComplete, end + 1, method, path
		}
		start = end + 1
	}
}

// parseRequestLine returns the method and the path (without the query) of
// "METHOD /path?query HTTP/1.1", or "" and "" for any other line.
func parseRequestLine(line []byte) (method, path string) {
	sp := bytes.IndexByte(line, ' ')
	if sp <= 0 {
		return "", ""
	}
	m, rest := line[:sp], line[sp+1:]
	sp = bytes.IndexByte(rest, ' ')
	if sp <= 0 {
		return "", ""
	}
	target, proto := rest[:sp], rest[sp+1:]
	if string(proto) != "HTTP/1.1" {
		return "", ""
	}
	switch string(m) { // known methods without an allocation
	case "GET":
		method = "GET"
	case "HEAD":
		method = "HEAD"
	default:
		for _, c := range m {
			if c < 'A' || c > 'Z' {
				return "", ""
			}
		}
		method = string(m)
	}
	p := target
	if q := bytes.IndexByte(target, '?'); q >= 0 {
		p = target[:q]
		for _, c := range target[q+1:] {
			if c <= ' ' || c >= 0x7f {
				return "", ""
			}
		}
	}
	if !plainPath(string(p)) {
		return "", ""
	}
	return method, string(p)
}

// plainPath reports whether path is an absolute path of unreserved
// characters, sub-delimiters, ':', '@' and '/' only: no escapes, so that
// it reads the same raw and unescaped.
func plainPath(path string) bool {
	if len(path) == 0 || path[0] != '/' {
		return false
	}
	for i := 0; i < len(path); i++ {
		c := path[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.IndexByte("-._~/!$&'()*+,;=:@", c) >= 0:
		default:
			return false
		}
	}
	return true
}
