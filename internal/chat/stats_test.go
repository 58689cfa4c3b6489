package chat

import (
	"testing"
	"time"
)

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
	st := e.srv.Stats()
	if st.MessagesIn != 1 || st.MessagesDelivered != 3 {
		t.Fatalf("after one message to three clients: %+v", st)
	}
	// A refused message counts nowhere.
	a.send(map[string]any{"type": "chat", "text": "   "})
	a.expect("error")
	if st := e.srv.Stats(); st.MessagesIn != 1 {
		t.Fatalf("refused message counted: %+v", st)
	}
	b.conn.CloseNow()
	deadline := time.Now().Add(5 * time.Second)
	for e.srv.Stats().Connections != 2 {
		if time.Now().After(deadline) {
			t.Fatalf("connections after a close: %+v", e.srv.Stats())
		}
		time.Sleep(10 * time.Millisecond)
	}
}
