package cluster

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"roomcast/internal/hub"
	"roomcast/internal/media"
	"roomcast/internal/natstest"
)

// testTTL keeps the tests of expiry short.
const testTTL = 1500 * time.Millisecond

// testNode is a node on its own hub and NATS connection, running until the
// test ends or kill is called.
type testNode struct {
	*Node
	hub    *hub.Hub
	nc     *nats.Conn
	cancel context.CancelFunc
	done   chan struct{}
}

func startTestNode(t *testing.T, ns *natstest.Server, id string) *testNode {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	h := hub.New(hub.Config{ReconnectGrace: 10 * time.Second}, log)
	nc, err := nats.Connect(ns.URL())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	n, err := New(ctx, nc, h, Config{
		Node: id, Addr: "127.0.0.1:1", Key: "0123456789abcdef-key", App: "live",
		TTL: testTTL, RequestTimeout: 300 * time.Millisecond, DialTimeout: 300 * time.Millisecond,
	}, log.With("node", id))
	if err != nil {
		cancel()
		nc.Close()
		t.Fatal(err)
	}
	tn := &testNode{Node: n, hub: h, nc: nc, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(tn.done)
		_ = n.Run(ctx)
	}()
	t.Cleanup(tn.stop)
	return tn
}

// stop shuts the node down cleanly.
func (tn *testNode) stop() {
	tn.cancel()
	<-tn.done
	tn.nc.Close()
	tn.hub.Close()
}

// kill makes the node vanish as if its process died: no more heartbeats,
// no answers, nothing given up.
func (tn *testNode) kill() {
	tn.nc.Close()
	tn.cancel()
	<-tn.done
}

// publish claims and publishes name on tn like the RTMP path does.
func (tn *testNode) publish(t *testing.T, name string) *hub.Publisher {
	t.Helper()
	if err := tn.ClaimPublish(context.Background(), name); err != nil {
		t.Fatalf("%s: ClaimPublish(%s): %v", tn.ID(), name, err)
	}
	p, err := tn.hub.Publish(name, hub.PublisherInfo{Protocol: "rtmp"})
	if err != nil {
		t.Fatal(err)
	}
	pkt, err := media.NewPacket(media.TagAudio, 0, []byte{0xaf, 0x01, 0x00})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Write(pkt); err != nil {
		t.Fatal(err)
	}
	return p
}

// holder returns the directory's node for name ("" when none).
func holder(t *testing.T, n *Node, name string) string {
	t.Helper()
	e, err := n.dir.get(context.Background(), streamKey(name))
	if errors.Is(err, errNoEntry) {
		return ""
	}
	if err != nil {
		t.Fatal(err)
	}
	return e.Node
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not %s within %v", what, timeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestClaimRefusesStreamLiveOnAnotherNode(t *testing.T) {
	ns := natstest.Start(t)
	a, b := startTestNode(t, ns, "a"), startTestNode(t, ns, "b")
	a.publish(t, "s")
	err := b.ClaimPublish(context.Background(), "s")
	if !errors.Is(err, ErrBusy) {
		t.Fatalf("second publisher on node b: %v, want ErrBusy", err)
	}
	if got := holder(t, b.Node, "s"); got != "a" {
		t.Errorf("directory holder %q, want a", got)
	}
	// The holder itself may publish again (a reconnect on the same node).
	if err := a.ClaimPublish(context.Background(), "s"); err != nil {
		t.Errorf("node a re-claiming its stream: %v", err)
	}
}

func TestClaimTakesOverFromDeadNode(t *testing.T) {
	ns := natstest.Start(t)
	a, b := startTestNode(t, ns, "a"), startTestNode(t, ns, "b")
	a.publish(t, "s")
	a.kill()
	if got := holder(t, b.Node, "s"); got != "a" {
		t.Fatalf("directory holder right after the kill %q, want a (until its TTL)", got)
	}
	b.publish(t, "s")
	if got := holder(t, b.Node, "s"); got != "b" {
		t.Errorf("directory holder after the move %q, want b", got)
	}
}

