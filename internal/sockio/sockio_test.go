package sockio

import (
	"bytes"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"os"
	"strings"
	"testing"
	"time"
)

func TestRest(t *testing.T) {
	bufs := [][]byte{[]byte("abc"), []byte("de"), []byte("fghi")}
	tests := []struct {
		n    int
		want string
	}{
		{0, "abc|de|fghi"},
		{1, "bc|de|fghi"},
		{3, "de|fghi"},
		{4, "e|fghi"},
		{5, "fghi"},
		{8, "i"},
		{9, ""},
	}
	for _, tt := range tests {
		var parts []string
		for _, b := range Rest(nil, nil, bufs, tt.n) {
			parts = append(parts, string(b))
		}
		if got := strings.Join(parts, "|"); got != tt.want {
			t.Errorf("Rest(%d) = %q, want %q", tt.n, got, tt.want)
		}
	}
	if Len(bufs) != 9 {
		t.Errorf("Len = %d", Len(bufs))
	}
	withHead := []struct {
		n    int
		want string
	}{
		{0, "HD|abc|de|fghi"},
		{1, "D|abc|de|fghi"},
		{2, "abc|de|fghi"},
		{6, "e|fghi"},
	}
	for _, tt := range withHead {
		var parts []string
		for _, b := range Rest(nil, []byte("HD"), bufs, tt.n) {
			parts = append(parts, string(b))
		}
		if got := strings.Join(parts, "|"); got != tt.want {
			t.Errorf("Rest(head, %d) = %q, want %q", tt.n, got, tt.want)
		}
	}
}

// Write waits for a slow reader and delivers everything in order, the head
// first; a write deadline bounds the wait.
func TestWrite(t *testing.T) {
	client, server := tcpPair(t)
	c := New(server)
	var bufs [][]byte
	want := []byte("HEAD")
	for i := range 100 {
		b := bytes.Repeat([]byte{byte('a' + i%26)}, 64<<10)
		bufs = append(bufs, b)
		want = append(want, b...)
	}
	got := make(chan []byte, 1)
	go func() {
		var out []byte
		buf := make([]byte, 4096)
		_ = client.SetReadDeadline(time.Now().Add(20 * time.Second))
		for len(out) < len(want) {
			n, err := client.Read(buf)
			out = append(out, buf[:n]...)
			if err != nil {
				break
			}
			if len(out)%(256<<10) < 4096 {
				time.Sleep(time.Millisecond) // a slow reader
			}
		}
		got <- out
	}()
	n, err := c.Write([]byte("HEAD"), bufs)
	if err != nil || n != len(want) {
		t.Fatalf("Write = %d, %v; want %d", n, err, len(want))
	}
	if out := <-got; !bytes.Equal(out, want) {
		t.Fatalf("the reader got %d bytes, not the %d written in order", len(out), len(want))
	}

	// Nobody reads: the deadline ends the wait.
	_ = server.SetWriteDeadline(time.Now().Add(200 * time.Millisecond))
	if _, err := c.Write(nil, bufs); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("Write to a reader that stopped: %v, want the deadline exceeded", err)
	}
}

// tcpPair returns both ends of a loopback TCP connection.
func tcpPair(t *testing.T) (client, server net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		accepted <- c
	}()
	client, err = net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	server = <-accepted
	if server == nil {
		t.Fatal("accept failed")
	}
	t.Cleanup(func() { client.Close(); server.Close() })
	return client, server
}

func TestTryWrite(t *testing.T) {
	client, server := tcpPair(t)
	c := New(server)
	if c == nil {
		t.Fatal("New(TCP conn) = nil")
	}
	// Many small buffers (more than one writev's worth), all taken.
	var bufs [][]byte
	var want []byte
	for i := range 40 {
		b := bytes.Repeat([]byte{byte('a' + i%26)}, i+1)
		bufs = append(bufs, b, nil)
		want = append(want, b...)
	}
	n, err := c.TryWrite(nil, bufs)
	if err != nil || n != len(want) {
		t.Fatalf("TryWrite = %d, %v; want %d", n, err, len(want))
	}
	got := make([]byte, len(want))
	_ = client.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.ReadFull(client, got); err != nil || !bytes.Equal(got, want) {
		t.Fatalf("read %q, %v", got, err)
	}

	// A peer that reads nothing: the socket fills, TryWrite returns a
	// short count and no error, and never waits.
	big := make([]byte, 1<<20)
	start := time.Now()
	total, short := 0, false
	for range 200 {
		n, err := c.TryWrite(nil, [][]byte{big})
		if err != nil {
			t.Fatalf("TryWrite on a full socket: %v", err)
		}
		total += n
		if n < len(big) {
			short = true
			break
		}
	}
	if !short {
		t.Fatalf("the socket took %d bytes and never filled", total)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("TryWrite waited %v", d)
	}
	if n, err := c.TryWrite(nil, [][]byte{big}); err != nil || n != 0 {
		t.Fatalf("TryWrite on a full socket = %d, %v; want 0, nil", n, err)
	}

	// A past write deadline fails it, as it fails a Write.
	_ = server.SetWriteDeadline(time.Now().Add(-time.Second))
	if _, err := c.TryWrite(nil, [][]byte{[]byte("x")}); err == nil {
		t.Fatal("TryWrite past the write deadline succeeded")
	}
}

func TestTryWriteClosedPeer(t *testing.T) {
	client, server := tcpPair(t)
	c := New(server)
	client.Close()
	var err error
	deadline := time.Now().Add(5 * time.Second)
	for err == nil && time.Now().Before(deadline) {
		_, err = c.TryWrite(nil, [][]byte{[]byte("hello")})
		time.Sleep(time.Millisecond)
	}
	if err == nil {
		t.Fatal("writing to a closed peer never failed")
	}
	server.Close()
	if _, err := c.TryWrite(nil, [][]byte{[]byte("x")}); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("TryWrite after Close: %v, want net.ErrClosed", err)
	}
}

func TestNotASocket(t *testing.T) {
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	if New(a) != nil || Supported(a) {
		t.Fatal("a pipe takes non-blocking writes")
	}
	_, server := tcpPair(t)
	if tc := tls.Server(server, &tls.Config{}); New(tc) != nil {
		t.Fatal("a TLS connection takes non-blocking writes")
	}
}
