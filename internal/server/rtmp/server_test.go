package rtmp

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"testing"
	"time"

	"roomcast/internal/hub"
	"roomcast/internal/protocol/rtmp"
)

var (
	avcSeq = []byte{0x17, 0, 0, 0, 0, 1, 0x64, 0, 0x1f, 0xff, 0xe1, 0, 4, 0x67, 0x64, 0, 0x1f, 1, 0, 2, 0x68, 0xee}
	aacSeq = []byte{0xaf, 0, 0x12, 0x10}
	key    = []byte{0x17, 1, 0, 0, 0, 0, 0, 0, 1, 0x65}
	inter  = []byte{0x27, 1, 0, 0, 0, 0, 0, 0, 1, 0x41}
)

type denyAll struct{}

func (denyAll) AuthorizePublish(context.Context, Request) error {
	return errors.New("signature expired")
}
func (denyAll) AuthorizePlay(context.Context, Request) error { return errors.New("no") }

func startServer(t *testing.T, mod func(*Config)) (string, *hub.Hub) {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	h := hub.New(hub.Config{ReconnectGrace: -1, FlushInterval: -1}, log)
	cfg := Config{App: "live", ChunkSize: 4096, MaxConnections: 100, MaxMessageSize: 1 << 20,
		HandshakeTimeout: 2 * time.Second, ReadTimeout: 5 * time.Second, WriteTimeout: 5 * time.Second}
	if mod != nil {
		mod(&cfg)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := New(cfg, h, log)
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
		h.Close()
	})
	return "rtmp://" + ln.Addr().String(), h
}

func dial(t *testing.T, url string) *rtmp.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := rtmp.Dial(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func ctx5(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestPublishAndPlay(t *testing.T) {
	base, h := startServer(t, nil)
	pub := dial(t, base+"/live/s1?txSecret=abc")
	if err := pub.Publish(ctx5(t)); err != nil {
		t.Fatal(err)
	}
	if err := pub.WriteMetadata(map[string]any{"width": 640.0}); err != nil {
		t.Fatal(err)
	}
	for i, b := range [][]byte{avcSeq, aacSeq, key, inter} {
		typ := uint8(rtmp.TypeVideo)
		if i == 1 {
			typ = rtmp.TypeAudio
		}
		if err := pub.WriteMedia(typ, uint32(i*40), b); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, func() bool {
		s := h.Stream("s1")
		return s != nil && s.Stats().BytesIn >= uint64(len(avcSeq)+len(aacSeq)+len(key)+len(inter))
	})
	if q := h.Stream("s1"); q == nil {
		t.Fatal("no stream")
	}
	play := dial(t, base+"/live/s1")
	if err := play.Play(ctx5(t)); err != nil {
		t.Fatal(err)
	}
	_ = play.SetDeadline(time.Now().Add(5 * time.Second))
	var got []uint8
	for len(got) < 6 {
		m, err := play.ReadMessage()
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, m.Type)
	}
	// |RtmpSampleAccess, onMetaData, AVC and AAC headers, keyframe, frame.
	want := []uint8{rtmp.TypeDataAMF0, rtmp.TypeDataAMF0, rtmp.TypeVideo, rtmp.TypeAudio, rtmp.TypeVideo, rtmp.TypeVideo}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("message types %v, want %v", got, want)
		}
	}
	if st := h.Stream("s1").Stats(); st.ViewersByProtocol["rtmp"] != 1 || st.Publisher == nil {
		t.Fatalf("stats %+v", st)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestRefusals(t *testing.T) {
	base, _ := startServer(t, nil)
	first := dial(t, base+"/live/busy")
	if err := first.Publish(ctx5(t)); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, url string
		publish   bool
		code      string
	}{
		{"second publisher", "/live/busy", true, "NetStream.Publish.BadName"},
		{"bad stream name", "/live/bad.name", true, "NetStream.Publish.BadName"},
		{"play unknown stream", "/live/nobody", false, "NetStream.Play.StreamNotFound"},
		{"unknown app", "/other/x", true, "NetConnection.Connect.Rejected"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := ctx5(t)
			c, err := rtmp.Dial(ctx, base+tt.url)
			if err == nil {
				defer c.Close()
				if tt.publish {
					err = c.Publish(ctx)
				} else {
					err = c.Play(ctx)
				}
			}
			var se *rtmp.StatusError
			if !errors.As(err, &se) || se.Code != tt.code {
				t.Fatalf("err = %v, want status %s", err, tt.code)
			}
		})
	}
}

func TestAuthorizerRefusal(t *testing.T) {
	base, _ := startServer(t, func(c *Config) { c.Authorizer = denyAll{} })
	c := dial(t, base+"/live/x")
	err := c.Publish(ctx5(t))
	var se *rtmp.StatusError
	if !errors.As(err, &se) || se.Code != "NetStream.Publish.BadName" || se.Description != "signature expired" {
		t.Fatalf("err = %v", err)
	}
}

// Garbage after the handshake closes only that connection.
func TestMalformedClosesOnlyThatConnection(t *testing.T) {
	base, h := startServer(t, nil)
	pub := dial(t, base+"/live/m")
	if err := pub.Publish(ctx5(t)); err != nil {
		t.Fatal(err)
	}
	nc, err := net.Dial("tcp", base[len("rtmp://"):])
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	if err := rtmp.ClientHandshake(nc); err != nil {
		t.Fatal(err)
	}
	// Chunk stream 3, fmt 0, a message of 16 MiB: over the limit.
	nc.Write([]byte{0x03, 0, 0, 0, 0xff, 0xff, 0xff, 20, 0, 0, 0, 0})
	_ = nc.SetReadDeadline(time.Now().Add(3 * time.Second))
	if _, err := io.Copy(io.Discard, nc); err != nil {
		t.Fatalf("garbage connection not closed: %v", err)
	}
	if err := pub.WriteMedia(rtmp.TypeVideo, 0, key); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return h.Stream("m") != nil && h.Stream("m").Stats().BytesIn > 0 })
}

func TestMaxConnections(t *testing.T) {
	base, _ := startServer(t, func(c *Config) { c.MaxConnections = 1 })
	dial(t, base+"/live/a")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if c, err := rtmp.Dial(ctx, base+"/live/b"); err == nil {
		c.Close()
		t.Fatal("second connection accepted")
	}
}