func TestClaimTakesOverFromIdleNode(t *testing.T) {
	ns := natstest.Start(t)
	a, b := startTestNode(t, ns, "a"), startTestNode(t, ns, "b")
	p := a.publish(t, "s")
	p.Close(nil) // the host's connection dropped: a waits in its grace
	b.publish(t, "s")
	if got := holder(t, b.Node, "s"); got != "b" {
		t.Fatalf("directory holder %q, want b", got)
	}
	// a learns at its next heartbeat that it no longer holds the stream,
	// and relays it for its waiting viewers.
	waitFor(t, "node a relaying", 3*testTTL, func() bool { return a.Relayed("s") })
	a.mu.Lock()
	_, own := a.owned["s"]
	a.mu.Unlock()
	if own {
		t.Error("node a still claims the stream")
	}
	// b's heartbeats keep its claim.
	time.Sleep(testTTL * 3 / 2)
	if got := holder(t, b.Node, "s"); got != "b" {
		t.Errorf("directory holder after a TTL %q, want b", got)
	}
}

func TestDeadNodeEntriesExpire(t *testing.T) {
	ns := natstest.Start(t)
	a, b := startTestNode(t, ns, "a"), startTestNode(t, ns, "b")
	a.publish(t, "s")
	killed := time.Now()
	a.kill()
	waitFor(t, "gone from the directory", 5*testTTL, func() bool { return holder(t, b.Node, "s") == "" })
	if d := time.Since(killed); d < testTTL/2 {
		t.Errorf("entry gone %v after the kill, before its TTL %v", d, testTTL)
	}
	nodes, err := b.dir.list(context.Background(), "n.")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := nodes["a"]; ok {
		t.Errorf("dead node a still listed: %v", nodes)
	}
}

func TestShutdownLeavesClaimsToExpire(t *testing.T) {
	ns := natstest.Start(t)
	a, b := startTestNode(t, ns, "a"), startTestNode(t, ns, "b")
	a.hub.OnEvent(a.Events(func(hub.Event) {}))
	a.publish(t, "s")
	a.stop() // ends a's streams after the node stopped
	if got := holder(t, b.Node, "s"); got != "a" {
		t.Errorf("holder after node a shut down: %q, want a until the entry expires", got)
	}
	// The host reconnects to b, which takes the stream at once.
	b.publish(t, "s")
	if got := holder(t, b.Node, "s"); got != "b" {
		t.Errorf("holder after the move: %q, want b", got)
	}
}

func TestEndedStreamReleased(t *testing.T) {
	ns := natstest.Start(t)
	a, b := startTestNode(t, ns, "a"), startTestNode(t, ns, "b")
	var ended []string
	var mu sync.Mutex
	a.hub.OnEvent(a.Events(func(e hub.Event) {
		mu.Lock()
		defer mu.Unlock()
		if e.Type == hub.EventEnded {
			ended = append(ended, e.Stream)
		}
	}))
	a.publish(t, "s")
	if err := a.hub.End("s"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "released", 2*time.Second, func() bool {
		_, err := b.dir.get(context.Background(), streamKey("s"))
		return errors.Is(err, errReleased)
	})
	mu.Lock()
	if len(ended) != 1 || ended[0] != "s" {
		t.Errorf("ended events passed on: %v, want [s]", ended)
	}
	mu.Unlock()
	// The name is free for a new live on any node.
	b.publish(t, "s")
	if got := holder(t, b.Node, "s"); got != "b" {
		t.Errorf("holder of the new live: %q, want b", got)
	}
}

func TestMovedStreamPublishIsResumed(t *testing.T) {
	ns := natstest.Start(t)
	a, b := startTestNode(t, ns, "a"), startTestNode(t, ns, "b")
	var published []hub.Event
	var mu sync.Mutex
	b.hub.OnEvent(b.Events(func(e hub.Event) {
		mu.Lock()
		defer mu.Unlock()
		if e.Type == hub.EventPublished {
			published = append(published, e)
		}
	}))
	a.publish(t, "s")
	a.kill()
	b.publish(t, "s")
	mu.Lock()
	defer mu.Unlock()
	if len(published) != 1 || !published[0].Resumed {
		t.Errorf("published events on b: %+v, want one, resumed", published)
	}
}

func TestEventsFilter(t *testing.T) {
	ns := natstest.Start(t)
	a := startTestNode(t, ns, "a")
	a.publish(t, "mine")
	var got []string
	f := a.Events(func(e hub.Event) { got = append(got, e.Type.String()+" "+e.Stream) })
	relay := hub.PublisherInfo{Protocol: RelayProtocol}
	local := hub.PublisherInfo{Protocol: "rtmp"}
	for _, e := range []hub.Event{
		{Type: hub.EventPublished, Stream: "relayed", Publisher: relay},
		{Type: hub.EventUnpublished, Stream: "relayed", Publisher: relay},
		{Type: hub.EventEnded, Stream: "relayed"},
		{Type: hub.EventPublished, Stream: "mine", Publisher: local},
		{Type: hub.EventUnpublished, Stream: "mine", Publisher: local},
		{Type: hub.EventEnded, Stream: "mine"},
	} {
		f(e)
	}
	want := []string{"published mine", "unpublished mine", "ended mine"}
	if len(got) != len(want) {
		t.Fatalf("passed %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("passed %v, want %v", got, want)
		}
	}
}

