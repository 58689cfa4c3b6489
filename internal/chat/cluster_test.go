package chat

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/nats-io/nats.go"

	natsbus "roomcast/internal/bus/nats"
	"roomcast/internal/natstest"
	"roomcast/internal/pgtest"
	"roomcast/internal/store"
	"roomcast/internal/store/postgres"
)

// node is one chat server of a test cluster and its NATS connection.
type node struct {
	*env
	nc *nats.Conn
}

// newCluster starts n chat servers on one store (as nodes share one
// Postgres), each with a NATS connection of its own to srv. The store is
// SQLite, or a real Postgres database when pg is set.
func newCluster(t *testing.T, srv *natstest.Server, n int, cfg Config, pg bool) []node {
	t.Helper()
	db, users := newTestStore(t)
	if pg {
		pdb, err := postgres.Open(t.Context(), pgtest.Start(t).NewDatabase(t), nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = pdb.Close() })
		db, users = pdb, seedTestStore(t, pdb)
	}
	if cfg.RateMessages == 0 {
		cfg.RateMessages = 1000
	}
	nodes := make([]node, n)
	for i := range nodes {
		nc, err := natsbus.Connect(context.Background(), srv.URL(), "chat test", nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(nc.Close) // after the server's Close (cleanups run last first)
		nodes[i] = node{env: newEnvOn(t, cfg, db, users, Deps{Bus: natsbus.New(nc), Cluster: true}), nc: nc}
	}
	return nodes
}

// backends runs fn on SQLite and on Postgres.
func backends(t *testing.T, fn func(t *testing.T, pg bool)) {
	for _, pg := range []bool{false, true} {
		name := "sqlite"
		if pg {
			name = "postgres"
		}
		t.Run(name, func(t *testing.T) { fn(t, pg) })
	}
}

// TestClusterChat: messages and likes sent on one node reach the clients
// of the others, with one seq order; history is shared.
func TestClusterChat(t *testing.T) { backends(t, testClusterChat) }

func testClusterChat(t *testing.T, pg bool) {
	nodes := newCluster(t, natstest.Start(t), 3, Config{}, pg)
	alice, _ := nodes[0].join("r1", "t-alice")
	bob, _ := nodes[1].join("r1", "t-bob")
	guest, _ := nodes[2].join("r1", "")

	alice.send(map[string]any{"type": "chat", "text": "hello from node 0"})
	bob.send(map[string]any{"type": "chat", "text": "hello from node 1"})
	for name, c := range map[string]*wsClient{"alice": alice, "bob": bob, "guest": guest} {
		seen := map[string]int64{}
		for len(seen) < 2 {
			f := c.expect("chat")
			if _, dup := seen[f.Text]; dup {
				t.Fatalf("%s got %q twice", name, f.Text)
			}
			seen[f.Text] = f.Seq
		}
		if seen["hello from node 0"] == seen["hello from node 1"] {
			t.Errorf("%s: two messages with seq %d", name, seen["hello from node 0"])
		}
	}

	bob.send(map[string]any{"type": "like", "count": 5})
	alice.expectWhere("likes", func(f frame) bool { return f.Total == 5 })
	guest.expectWhere("likes", func(f frame) bool { return f.Total == 5 })

	// A client joining on another node gets the same history.
	_, h := nodes[2].join("r1", "t-owner")
	if len(h.Messages) != 2 {
		t.Fatalf("history on node 2: %s", h.Raw)
	}
}

