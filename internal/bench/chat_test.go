package bench

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// chatStub is a chat server stub: welcome, an old history, then every
// chat message echoed to all clients, in batches of two when it can.
type chatStub struct {
	mu    sync.Mutex
	conns map[*websocket.Conn]chan []byte
}

func (s *chatStub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/api/v1/rooms/r1/chat" {
		http.Error(w, `{"error":{"code":"not_found","message":"no room"}}`, http.StatusNotFound)
		return
	}
	tok := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	c, err := websocket.Accept(w, r, nil)
	if err != nil {
		return
	}
	ctx := r.Context()
	q := make(chan []byte, 256)
	s.mu.Lock()
	s.conns[c] = q
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.conns, c)
		s.mu.Unlock()
	}()
	welcome := `{"type":"welcome","room":"r1","user":null,"can_send":false}`
	if tok != "" {
		welcome = `{"type":"welcome","room":"r1","user":{"id":"usr_` + tok + `","name":"x"},"can_send":true}`
	}
	_ = c.Write(ctx, websocket.MessageText, []byte(welcome))
	_ = c.Write(ctx, websocket.MessageText, []byte(`{"type":"history","messages":[{"type":"chat","seq":1,"text":"bench:1"}]}`))
	go func() {
		for {
			_, m, err := c.Read(ctx)
			if err != nil {
				c.CloseNow()
				return
			}
			text := strings.TrimSuffix(strings.TrimPrefix(string(m), `{"type":"chat","text":"`), `"}`)
			out := []byte(`{"type":"chat","id":"msg_1","seq":2,"user":{"id":"u","name":"n"},"text":"` + text + `","ts":1}`)
			s.mu.Lock()
			for _, q := range s.conns {
				select {
				case q <- out:
				default:
				}
			}
			s.mu.Unlock()
		}
	}()
	for {
		select {
		case <-ctx.Done():
			return
		case m := <-q:
			select {
			case m2 := <-q: // batch as a JSON array
				m = []byte("[" + string(m) + "," + string(m2) + `,{"type":"likes","total":3}]`)
			default:
			}
			if c.Write(ctx, websocket.MessageText, m) != nil {
				return
			}
		}
	}
}

func TestRunChat(t *testing.T) {
	srv := httptest.NewServer(&chatStub{conns: make(map[*websocket.Conn]chan []byte)})
	defer srv.Close()
	for _, arrival := range []string{ArrivalKernel, ArrivalUser} {
		t.Run(arrival, func(t *testing.T) {
			rep, err := RunChat(context.Background(), ChatConfig{
				URL: srv.URL, Room: "r1", Clients: 30, Rate: 20, Duration: time.Second,
				Drain: 500 * time.Millisecond, Tokens: []string{"a", "b", "c", "d"},
				Arrival: arrival, RateMessages: 5, RateWindow: time.Second,
			})
			if err != nil {
				t.Fatal(err)
			}
			if rep.Connected != 30 || rep.Failed != 0 || rep.Senders != 4 {
				t.Errorf("connected %d failed %d senders %d, want 30 0 4", rep.Connected, rep.Failed, rep.Senders)
			}
			if rep.Sent != 20 || rep.SendErrors != 0 {
				t.Errorf("sent %d (%d errors), want 20", rep.Sent, rep.SendErrors)
			}
			if rep.Deliveries != 20*30 || rep.Expected != 20*30 || rep.Incomplete != 0 {
				t.Errorf("deliveries %d expected %d incomplete %d, want 600 600 0", rep.Deliveries, rep.Expected, rep.Incomplete)
			}
			if rep.Latency.Count != 600 || rep.Latency.Max <= 0 || rep.Latency.Max > 1000 || rep.Latency.P50 > rep.Latency.P99 {
				t.Errorf("latency %+v", rep.Latency)
			}
			if rep.Skips != 0 || rep.Skipped != 0 || rep.Silent != 0 {
				t.Errorf("skips %d (%d messages), silent %d, want none", rep.Skips, rep.Skipped, rep.Silent)
			}
			if rep.Guests != 10 {
				t.Errorf("guests %d, want 10 (4 tokens × 5)", rep.Guests)
			}
		})
	}
}

