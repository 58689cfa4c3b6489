package chat

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	ws "roomcast/internal/protocol/websocket"
	"roomcast/internal/store"
)

// queueClient is a client on one end of a pipe whose other end the test
// reads when it chooses: until then the writer blocks on its first write.
func queueClient(t *testing.T, cfg Config) (*client, *rawClient, *counters) {
	t.Helper()
	cfg.setDefaults()
	conn, peer := net.Pipe()
	t.Cleanup(func() { conn.Close(); peer.Close() })
	var st counters
	return newClient(conn, nil, false, &cfg, &st), &rawClient{t: t, conn: peer, br: bufio.NewReader(peer)}, &st
}

func chatOut(seq int64) outFrame {
	return outFrame{b: fmt.Appendf(nil, `{"type":"chat","seq":%d}`, seq), seq: seq, class: classChat}
}

// TestSkipWhenBehind: broadcasts waiting longer than MaxLag behind a newer
// one are dropped for a counted skipped notice; deletions and the newest
// likes and presence frames are sent on; the frame being written is not
// cut.
func TestSkipWhenBehind(t *testing.T) {
	c, peer, st := queueClient(t, Config{MaxLag: 100 * time.Millisecond})
	t0 := time.Now()
	c.deliver(newBatch([]outFrame{chatOut(1)}, t0)) // taken by the writer, which blocks
	waitFor(t, "the writer to take the first frame", func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		return c.writing && len(c.pending) == 0
	})
	c.deliver(newBatch([]outFrame{chatOut(2), {b: []byte(`{"type":"deleted","seq":1}`), class: classKeep}, {b: []byte(`{"type":"likes","total":1}`), class: classLikes}}, t0.Add(10*time.Millisecond)))
	c.deliver(newBatch([]outFrame{chatOut(3), chatOut(4), {b: []byte(`{"type":"likes","total":2}`), class: classLikes}, {b: []byte(`{"type":"presence","online":3}`), class: classPresence}}, t0.Add(50*time.Millisecond)))
	// 150 ms after the oldest waiting one: 2, 3 and 4 are skipped.
	c.deliver(newBatch([]outFrame{chatOut(5)}, t0.Add(160*time.Millisecond)))

	var got []string
	for len(got) < 6 {
		f, err := peer.next()
		if err != nil {
			t.Fatalf("after %q: %v", got, err)
		}
		got = append(got, string(f.payload))
	}
	want := []string{
		`{"type":"chat","seq":1}`,
		`{"type":"deleted","seq":1}`,
		`{"type":"likes","total":2}`,
		`{"type":"presence","online":3}`,
		`{"type":"notice","kind":"skipped","count":3,"last_seq":4}`,
		`{"type":"chat","seq":5}`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("client got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if st.skips.Load() != 1 || st.skippedMessages.Load() != 3 || st.slowClosed.Load() != 0 {
		t.Errorf("counters: skips %d, skipped messages %d, slow %d", st.skips.Load(), st.skippedMessages.Load(), st.slowClosed.Load())
	}
}

// TestSkipNotWithinLag: broadcasts that wait less than MaxLag are all
// delivered, in order.
func TestSkipNotWithinLag(t *testing.T) {
	c, peer, st := queueClient(t, Config{MaxLag: time.Second})
	t0 := time.Now()
	for i := range 20 {
		c.deliver(newBatch([]outFrame{chatOut(int64(i + 1))}, t0.Add(time.Duration(i)*10*time.Millisecond)))
	}
	for i := range 20 {
		f, err := peer.next()
		if err != nil {
			t.Fatal(err)
		}
		if want := fmt.Sprintf(`{"type":"chat","seq":%d}`, i+1); string(f.payload) != want {
			t.Fatalf("frame %d: %s, want %s", i, f.payload, want)
		}
	}
	if st.skips.Load() != 0 {
		t.Errorf("%d skips", st.skips.Load())
	}
}

// TestSkippedTooOften: a client skipped more than MaxSkips times per
// SkipWindow is disconnected as too slow, and counted.
func TestSkippedTooOften(t *testing.T) {
	c, peer, st := queueClient(t, Config{MaxLag: 10 * time.Millisecond, MaxSkips: 2, SkipWindow: time.Hour})
	t0 := time.Now()
	for i := range 8 {
		c.deliver(newBatch([]outFrame{chatOut(int64(i + 1))}, t0.Add(time.Duration(i)*20*time.Millisecond)))
	}
	if !c.isClosing() {
		t.Fatal("not closed after too many skips")
	}
	f := peer.until("the close frame", isClose)
	if code, reason := closeOf(t, f); code != ws.ClosePolicyViolation || reason != "too slow: skipped 2 times in 1h0m0s" {
		t.Errorf("close %d %q", code, reason)
	}
	if st.skips.Load() != 2 || st.slowClosed.Load() != 1 {
		t.Errorf("counters: skips %d, slow %d", st.skips.Load(), st.slowClosed.Load())
	}
}

