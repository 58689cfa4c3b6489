package keepalive

import (
	"bufio"
	"bytes"
	"net/http"
	"testing"
)

// FuzzParseHead checks parseHead against net/http's own parser: a header
// it finds whole is the one http.ReadRequest reads (same length, method
// and path), and it never waits for more of a request net/http already
// reads whole.
func FuzzParseHead(f *testing.F) {
	for _, s := range []string{
		"GET /live/s.m3u8 HTTP/1.1\r\nHost: x\r\n\r\n",
		"HEAD /live/s/a-1.ts?txSecret=1&txTime=2 HTTP/1.1\r\nHost: x\r\nUser-Agent: a\r\n\r\nGET / HTTP/1.1\r\n",
		"GET /live/s.m3u8 HTTP/1.1\nHost: x\n\n",
		"GET /a%20b HTTP/1.1\r\nHost: x\r\n\r\n",
		"GET http://x/a HTTP/1.1\r\nHost: x\r\n\r\n",
		"GET /a HTTP/1.0\r\n\r\n",
		"GET /a HTTP/1.1\r\nX: y\r\n z\r\n\r\n",
		"\r\n\r\n",
		"GET /a HTTP/1.1\r\nHost: x\r\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) > 4000 {
			return // the loop judges only what fits its buffer
		}
		state, n, method, path := parseHead(b)
		br := bufio.NewReaderSize(bytes.NewReader(b), 8192)
		req, err := http.ReadRequest(br)
		consumed := len(b) - br.Buffered()
		if err == nil && state != headComplete {
			t.Fatalf("net/http read a request (%s %s, %d bytes) that parseHead finds incomplete", req.Method, req.URL, consumed)
		}
		if state != headComplete {
			return
		}
		if n <= 0 || n > len(b) {
			t.Fatalf("header length %d of %d bytes", n, len(b))
		}
		if method == "" {
			if path != "" {
				t.Fatalf("a path %q without a method", path)
			}
			return
		}
		if !plainPath(path) {
			t.Fatalf("path %q is not plain", path)
		}
		if err != nil {
			return // net/http answers it with an error: the loop hands it back
		}
		if req.Method != method || req.URL.Path != path || req.ProtoMinor != 1 || req.ProtoMajor != 1 {
			t.Fatalf("parseHead: %s %s; net/http: %s %s %s", method, path, req.Method, req.URL.Path, req.Proto)
		}
		if consumed != n {
			t.Fatalf("parseHead's header is %d bytes, net/http read %d", n, consumed)
		}
	})
}