func TestRunChatRefuses(t *testing.T) {
	tests := []struct {
		name string
		cfg  ChatConfig
		want error
	}{
		{"too few tokens", ChatConfig{URL: "http://127.0.0.1:1", Room: "r", Clients: 10, Rate: 1, Duration: time.Second, Tokens: []string{"a"}}, ErrConfig},
		{"remote", ChatConfig{URL: "http://192.0.2.1", Room: "r", Clients: 1, Duration: time.Second}, ErrRemoteHost},
		{"guests over cap remote", ChatConfig{URL: "http://[::1]:1", Room: "r", Clients: 21, Duration: time.Second}, ErrConfig},
		{"no room", ChatConfig{URL: "http://127.0.0.1:1", Clients: 1, Duration: time.Second}, ErrConfig},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := RunChat(context.Background(), tt.cfg); !errors.Is(err, tt.want) {
				t.Errorf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestSendersNeeded(t *testing.T) {
	for _, tt := range []struct {
		rate float64
		want int
	}{{0, 0}, {0.5, 1}, {1, 2}, {100, 200}, {0.7, 2}} {
		if got := SendersNeeded(tt.rate, 5, 10*time.Second); got != tt.want {
			t.Errorf("SendersNeeded(%v) = %d, want %d", tt.rate, got, tt.want)
		}
	}
}

func TestLatHist(t *testing.T) {
	var h latHist
	for us := int64(1); us <= 1000_000; us *= 10 {
		h.add(us)
		if u := latUpper(latBucket(us)); u < us || float64(u) > float64(us)*1.04+1 {
			t.Errorf("bucket of %d has upper bound %d", us, u)
		}
	}
	if d := h.dist(); d.Count != 7 || d.Max != 1000 {
		t.Errorf("dist %+v", d)
	}
}

// TestChatSkippedCounted: skipped notices are counted, with the messages
// they name, for the client and the run.
func TestChatSkippedCounted(t *testing.T) {
	r := &chatRun{serverErrors: make(map[string]int)}
	c := &chatClient{r: r}
	c.message([]byte(`[{"type":"notice","kind":"skipped","count":12,"last_seq":40},{"type":"likes","total":1}]`))
	c.message([]byte(`{"type":"notice","kind":"skipped","count":3,"last_seq":50}`))
	c.message([]byte(`{"type":"notice","kind":"pinned","text":"count"}`))
	if c.skipped != 15 || r.skips.Load() != 2 || r.skippedMsgs.Load() != 15 {
		t.Errorf("client skipped %d; run: %d notices, %d messages; want 15, 2, 15", c.skipped, r.skips.Load(), r.skippedMsgs.Load())
	}
}

// TestRunChatSendURL: with SendURL the senders connect there (another
// node) and everyone else to URL; here both are one stub behind two
// listeners, as two nodes share a bus.
func TestRunChatSendURL(t *testing.T) {
	stub := &chatStub{conns: make(map[*websocket.Conn]chan []byte)}
	srv := httptest.NewServer(stub)
	defer srv.Close()
	var onSend atomic.Int32
	send := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		onSend.Add(1)
		stub.ServeHTTP(w, r)
	}))
	defer send.Close()
	rep, err := RunChat(context.Background(), ChatConfig{
		URL: srv.URL, SendURL: send.URL, Room: "r1", Clients: 12, Rate: 20, Duration: time.Second,
		Drain: 500 * time.Millisecond, Tokens: []string{"a", "b", "c", "d"}, RateMessages: 5, RateWindow: time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	if n := onSend.Load(); n != 4 || rep.Senders != 4 {
		t.Errorf("%d connections on the send URL, %d senders; want 4, 4", n, rep.Senders)
	}
	if rep.Deliveries != 20*12 || rep.SendURL == "" {
		t.Errorf("deliveries %d (want 240), send url %q", rep.Deliveries, rep.SendURL)
	}
	if _, err := RunChat(context.Background(), ChatConfig{URL: srv.URL, SendURL: "https://x", Room: "r1", Clients: 1, Duration: time.Second}); !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), "send-url") {
		t.Errorf("a TLS send URL: %v", err)
	}
}
