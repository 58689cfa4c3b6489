package hls

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestMemBody(t *testing.T) {
	b, err := newMemBody("test")
	if err != nil {
		t.Fatal(err)
	}
	data := bytes.Repeat([]byte("0123456789"), 1000)
	if err := b.write(data[:4000]); err != nil {
		t.Fatal(err)
	}
	if err := b.write(data[4000:]); err != nil {
		t.Fatal(err)
	}
	read := func(off, n int64) []byte {
		t.Helper()
		f, err := b.open(off)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		got, err := io.ReadAll(io.LimitReader(f, n))
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	// Readers have their own offsets.
	f1, err := b.open(100)
	if err != nil {
		t.Fatal(err)
	}
	if got := read(4000, 6000); !bytes.Equal(got, data[4000:]) {
		t.Fatalf("read at 4000: %d bytes", len(got))
	}
	// Released: no new reader, but an open one reads on.
	b.release()
	if _, err := b.open(0); !errors.Is(err, errBodyGone) {
		t.Fatalf("open after release: %v", err)
	}
	got, err := io.ReadAll(io.LimitReader(f1, 50))
	f1.Close()
	if err != nil || !bytes.Equal(got, data[100:150]) {
		t.Fatalf("reader opened before release: %q, %v", got, err)
	}
	b.release() // twice is fine
}

// TestSendBody serves a body with sendfile over a real connection and
// falls back when it was released.
func TestSendBody(t *testing.T) {
	b, err := newMemBody("test")
	if err != nil {
		t.Fatal(err)
	}
	data := bytes.Repeat([]byte("abcdefgh"), 40000)
	if err := b.write(data); err != nil {
		t.Fatal(err)
	}
	var sent []bool
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, ok := sendBody(w, b, 8, 1000)
		sent = append(sent, ok)
		if !ok {
			_, _ = w.Write(data[8:1008])
		}
	}))
	defer ts.Close()
	for i := range 2 {
		resp, err := http.Get(ts.URL)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !bytes.Equal(got, data[8:1008]) {
			t.Fatalf("request %d: %d bytes", i, len(got))
		}
		b.release()
	}
	if len(sent) != 2 || !sent[0] || sent[1] {
		t.Fatalf("sendfile used: %v, want [true false]", sent)
	}
}