func TestStreamsAndKickAcrossNodes(t *testing.T) {
	ns := natstest.Start(t)
	a, b := startTestNode(t, ns, "a"), startTestNode(t, ns, "b")
	a.publish(t, "s")
	sub, err := b.hub.Publish("s", hub.PublisherInfo{Protocol: RelayProtocol})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close(nil)
	v, err := b.hub.Subscribe("s", "flv")
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	all, err := b.Streams(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 1 || all[0].Name != "s" || all[0].Node != "a" || all[0].Viewers != 1 ||
		all[0].Publisher == nil || all[0].Publisher.Protocol != "rtmp" {
		t.Fatalf("Streams on b = %+v, want s on a with 1 viewer and a's rtmp publisher", all)
	}
	if _, err := b.Stream(context.Background(), "nope"); !errors.Is(err, hub.ErrNotFound) {
		t.Errorf("Stream(nope) = %v, want hub.ErrNotFound", err)
	}
	if err := b.Kick(context.Background(), "s"); err != nil {
		t.Fatalf("kick from b: %v", err)
	}
	if a.localPublisher("s") {
		t.Error("a's publisher still live after a kick from b")
	}
	if err := b.Kick(context.Background(), "s"); !errors.Is(err, hub.ErrNotFound) {
		t.Errorf("second kick: %v, want hub.ErrNotFound", err)
	}
}

func TestNATSRestartKeepsClaims(t *testing.T) {
	ns := natstest.Start(t)
	a, b := startTestNode(t, ns, "a"), startTestNode(t, ns, "b")
	a.publish(t, "s")
	ns.Restart()
	// The clients reconnect; a's heartbeats keep (or rewrite) its claim.
	waitFor(t, "NATS reconnected", 10*time.Second, func() bool { return a.nc.IsConnected() && b.nc.IsConnected() })
	time.Sleep(testTTL) // a few heartbeats, and longer than an unrenewed entry lives
	waitFor(t, "claim held by a", 5*testTTL, func() bool {
		e, err := b.dir.get(context.Background(), streamKey("s"))
		return err == nil && e.Node == "a"
	})
	if err := b.ClaimPublish(context.Background(), "s"); !errors.Is(err, ErrBusy) {
		t.Fatalf("second publisher after the NATS restart: %v, want ErrBusy", err)
	}
}

func TestViewersOverNodes(t *testing.T) {
	ns := natstest.Start(t)
	a, b := startTestNode(t, ns, "a"), startTestNode(t, ns, "b")
	a.publish(t, "s")
	relay, err := b.hub.Publish("s", hub.PublisherInfo{Protocol: RelayProtocol})
	if err != nil {
		t.Fatal(err)
	}
	defer relay.Close(nil)
	for _, h := range []*hub.Hub{a.hub, b.hub, b.hub} {
		v, err := h.Subscribe("s", "flv")
		if err != nil {
			t.Fatal(err)
		}
		defer v.Close()
	}
	// The first ask gives the local count and starts the gathering.
	if got := a.Viewers("s"); got != 1 {
		t.Errorf("first Viewers on a = %d, want its own 1", got)
	}
	waitFor(t, "viewers of both nodes counted", 5*viewersEvery, func() bool { return a.Viewers("s") == 3 && b.Viewers("s") == 3 })
	if got := a.Viewers("nothing"); got != 0 {
		t.Errorf("Viewers of an unknown stream = %d", got)
	}
}

func TestDuplicateNodeIDRefused(t *testing.T) {
	ns := natstest.Start(t)
	startTestNode(t, ns, "a")
	nc, err := nats.Connect(ns.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	log := slog.New(slog.DiscardHandler)
	_, err = New(context.Background(), nc, hub.New(hub.Config{}, log), Config{Node: "a", Addr: "127.0.0.1:2", App: "live"}, log)
	if !errors.Is(err, ErrNodeID) {
		t.Fatalf("second node a: %v, want ErrNodeID", err)
	}
}
