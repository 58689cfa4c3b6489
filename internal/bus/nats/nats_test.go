package nats

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"roomcast/internal/bus"
	"roomcast/internal/bus/bustest"
	"roomcast/internal/natstest"
)

func connect(t *testing.T, url, name string) *nats.Conn {
	t.Helper()
	nc, err := Connect(context.Background(), url, name, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return nc
}

func TestConformance(t *testing.T) {
	srv := natstest.Start(t)
	bustest.Run(t, func(t *testing.T) (bus.Bus, bus.Bus) {
		return New(connect(t, srv.URL(), "node-a")), New(connect(t, srv.URL(), "node-b"))
	})
}

// waitStatus waits until nc has status want.
func waitStatus(t *testing.T, nc *nats.Conn, want nats.Status) {
	t.Helper()
	deadline := time.Now().Add(bustest.Wait)
	for nc.Status() != want {
		if time.Now().After(deadline) {
			t.Fatalf("connection status %v, want %v", nc.Status(), want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestRestart: a NATS server restart is survived: subscriptions are made
// again, publishes made during the outage are sent once it is back, and
// OnReconnect is called.
func TestRestart(t *testing.T) {
	srv := natstest.Start(t)
	ncA, ncB := connect(t, srv.URL(), "node-a"), connect(t, srv.URL(), "node-b")
	a, b := New(ncA), New(ncB)
	onA, onB := bustest.NewRecorder(), bustest.NewRecorder()
	for _, s := range []struct {
		b  *Bus
		fn func([]byte)
	}{{a, onA.Fn}, {b, onB.Fn}} {
		un, err := s.b.Subscribe("room.1", s.fn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(un)
	}
	reconnects := make(chan struct{}, 4)
	remove := b.OnReconnect(func() { reconnects <- struct{}{} })
	defer remove()

	ctx := context.Background()
	if err := a.Publish(ctx, "room.1", []byte("before")); err != nil {
		t.Fatal(err)
	}
	onB.WaitCount(t, 1)

	srv.Shutdown()
	waitStatus(t, ncA, nats.RECONNECTING)
	if a.Connected() {
		t.Error("Connected() during the outage")
	}
	// Buffered while the server is down, sent on reconnect, after the
	// subscriptions were made again.
	if err := a.Publish(ctx, "room.1", []byte("during")); err != nil {
		t.Fatalf("publish during the outage: %v", err)
	}
	srv.Restart()
	onA.WaitFor(t, bustest.Wait, "the buffered publish", func(g []string) bool { return slices.Contains(g, "during") })
	select {
	case <-reconnects:
	case <-time.After(bustest.Wait):
		t.Fatal("OnReconnect not called after the restart")
	}
	waitStatus(t, ncA, nats.CONNECTED)
	if err := a.Publish(ctx, "room.1", []byte("after")); err != nil {
		t.Fatal(err)
	}
	onB.WaitFor(t, bustest.Wait, "the publish after the restart", func(g []string) bool { return slices.Contains(g, "after") })
}

func TestClosed(t *testing.T) {
	srv := natstest.Start(t)
	nc := connect(t, srv.URL(), "node")
	b := New(nc)
	nc.Close()
	if err := b.Publish(context.Background(), "x", nil); !errors.Is(err, bus.ErrClosed) {
		t.Errorf("publish on a closed connection: %v", err)
	}
	if _, err := b.Subscribe("x", func([]byte) {}); !errors.Is(err, bus.ErrClosed) {
		t.Errorf("subscribe on a closed connection: %v", err)
	}
}

func TestConnectErrors(t *testing.T) {
	srv := natstest.Start(t)
	url := srv.URL()
	srv.Shutdown()
	for _, tc := range []struct{ url, want string }{
		{"", "empty URL"},
		{"http://127.0.0.1:4222", "not a nats://HOST:PORT URL"},
		{"nats://", "not a nats://HOST:PORT URL"},
		{"nats://user:secret@127.0.0.1:1,nats:///x", "not a nats://HOST:PORT URL"},
		{url, "connect to " + url},
	} {
		_, err := Connect(context.Background(), tc.url, "node", nil)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Connect(%q) = %v, want an error containing %q", tc.url, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "secret") {
			t.Errorf("Connect(%q): the password is in the error: %v", tc.url, err)
		}
	}
}
