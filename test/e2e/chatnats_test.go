package e2e

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"roomcast/internal/config"
	"roomcast/internal/natstest"
	"roomcast/internal/pgtest"
)

// chatnatsNodes starts n roomcast processes on one NATS server and one
// Postgres database, as the nodes of a cluster. They share one data
// directory too (generated secrets, recordings), as a cluster's nodes share
// a mount.
func chatnatsNodes(t *testing.T, nats *natstest.Server, n int) []*childServer {
	t.Helper()
	dbURL := pgtest.Start(t).NewDatabase(t)
	dataDir := t.TempDir()
	nodes := make([]*childServer, n)
	for i := range nodes {
		// One after the other: the first applies the migrations and
		// generates the secrets the others read.
		nodes[i] = startChild(t, testConfig(t, roomRules, func(c *config.Config) {
			c.DataDir = dataDir
			c.DatabaseURL = dbURL
			c.NATSURL = nats.URL()
			c.Cluster.Key = clusterTestKey
			c.Cluster.NodeID = fmt.Sprintf("node%d", i+1)
		}))
		// The logs come through a pipe of their own: wait for them.
		deadline := time.Now().Add(chatWait)
		for got := ""; !strings.Contains(got, "bus: NATS") || !strings.Contains(got, "store=postgres"); got = nodes[i].logs.String() {
			if time.Now().After(deadline) {
				t.Fatalf("node %d does not say it uses NATS and Postgres:\n%s", i+1, got)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	return nodes
}

// chatnatsOnline waits for a presence frame with the given online count.
func chatnatsOnline(ctx context.Context, t *testing.T, cc *chatClient, want int) {
	t.Helper()
	cc.expectWhere(ctx, t, "presence", func(m map[string]any) bool { return m["online"] == float64(want) })
}

// TestChatNATSCluster: three roomcast processes share one NATS server and
// one Postgres database. A message sent on node 1 reaches clients on nodes 2 and 3;
// online counts every node's clients; a ban decided on node 2 disconnects
// the user from node 1 and keeps them out; after a restart of the NATS
// server the clients are still connected and chat goes on.
func TestChatNATSCluster(t *testing.T) {
	nats := natstest.Start(t)
	nodes := chatnatsNodes(t, nats, 3)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	host := nodes[0].register(ctx, t, "natshost")
	fan := nodes[1].register(ctx, t, "natsfan")
	troll := nodes[2].register(ctx, t, "natstroll")
	room := nodes[0].createRoom(ctx, t, host, "Cluster chat", false)

	hostC := dialChat(ctx, t, nodes[0].testServer, room.ID, host.Token)
	hostC.expect(ctx, t, "welcome")
	fanC := dialChat(ctx, t, nodes[1].testServer, room.ID, fan.Token)
	fanC.expect(ctx, t, "welcome")
	trollC := dialChat(ctx, t, nodes[0].testServer, room.ID, troll.Token)
	trollC.expect(ctx, t, "welcome")
	guestC := dialChat(ctx, t, nodes[2].testServer, room.ID, "")
	guestC.expect(ctx, t, "welcome")

	// online: 2 on node 1, 1 on node 2, 1 on node 3.
	for _, cc := range []*chatClient{hostC, fanC, guestC} {
		chatnatsOnline(ctx, t, cc, 4)
	}

	hostC.send(ctx, t, map[string]any{"type": "chat", "text": "hello from node 1"})
	var seq float64
	for _, cc := range []*chatClient{fanC, guestC, hostC} {
		m := cc.expectWhere(ctx, t, "chat", func(m map[string]any) bool { return m["text"] == "hello from node 1" })
		if seq != 0 && m["seq"] != seq {
			t.Errorf("seq %v on one node, %v on another", m["seq"], seq)
		}
		seq = m["seq"].(float64)
	}
	fanC.send(ctx, t, map[string]any{"type": "chat", "text": "hello from node 2"})
	hostC.expectWhere(ctx, t, "chat", func(m map[string]any) bool { return m["text"] == "hello from node 2" })
	// History is shared: node 3 serves both messages.
	if msgs := nodes[2].chatMessages(ctx, t, "", room.ID); len(msgs) != 2 {
		t.Errorf("node 3's history: %v", msgs)
	}

	// The host bans the troll through node 2; the troll is on node 1.
	nodes[1].moderate(ctx, t, host.Token, room.ID, "ban", map[string]any{"user_id": troll.ID}, http.StatusNoContent, "")
	trollC.expect(ctx, t, "banned")
	if status, reason, _ := trollC.expectClose(ctx, t); status != websocket.StatusPolicyViolation || reason != "banned" {
		t.Errorf("troll closed with %d %q, want 1008 banned", status, reason)
	}
	expectChatRefused(ctx, t, nodes[0].testServer, room.ID, troll.Token, "banned")
	for _, cc := range []*chatClient{hostC, fanC, guestC} {
		chatnatsOnline(ctx, t, cc, 3)
	}

	// NATS restarts: nobody is disconnected, and chat resumes.
	nats.Restart()
	// Sent at once: a node still reconnecting buffers the publish.
	fanC.send(ctx, t, map[string]any{"type": "chat", "text": "after the restart"})
	guestC.expectWhere(ctx, t, "chat", func(m map[string]any) bool { return m["text"] == "after the restart" })
	hostC.expectWhere(ctx, t, "chat", func(m map[string]any) bool { return m["text"] == "after the restart" })
	hostC.send(ctx, t, map[string]any{"type": "chat", "text": "and back"})
	for _, cc := range []*chatClient{fanC, guestC} {
		cc.expectWhere(ctx, t, "chat", func(m map[string]any) bool { return m["text"] == "and back" })
	}
	for i, n := range nodes {
		deadline := time.Now().Add(chatWait)
		for !strings.Contains(n.logs.String(), "nats connection restored") {
			if time.Now().After(deadline) {
				t.Fatalf("node %d did not log the reconnection", i+1)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
}

// TestChatNATSUnreachableAtStart: a node whose NATS server does not answer
// exits non-zero at start, naming the server; it does not run as a
// single node by mistake.
func TestChatNATSUnreachableAtStart(t *testing.T) {
	nats := natstest.Start(t)
	url := nats.URL()
	nats.Shutdown()
	code, stderr := pgRunChildToExit(t, testConfig(t, func(c *config.Config) { c.NATSURL, c.Cluster.Key = url, clusterTestKey }))
	if code == 0 || !strings.Contains(stderr, "bus: nats: connect to "+url) {
		t.Errorf("exit %d, stderr:\n%s", code, stderr)
	}
}