// TestClusterPresence: online is the room's count over all nodes; a
// node's clients leaving, and a node that dies, are subtracted.
func TestClusterPresence(t *testing.T) {
	nodes := newCluster(t, natstest.Start(t), 3, Config{PresenceTTL: 3 * time.Second}, false)
	alice, _ := nodes[0].join("r1", "t-alice")
	nodes[1].join("r1", "t-bob")
	owner, _ := nodes[1].join("r1", "t-owner")
	guest, _ := nodes[2].join("r1", "")
	for _, c := range []*wsClient{alice, owner, guest} {
		c.expectWhere("presence", func(f frame) bool { return f.Online == 4 })
	}
	// A client that joins now learns the total in its welcome.
	late := nodes[0].dial("r1", "", "")
	if w := late.expect("welcome"); w.Online != 5 {
		// The other nodes' counts may not have arrived yet when the
		// room was open already; they have here.
		t.Errorf("welcome online %d, want 5", w.Online)
	}
	late.conn.CloseNow()
	guest.conn.CloseNow() // node 2 has no client left: it says so
	alice.expectWhere("presence", func(f frame) bool { return f.Online == 3 })

	// Node 1 dies without a word: its count expires after PresenceTTL.
	nodes[1].nc.Close()
	alice.expectWhere("presence", func(f frame) bool { return f.Online == 1 })
}

// TestClusterModeration: sanctions, pins, deletions and a deleted room
// decided on one node apply to the clients of the others.
func TestClusterModeration(t *testing.T) {
	nodes := newCluster(t, natstest.Start(t), 2, Config{}, false)
	owner, _ := nodes[1].join("r1", "t-owner")
	bob, _ := nodes[0].join("r1", "t-bob")
	alice, _ := nodes[0].join("r1", "t-alice")

	owner.send(map[string]any{"type": "mute", "user_id": "u-bob", "seconds": 60})
	bob.expect("muted")
	bob.send(map[string]any{"type": "chat", "text": "let me talk"})
	if f := bob.expect("error"); f.Code != codeMuted {
		t.Errorf("muted bob's message: %s", f.Raw)
	}
	if resp := nodes[1].post("/api/v1/rooms/r1/moderation/unmute", "t-owner", `{"user_id":"u-bob"}`); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("unmute: %d", resp.StatusCode)
	}
	bob.expect("unmuted")

	alice.send(map[string]any{"type": "chat", "text": "rude"})
	m := owner.expectWhere("chat", func(f frame) bool { return f.Text == "rude" })
	owner.send(map[string]any{"type": "delete", "message_id": m.ID})
	if f := alice.expect("deleted"); f.ID != m.ID {
		t.Errorf("deleted = %s", f.Raw)
	}

	owner.send(map[string]any{"type": "pin", "text": "on every node"})
	if f := alice.expect("notice"); f.Kind != NoticePinned || f.Text != "on every node" {
		t.Errorf("notice = %s", f.Raw)
	}

	if resp := nodes[1].post("/api/v1/rooms/r1/moderation/ban", "t-owner", `{"user_id":"u-bob"}`); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("ban: %d", resp.StatusCode)
	}
	bob.expect("banned")
	if ce := bob.expectClose(); ce.Code != websocket.StatusPolicyViolation || ce.Reason != "banned" {
		t.Errorf("bob closed with %v", ce)
	}
	again := nodes[0].dial("r1", "t-bob", "")
	if f := again.expect("error"); f.Code != "banned" {
		t.Errorf("banned bob rejoining node 0: %s", f.Raw)
	}

	if err := nodes[1].srv.RoomDeleted(t.Context(), "r1"); err != nil {
		t.Fatal(err)
	}
	alice.expectWhere("notice", func(f frame) bool { return f.Kind == NoticeRoomDeleted })
	if ce := alice.expectClose(); ce.Code != websocket.StatusNormalClosure || ce.Reason != "room deleted" {
		t.Errorf("alice closed with %v", ce)
	}
}