// TestSlowClientSkipsOverTCP: through the server, a client that stops
// reading while the room is busy gets, once it reads again, a contiguous
// run of messages, a skipped notice that accounts for exactly the ones it
// missed, and then fresh messages; a client that keeps reading meanwhile
// misses nothing.
func TestSlowClientSkipsOverTCP(t *testing.T) {
	// Long enough that the fast client, reading all the time, never lags
	// that much even on a busy machine.
	const lag = time.Second
	e := newEnv(t, Config{MaxLag: lag, MaxSkips: 100, SendQueue: 1 << 16, WriteTimeout: time.Minute})
	slow := e.rawDial("r1", "t-bob", nil)
	slow.until("history", textHas(`"type":"history"`))

	// The fast client reads all the time, in its own goroutine.
	fast := e.dial("r1", "t-alice", "")
	fast.conn.SetReadLimit(64 << 20)
	type fastResult struct {
		seqs    []int64
		skipped bool
		err     error
	}
	fastDone := make(chan fastResult, 1)
	go func() {
		var r fastResult
		defer func() { fastDone <- r }()
		for {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			_, b, err := fast.conn.Read(ctx)
			cancel()
			if err != nil {
				r.err = err
				return
			}
			var fs []frame
			if b[0] == '[' {
				_ = json.Unmarshal(b, &fs)
			} else {
				var f frame
				_ = json.Unmarshal(b, &f)
				fs = []frame{f}
			}
			for _, f := range fs {
				switch {
				case f.Type == "chat":
					r.seqs = append(r.seqs, f.Seq)
					if f.Text == "fresh" {
						return
					}
				case f.Type == "notice" && f.Kind == NoticeSkipped:
					r.skipped = true
				}
			}
		}
	}()

	var slowClient *client
	waitFor(t, "both clients in the room", func() bool {
		ch := e.srv.channels.get("r1")
		if ch == nil {
			return false
		}
		ch.mu.Lock()
		defer ch.mu.Unlock()
		for c := range ch.clients {
			if c.userID() == "u-bob" {
				slowClient = c
			}
		}
		return len(ch.clients) == 2
	})
	// A small socket buffer: the slow client's fills up soon.
	if tc, ok := slowClient.nc.(*net.TCPConn); ok {
		_ = tc.SetWriteBuffer(16 << 10)
	}
	seq := int64(0)
	publish := func(text string) {
		seq++
		m := &store.ChatMessage{RoomID: "r1", ID: fmt.Sprintf("m%d", seq), Seq: seq, UserID: "u-alice", UserName: "alice", Text: text, CreatedAt: time.Now()}
		if err := e.srv.publish(t.Context(), "r1", event{Kind: evChat, Seq: seq, ID: m.ID, Frame: encodeChat(m)}); err != nil {
			t.Fatal(err)
		}
	}
	big := strings.Repeat("x", 16000)
	// Fill the slow client's socket until broadcasts wait for it, let them
	// wait longer than the lag; the next one skips them. Until a skip
	// happened (the socket may have taken them meanwhile).
	for e.srv.Stats().Skips == 0 {
		waitFor(t, "broadcasts waiting for the slow client", func() bool {
			for range 5 {
				publish(big)
			}
			slowClient.mu.Lock()
			defer slowClient.mu.Unlock()
			return slowClient.writing && len(slowClient.pending) > 0
		})
		time.Sleep(2 * lag)
		publish(big)
	}
	publish("fresh")

	r := <-fastDone
	if r.err != nil || r.skipped || len(r.seqs) != int(seq) {
		t.Errorf("fast client: %d of %d messages, skipped %v, err %v", len(r.seqs), seq, r.skipped, r.err)
	}
	for i, s := range r.seqs {
		if s != int64(i+1) {
			t.Fatalf("fast client: message %d has seq %d", i, s)
		}
	}

	// The slow client gets every message or a notice for it, in order.
	_ = slow.conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	next := int64(1)
	var notices, skipped uint64
	for next <= seq {
		f, err := slow.next()
		if err != nil {
			t.Fatalf("slow client, waiting for seq %d of %d: %v", next, seq, err)
		}
		for _, fr := range parseFrames(t, f.payload) {
			switch {
			case fr.Type == "chat":
				if fr.Seq != next {
					t.Fatalf("slow client: seq %d, want %d", fr.Seq, next)
				}
				next++
			case fr.Type == "notice" && fr.Kind == NoticeSkipped:
				var n struct {
					Count   int64 `json:"count"`
					LastSeq int64 `json:"last_seq"`
				}
				_ = json.Unmarshal(fr.Raw, &n)
				if n.Count < 1 || n.LastSeq != next-1+n.Count {
					t.Fatalf("skipped notice %s, the next message being %d", fr.Raw, next)
				}
				next = n.LastSeq + 1
				notices++
				skipped += uint64(n.Count)
			}
		}
	}
	st := e.srv.Stats()
	if notices == 0 || st.Skips != notices || st.SkippedMessages != skipped || st.SlowDisconnects != 0 {
		t.Errorf("%d notices for %d messages; stats %+v", notices, skipped, st)
	}
}

// parseFrames decodes a text message: one frame or a batch.
func parseFrames(t *testing.T, b []byte) []frame {
	t.Helper()
	var raws []json.RawMessage
	if len(b) > 0 && b[0] == '[' {
		if err := json.Unmarshal(b, &raws); err != nil {
			t.Fatalf("bad batch %.200s: %v", b, err)
		}
	} else {
		raws = []json.RawMessage{b}
	}
	out := make([]frame, 0, len(raws))
	for _, r := range raws {
		var f frame
		if err := json.Unmarshal(r, &f); err != nil {
			t.Fatalf("bad frame %.200s: %v", r, err)
		}
		f.Raw = r
		out = append(out, f)
	}
	return out
}
