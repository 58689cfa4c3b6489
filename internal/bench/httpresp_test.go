package bench

import (
	"bytes"
	"errors"
	"net/url"
	"testing"
)

func TestAppendGET(t *testing.T) {
	u, _ := url.Parse("http://127.0.0.1:8080/live/a%20b.flv?token=x")
	got := string(appendGET(nil, u, "X-A: 1\r\n"))
	want := "GET /live/a%20b.flv?token=x HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nUser-Agent: roomcast-bench\r\nAccept: */*\r\nX-A: 1\r\n\r\n"
	if got != want {
		t.Fatalf("got %q\nwant %q", got, want)
	}
}

func TestParseResponseHeader(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		n       int // 0: incomplete
		status  int
		chunked bool
		length  int64
		wantErr bool
	}{
		{name: "incomplete", in: "HTTP/1.1 200 OK\r\nContent-Type: video/x-flv\r\n"},
		{name: "chunked", in: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nFLV", n: 47, status: 200, chunked: true, length: -1},
		{name: "case-insensitive", in: "HTTP/1.1 200 OK\r\ntransfer-encoding:  Chunked \r\n\r\n", n: 49, status: 200, chunked: true, length: -1},
		{name: "identity", in: "HTTP/1.0 200 OK\r\nConnection: close\r\n\r\n", n: 38, status: 200, length: -1},
		{name: "content length", in: "HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n\r\nnot found", n: 45, status: 404, length: 9},
		{name: "no reason", in: "HTTP/1.1 200\r\n\r\n", n: 16, status: 200, length: -1},
		{name: "websocket", in: "HTTP/1.1 101 Switching Protocols\r\nSec-WebSocket-Accept: abc=\r\n\r\n", n: 64, status: 101, length: -1},
		{name: "not http", in: "RTMP/1.0 200 OK\r\n\r\n", wantErr: true},
		{name: "bad status", in: "HTTP/1.1 2x0 OK\r\n\r\n", wantErr: true},
		{name: "bad header line", in: "HTTP/1.1 200 OK\r\nnocolon\r\n\r\n", wantErr: true},
		{name: "bad length", in: "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", wantErr: true},
		{name: "too long", in: "HTTP/1.1 200 OK\r\nX: " + string(bytes.Repeat([]byte("a"), maxResponseHeader)), wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, h, err := parseResponseHeader([]byte(tt.in))
			if tt.wantErr {
				if !errors.Is(err, errBadResponse) {
					t.Fatalf("err %v, want errBadResponse", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if n != tt.n {
				t.Fatalf("n %d, want %d", n, tt.n)
			}
			if n == 0 {
				return
			}
			if h.status != tt.status || h.chunked != tt.chunked || h.contentLength != tt.length {
				t.Fatalf("header %+v", h)
			}
		})
	}
}

// decodeChunked runs the decoder over in, fed in pieces of size step.
func decodeChunked(in []byte, step int) (out []byte, done bool, err error) {
	var d chunkedDecoder
	emit := func(p []byte) error {
		out = append(out, p...)
		return nil
	}
	for len(in) > 0 && !done && err == nil {
		k := min(step, len(in))
		done, err = d.decode(in[:k], emit)
		in = in[k:]
	}
	return out, done, err
}

func TestChunkedDecoder(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    string
		done    bool
		wantErr bool
	}{
		{name: "simple", in: "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n", want: "hello world", done: true},
		{name: "hex and extension", in: "A;name=v\r\n0123456789\r\n0\r\n\r\n", want: "0123456789", done: true},
		{name: "upper hex, LF only", in: "b\n0123456789a\n", want: "0123456789a"},
		{name: "open stream", in: "3\r\nabc\r\n2\r\nde", want: "abcde"},
		{name: "bad size", in: "x\r\n", wantErr: true},
		{name: "empty size", in: "\r\nabc", wantErr: true},
		{name: "missing CRLF", in: "3\r\nabcX", wantErr: true},
		{name: "size too long", in: "1234567890abc\r\n", wantErr: true},
	}
	for _, tt := range tests {
		for _, step := range []int{1, 2, 3, 7, 1 << 10} {
			out, done, err := decodeChunked([]byte(tt.in), step)
			if tt.wantErr {
				if !errors.Is(err, errBadChunk) {
					t.Errorf("%s/step %d: err %v, want errBadChunk", tt.name, step, err)
				}
				continue
			}
			if err != nil || string(out) != tt.want || done != tt.done {
				t.Errorf("%s/step %d: %q, done %v, err %v", tt.name, step, out, done, err)
			}
		}
	}
}

func TestChunkedDecoderNoAlloc(t *testing.T) {
	in := []byte("400\r\n" + string(make([]byte, 1024)) + "\r\n")
	var d chunkedDecoder
	var n int
	emit := func(p []byte) error { n += len(p); return nil }
	allocs := testing.AllocsPerRun(100, func() {
		if _, err := d.decode(in, emit); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per decode", allocs)
	}
}