// TestClusterNATSRestart: clients stay connected through a restart of
// the NATS server and chat resumes; what was sent meanwhile arrives once.
func TestClusterNATSRestart(t *testing.T) {
	srv := natstest.Start(t)
	nodes := newCluster(t, srv, 2, Config{}, false)
	alice, _ := nodes[0].join("r1", "t-alice")
	bob, _ := nodes[1].join("r1", "t-bob")
	alice.send(map[string]any{"type": "chat", "text": "before"})
	bob.expectWhere("chat", func(f frame) bool { return f.Text == "before" })

	srv.Shutdown()
	// Sent while the bus is down: stored, its publish buffered (bob
	// too sees it once the bus is back).
	bob.send(map[string]any{"type": "chat", "text": "during"})
	waitFor(t, "the message sent during the outage to be stored", func() bool {
		ms, err := nodes[1].db.ChatMessagesBefore(t.Context(), "r1", 0, 10)
		return err == nil && len(ms) == 2 && ms[1].Text == "during"
	})
	srv.Restart()
	// alice gets it, either from the buffered publish or from the
	// catch-up after the reconnect, and then what follows.
	alice.expectWhere("chat", func(f frame) bool { return f.Text == "during" })

	bob.expectWhere("chat", func(f frame) bool { return f.Text == "during" })
	waitFor(t, "the nodes to reconnect to NATS", func() bool { return nodes[0].nc.IsConnected() && nodes[1].nc.IsConnected() })
	alice.send(map[string]any{"type": "chat", "text": "after"})
	for _, c := range []*wsClient{alice, bob} {
		for {
			f := c.expect("chat")
			if f.Text == "during" {
				t.Fatal("a message delivered twice")
			}
			if f.Text == "after" {
				break
			}
		}
	}
}

// TestClusterCatchUp: what the other nodes decided while a node's bus
// connection was down (here: written to the shared store without reaching
// node 0) reaches node 0's clients once it reconnects: messages, a
// deletion, the announcement and a ban.
func TestClusterCatchUp(t *testing.T) { backends(t, testClusterCatchUp) }

