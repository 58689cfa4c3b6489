package natstest

import (
	"testing"
	"time"

	"github.com/nats-io/nats.go"
)

// TestRestartKeepsAddress publishes through a client that outlives a
// restart of the server.
func TestRestartKeepsAddress(t *testing.T) {
	s := Start(t)
	nc, err := nats.Connect(s.URL(), nats.MaxReconnects(-1), nats.ReconnectWait(50*time.Millisecond))
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer nc.Close()
	sub, err := nc.SubscribeSync("hello")
	if err != nil {
		t.Fatalf("subscribe: %v", err)
	}
	s.Restart()
	deadline := time.Now().Add(20 * time.Second)
	for !nc.IsConnected() {
		if time.Now().After(deadline) {
			t.Fatal("client did not reconnect after restart")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := nc.Publish("hello", []byte("again")); err != nil {
		t.Fatalf("publish: %v", err)
	}
	msg, err := sub.NextMsg(10 * time.Second)
	if err != nil {
		t.Fatalf("message after restart: %v", err)
	}
	if string(msg.Data) != "again" {
		t.Fatalf("got %q, want again", msg.Data)
	}
}
