package chat

import "testing"

func TestStats(t *testing.T) {
	e := newEnv(t, Config{})
	if st := e.srv.Stats(); st != (Stats{}) {
		t.Fatalf("initial stats %+v", st)
	}
	a, _ := e.join("r1", "t-alice")
	b, _ := e.join("r1", "t-bob")
	e.join("r1", "")
	if st := e.srv.Stats(); st.Connections != 3 {
		t.Fatalf("connections %+v", st)
	}
	a.send(map[string]any{"type": "chat", "text": "hello"})
	a.expect("chat")
	b.expect("chat")
	// Counted before the clients get it; waited for all the same, as the
	// figures are read from another goroutine.
	waitFor(t, "one message in, three deliveries", func() bool {
		st := e.srv.Stats()
		return st.MessagesIn == 1 && st.MessagesDelivered == 3
	})
	// A refused message counts nowhere.
	a.send(map[string]any{"type": "chat", "text": "   "})
	a.expect("error")
	if st := e.srv.Stats(); st.MessagesIn != 1 {
		t.Fatalf("refused message counted: %+v", st)
	}
	b.conn.CloseNow()
	waitFor(t, "two connections after a close", func() bool { return e.srv.Stats().Connections == 2 })
}