func testClusterCatchUp(t *testing.T, pg bool) {
	nodes := newCluster(t, natstest.Start(t), 2, Config{}, pg)
	alice, _ := nodes[0].join("r1", "t-alice")
	bob, _ := nodes[0].join("r1", "t-bob")
	alice.send(map[string]any{"type": "chat", "text": "to be deleted"})
	gone := bob.expectWhere("chat", func(f frame) bool { return f.Text == "to be deleted" })
	alice.expect("chat")

	ctx := t.Context()
	db := nodes[1].db
	for _, text := range []string{"missed 1", "missed 2"} {
		if err := db.AppendChatMessage(ctx, &store.ChatMessage{RoomID: "r1", ID: "id-" + text, UserID: "u-owner", UserName: "owner", Text: text, CreatedAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.DeleteChatMessage(ctx, "r1", gone.ID); err != nil {
		t.Fatal(err)
	}
	if err := db.SetChatPin(ctx, "r1", "pinned meanwhile"); err != nil {
		t.Fatal(err)
	}
	if err := db.PutChatSanction(ctx, &store.ChatSanction{RoomID: "r1", UserID: "u-bob", Kind: store.SanctionBan, CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if err := nodes[0].nc.ForceReconnect(); err != nil {
		t.Fatal(err)
	}

	got := map[string]bool{}
	for !got["missed 2"] || !got["deleted"] || !got["notice"] {
		f, err := alice.read()
		if err != nil {
			t.Fatalf("alice, after %v: %v", got, err)
		}
		switch {
		case f.Type == "chat":
			if got[f.Text] {
				t.Fatalf("%q delivered twice", f.Text)
			}
			got[f.Text] = true
		case f.Type == "deleted" && f.ID == gone.ID:
			got["deleted"] = true
		case f.Type == "notice" && f.Kind == NoticePinned && f.Text == "pinned meanwhile":
			got["notice"] = true
		}
	}
	if !got["missed 1"] {
		t.Error("missed 1 not delivered")
	}
	bob.expect("banned")
	if ce := bob.expectClose(); ce.Reason != "banned" {
		t.Errorf("bob closed with %v", ce)
	}
}

// FuzzBusEvent: whatever arrives on a room's bus subject (from another
// node, or anything else that can publish to the NATS server) is applied
// without a panic, and the room's ring stays in seq order without
// duplicates.
func FuzzBusEvent(f *testing.F) {
	for _, s := range []string{
		`{"k":"chat","seq":3,"id":"m3","f":{"type":"chat","seq":3}}`,
		`{"k":"chat","seq":-1,"id":"","f":null}`,
		`{"k":"presence","n":"node_x","on":4,"ask":true}`,
		`{"k":"presence","n":"node_x","on":-7}`,
		`{"k":"likes","total":99,"f":{"type":"likes","total":99}}`,
		`{"k":"deleted","id":"m1","f":{"type":"deleted","id":"m1","seq":1}}`,
		`{"k":"pin","text":"hi","f":{"type":"notice","kind":"pinned","text":"hi"}}`,
		`{"k":"mute","u":"u-0","until":99999999999999,"f":{"type":"muted"}}`,
		`{"k":"kick","u":"u-0","text":"kicked","f":{"type":"kicked"}}`,
		`{"k":"closed","f":{"type":"notice","kind":"room_deleted"}}`,
		`{"k":"frame","f":"not an object"}`,
		`not json`,
	} {
		f.Add([]byte(s))
	}
	cfg := Config{HistorySize: 4}
	cfg.setDefaults()
	f.Fuzz(func(t *testing.T, b []byte) {
		s := &Server{cfg: cfg, node: "node_self", log: slog.New(slog.DiscardHandler), ctx: context.Background(), viewers: func(string) int { return 0 }}
		ch := &roomChannel{s: s, id: "r", clients: make(map[*client]struct{}), limits: make(map[string]*userLimits)}
		for i := range 2 {
			c := newClient(discardConn{}, &store.User{ID: fmt.Sprintf("u-%d", i)}, false, &s.cfg, &s.counters)
			ch.clients[c] = struct{}{}
		}
		for _, seq := range []int64{1, 2, 5} {
			ch.apply(event{Kind: evChat, Seq: seq, ID: fmt.Sprint("m", seq), Frame: []byte(`{}`)})
		}
		ch.onEvent(b)
		ch.onEvent(b) // twice: a duplicate is dropped
		ch.mu.Lock()
		defer ch.mu.Unlock()
		if ch.timer != nil {
			ch.timer.Stop()
		}
		if len(ch.history) > cfg.HistorySize {
			t.Fatalf("ring of %d entries, size %d", len(ch.history), cfg.HistorySize)
		}
		for i := 1; i < len(ch.history); i++ {
			if ch.history[i-1].seq >= ch.history[i].seq {
				t.Fatalf("ring out of order or duplicated: %v", ch.history)
			}
		}
		if _, self := ch.peers["node_self"]; self {
			t.Fatal("this node counted among its peers")
		}
		for node, p := range ch.peers {
			if p.online <= 0 {
				t.Fatalf("peer %q with %d clients kept", node, p.online)
			}
		}
	})
}

// TestClusterCatchUpGap: when a node missed more messages during a bus
// outage than a resume returns, its clients get a skipped notice for the
// older ones, then the newest.
func TestClusterCatchUpGap(t *testing.T) {
	nodes := newCluster(t, natstest.Start(t), 2, Config{MaxResume: 3}, false)
	alice, _ := nodes[0].join("r1", "t-alice")
	alice.send(map[string]any{"type": "chat", "text": "seen"})
	seen := alice.expect("chat")
	for i := range 5 {
		if err := nodes[1].db.AppendChatMessage(t.Context(), &store.ChatMessage{RoomID: "r1", ID: fmt.Sprint("gap-", i), UserID: "u-owner", UserName: "owner", Text: fmt.Sprint("missed ", i), CreatedAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	if err := nodes[0].nc.ForceReconnect(); err != nil {
		t.Fatal(err)
	}
	n := alice.expectWhere("notice", func(f frame) bool { return f.Kind == NoticeSkipped })
	var sk struct {
		Count   int   `json:"count"`
		LastSeq int64 `json:"last_seq"`
	}
	_ = json.Unmarshal(n.Raw, &sk)
	if sk.Count != 2 || sk.LastSeq != seen.Seq+2 {
		t.Errorf("notice %s after seq %d, want 2 skipped up to %d", n.Raw, seen.Seq, seen.Seq+2)
	}
	for i := 2; i < 5; i++ {
		if f := alice.expect("chat"); f.Text != fmt.Sprint("missed ", i) {
			t.Errorf("after the notice: %s, want missed %d", f.Raw, i)
		}
	}
}
