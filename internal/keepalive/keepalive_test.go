package keepalive

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// testHandler answers /m/… (the loop's paths) and anything else; every
// response says in X-Served whether the loop or net/http wrote it.
func testHandler() http.Handler { return testHandlerLeft(nil) }

// testHandlerLeft is testHandler whose /m/wait sends its ?id= to left when
// its client leaves while it waits.
func testHandlerLeft(left chan<- string) http.Handler {
	mux := http.NewServeMux()
	body := strings.Repeat("segment ", 64<<10/8) // 64 KiB
	mux.HandleFunc("/m/seg", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "video/mp2t")
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		_, _ = io.WriteString(w, body)
	})
	mux.HandleFunc("/m/pl", func(w http.ResponseWriter, r *http.Request) {
		// No length: the loop measures what the handler writes.
		w.Header().Set("Content-Type", "application/vnd.apple.mpegurl")
		fmt.Fprintf(w, "#EXTM3U\n# query %s\n", r.URL.RawQuery)
		fmt.Fprintf(w, "# agent %s\n", r.UserAgent())
	})
	mux.HandleFunc("/m/sniff", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "<html><body>hi</body></html>")
	})
	mux.HandleFunc("/m/missing", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "no such segment", http.StatusNotFound)
	})
	mux.HandleFunc("/m/same", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNotModified)
	})
	mux.HandleFunc("/m/short", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "100")
		_, _ = io.WriteString(w, "only part")
	})
	mux.HandleFunc("/m/long", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "3")
		if _, err := io.WriteString(w, "four"); err == nil {
			panic("a write past Content-Length succeeded")
		}
		_, _ = io.WriteString(w, "abc")
	})
	mux.HandleFunc("/m/bye", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Connection", "close")
		_, _ = io.WriteString(w, "bye")
	})
	mux.HandleFunc("/m/wait", func(w http.ResponseWriter, r *http.Request) {
		// Waits for the client to leave, or for ?for= to pass.
		d, _ := time.ParseDuration(r.URL.Query().Get("for"))
		select {
		case <-r.Context().Done():
			if left != nil {
				left <- r.URL.Query().Get("id")
			}
		case <-time.After(d):
			_, _ = io.WriteString(w, "waited")
		}
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "page "+r.URL.Path)
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, ok := w.(*response); ok {
			w.Header().Set("X-Served", "loop")
		} else {
			w.Header().Set("X-Served", "net/http")
		}
		mux.ServeHTTP(w, r)
	})
}

// start serves testHandler behind a Server on a loopback port; it stops
// with the test.
func start(t *testing.T, cfg Config) (addr string, cancel context.CancelFunc) {
	t.Helper()
	return startWith(t, cfg, testHandler())
}

func startWith(t *testing.T, cfg Config, h http.Handler) (addr string, cancel context.CancelFunc) {
	t.Helper()
	_, addr, cancel = startServer(t, cfg, h)
	return addr, cancel
}

func startServer(t *testing.T, cfg Config, h http.Handler) (s *Server, addr string, cancel context.CancelFunc) {
	t.Helper()
	if cfg.Match == nil {
		cfg.Match = func(method, path string) bool {
			return (method == http.MethodGet || method == http.MethodHead) && strings.HasPrefix(path, "/m/")
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	s = New(ctx, cfg)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: s.Wrap(h), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	go func() { _ = srv.Serve(s.Listener()) }()
	t.Cleanup(func() {
		cancel()
		_ = srv.Close()
	})
	return s, ln.Addr().String(), cancel
}

// client is a raw keep-alive connection.
type client struct {
	t  *testing.T
	nc net.Conn
	br *bufio.Reader
}

func dial(t *testing.T, addr string) *client {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = nc.Close() })
	_ = nc.SetDeadline(time.Now().Add(20 * time.Second))
	return &client{t: t, nc: nc, br: bufio.NewReader(nc)}
}

func (c *client) send(raw string) {
	c.t.Helper()
	if _, err := io.WriteString(c.nc, raw); err != nil {
		c.t.Fatal(err)
	}
}

// get sends a GET for target (with extra header lines) and reads the
// response.
func (c *client) get(method, target, extra string) (*http.Response, string) {
	c.t.Helper()
	c.send(method + " " + target + " HTTP/1.1\r\nHost: x\r\nUser-Agent: ua/1\r\n" + extra + "\r\n")
	return c.read(method)
}

func (c *client) read(method string) (*http.Response, string) {
	c.t.Helper()
	res, err := http.ReadResponse(c.br, &http.Request{Method: method})
	if err != nil {
		c.t.Fatalf("reading the response: %v", err)
	}
	b, err := io.ReadAll(res.Body)
	if err != nil {
		c.t.Fatalf("reading the body: %v", err)
	}
	return res, string(b)
}

// closed reports whether the server closed the connection (after any
// bytes still to read).
func (c *client) closed() bool {
	_, err := c.br.ReadByte()
	return errors.Is(err, io.EOF)
}

func TestLoopServesKeepAliveRequests(t *testing.T) {
	addr, _ := start(t, Config{})
	c := dial(t, addr)
	tests := []struct {
		method, target, extra string
		status                int
		served                string
		body                  string // "" : not checked
		header                map[string]string
	}{
		{"GET", "/m/pl?txSecret=ab&txTime=cd", "", 200, "loop", "#EXTM3U\n# query txSecret=ab&txTime=cd\n# agent ua/1\n",
			map[string]string{"Content-Type": "application/vnd.apple.mpegurl", "Content-Length": "51"}},
		{"GET", "/m/seg", "", 200, "loop", "", map[string]string{"Content-Length": strconv.Itoa(64 << 10), "Content-Type": "video/mp2t"}},
		{"HEAD", "/m/seg", "", 200, "loop", "", map[string]string{"Content-Length": strconv.Itoa(64 << 10)}},
		{"GET", "/m/sniff", "", 200, "loop", "<html><body>hi</body></html>", map[string]string{"Content-Type": "text/html; charset=utf-8"}},
		{"GET", "/m/missing", "", 404, "loop", "no such segment\n", map[string]string{"Content-Type": "text/plain; charset=utf-8", "X-Content-Type-Options": "nosniff"}},
		{"GET", "/m/same", "If-None-Match: \"x\"\r\n", 304, "loop", "", nil},
		{"GET", "/m/long", "", 200, "loop", "abc", map[string]string{"Content-Length": "3"}},
		// A request the loop does not take goes back to net/http, on the
		// same connection; the next one the loop takes is the loop's again.
		{"GET", "/page", "", 200, "net/http", "page /page", nil},
		{"GET", "/m/pl", "", 200, "loop", "", nil},
		{"POST", "/m/pl", "Content-Length: 0\r\n", 200, "net/http", "", nil},
		{"GET", "/m/seg", "", 200, "loop", "", nil},
	}
	for i, tt := range tests {
		res, body := c.get(tt.method, tt.target, tt.extra)
		if res.StatusCode != tt.status || res.Header.Get("X-Served") != tt.served {
			t.Fatalf("%d %s %s: status %d served by %q, want %d by %q", i, tt.method, tt.target, res.StatusCode, res.Header.Get("X-Served"), tt.status, tt.served)
		}
		if tt.body != "" && body != tt.body {
			t.Errorf("%d %s %s: body %q, want %q", i, tt.method, tt.target, body, tt.body)
		}
		if tt.method == "HEAD" && body != "" {
			t.Errorf("%d HEAD has a body of %d bytes", i, len(body))
		}
		if res.Header.Get("Date") == "" {
			t.Errorf("%d %s: no Date header", i, tt.target)
		}
		for k, v := range tt.header {
			if got := res.Header.Get(k); got != v {
				t.Errorf("%d %s %s: %s = %q, want %q", i, tt.method, tt.target, k, got, v)
			}
		}
		if res.Close {
			t.Fatalf("%d %s: the server closes the connection", i, tt.target)
		}
	}
}

func TestLoopPipelinedAndHandedBack(t *testing.T) {
	addr, _ := start(t, Config{})
	c := dial(t, addr)
	// Three requests in one write: two for the loop, then one for net/http
	// with a body, whose bytes the loop had already read.
	c.send("GET /m/pl?a=1 HTTP/1.1\r\nHost: x\r\n\r\n" +
		"GET /m/pl?a=2 HTTP/1.1\r\nHost: x\r\n\r\n" +
		"POST /form HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello" +
		"GET /m/seg HTTP/1.1\r\nHost: x\r\n\r\n")
	for i, want := range []struct{ served, body string }{
		{"loop", "# query a=1"}, {"loop", "# query a=2"}, {"net/http", "page /form"}, {"loop", "segment"},
	} {
		method := "GET"
		res, body := c.read(method)
		if res.StatusCode != 200 || res.Header.Get("X-Served") != want.served || !strings.Contains(body, want.body) {
			t.Fatalf("response %d: %d by %q, body %.40q; want 200 by %q with %q", i, res.StatusCode, res.Header.Get("X-Served"), body, want.served, want.body)
		}
	}
}

func TestLoopBackAndForth(t *testing.T) {
	s, addr, _ := startServer(t, Config{Match: func(method, path string) bool {
		return method == http.MethodGet && strings.HasPrefix(path, "/m/")
	}}, testHandler())
	c := dial(t, addr)
	for i := range 50 {
		// Each pair in one write: the loop reads both, hands the second back
		// with the bytes it read, net/http answers it and gives the
		// connection to the loop at the next request.
		c.send(fmt.Sprintf("GET /m/pl?i=%d HTTP/1.1\r\nHost: x\r\n\r\nGET /page%d HTTP/1.1\r\nHost: x\r\n\r\n", i, i))
		res, body := c.read("GET")
		if res.Header.Get("X-Served") != "loop" || !strings.Contains(body, fmt.Sprintf("query i=%d\n", i)) {
			t.Fatalf("round %d: served by %q: %q", i, res.Header.Get("X-Served"), body)
		}
		res, body = c.read("GET")
		if res.Header.Get("X-Served") != "net/http" || body != fmt.Sprintf("page /page%d", i) {
			t.Fatalf("round %d: served by %q: %q", i, res.Header.Get("X-Served"), body)
		}
	}
	if st := s.Stats(); st.Taken != 50 || st.HandedBack != 50 || st.Connections != 0 {
		t.Fatalf("stats %+v: want 50 taken, 50 handed back, none served now (net/http has it)", st)
	}
	c.get("GET", "/m/pl", "")
	if st := s.Stats(); st.Taken != 51 || st.Connections != 1 {
		t.Fatalf("stats %+v: want 51 taken, one served now", st)
	}
}

func TestLoopHandsBackWhatItCannotJudge(t *testing.T) {
	tests := []struct {
		name, req string
		status    int
		served    string
	}{
		{"malformed header", "GET /m/pl HTTP/1.1\r\nHost: x\r\nno colon here\r\n\r\n", 400, ""},
		// net/http reads it, and the loop takes the connection again.
		{"header over the buffer", "GET /m/pl HTTP/1.1\r\nHost: x\r\nX-Big: " + strings.Repeat("b", 6000) + "\r\n\r\n", 200, "loop"},
		{"HTTP/1.0", "GET /m/pl HTTP/1.0\r\nHost: x\r\n\r\n", 200, "net/http"},
		{"escaped path", "GET /m/p%6c HTTP/1.1\r\nHost: x\r\n\r\n", 200, "net/http"},
		{"GET with a body", "GET /m/pl HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc", 200, "net/http"},
		{"upgrade", "GET /m/pl HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n", 200, "net/http"},
		{"bare LF lines", "GET /m/pl HTTP/1.1\nHost: x\n\n", 200, "loop"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addr, _ := start(t, Config{})
			c := dial(t, addr)
			if res, _ := c.get("GET", "/m/pl", ""); res.Header.Get("X-Served") != "loop" {
				t.Fatalf("the first request was served by %q", res.Header.Get("X-Served"))
			}
			c.send(tt.req)
			res, _ := c.read("GET")
			if res.StatusCode != tt.status || tt.served != "" && res.Header.Get("X-Served") != tt.served {
				t.Fatalf("%d served by %q, want %d by %q", res.StatusCode, res.Header.Get("X-Served"), tt.status, tt.served)
			}
		})
	}
}

func TestLoopClosesWhenAsked(t *testing.T) {
	tests := []struct {
		name, target, extra string
	}{
		{"client asks", "/m/pl", "Connection: close\r\n"},
		{"handler asks", "/m/bye", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addr, _ := start(t, Config{})
			c := dial(t, addr)
			if res, _ := c.get("GET", "/m/pl", ""); res.Close {
				t.Fatal("closed after the first request")
			}
			res, _ := c.get("GET", tt.target, tt.extra)
			if res.StatusCode != 200 || !res.Close || res.Header.Get("X-Served") != "loop" {
				t.Fatalf("status %d, close %v, served by %q", res.StatusCode, res.Close, res.Header.Get("X-Served"))
			}
			if !c.closed() {
				t.Fatal("the connection stays open")
			}
		})
	}
}

func TestLoopClosesCutShortResponse(t *testing.T) {
	addr, _ := start(t, Config{})
	c := dial(t, addr)
	c.get("GET", "/m/pl", "")
	c.send("GET /m/short HTTP/1.1\r\nHost: x\r\n\r\n")
	res, err := http.ReadResponse(c.br, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(res.Body)
	if err == nil || string(b) != "only part" {
		t.Fatalf("read %q, %v: want the 9 bytes written, then an unexpected EOF", b, err)
	}
}

func TestLoopIdleTimeoutAndShutdown(t *testing.T) {
	t.Run("idle", func(t *testing.T) {
		addr, _ := start(t, Config{IdleTimeout: 100 * time.Millisecond})
		c := dial(t, addr)
		c.get("GET", "/m/pl", "")
		if !c.closed() { // the client's own deadline is 20 s
			t.Fatal("an idle connection stays open")
		}
	})
	t.Run("slow header", func(t *testing.T) {
		addr, _ := start(t, Config{ReadHeaderTimeout: 100 * time.Millisecond})
		c := dial(t, addr)
		c.get("GET", "/m/pl", "")
		c.send("GET /m/pl HTTP/1.1\r\nHost:") // and nothing more
		if !c.closed() {
			t.Fatal("a connection whose header never ends stays open")
		}
	})
	t.Run("shutdown", func(t *testing.T) {
		addr, cancel := start(t, Config{})
		c := dial(t, addr)
		c.get("GET", "/m/pl", "")
		cancel()
		if !c.closed() {
			t.Fatal("the connection stays open after the server's context ended")
		}
	})
}

// TestLoopMatchesNetHTTP serves the same requests through the loop and
// through net/http alone and compares what a client sees.
func TestLoopMatchesNetHTTP(t *testing.T) {
	addr, _ := start(t, Config{})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	plain := &http.Server{Handler: testHandler()}
	go func() { _ = plain.Serve(ln) }()
	t.Cleanup(func() { _ = plain.Close() })
	loop, std := dial(t, addr), dial(t, ln.Addr().String())
	for _, r := range []struct{ method, target, extra string }{
		{"GET", "/m/pl?x=1", ""}, {"GET", "/m/seg", ""}, {"HEAD", "/m/seg", ""}, {"GET", "/m/sniff", ""},
		{"GET", "/m/missing", ""}, {"HEAD", "/m/missing", ""}, {"GET", "/m/same", ""}, {"HEAD", "/m/pl", ""},
	} {
		a, abody := loop.get(r.method, r.target, r.extra)
		b, bbody := std.get(r.method, r.target, r.extra)
		if a.Header.Get("X-Served") != "loop" {
			t.Fatalf("%s %s not served by the loop", r.method, r.target)
		}
		for _, h := range []http.Header{a.Header, b.Header} {
			h.Del("Date")
			h.Del("X-Served")
		}
		if a.StatusCode != b.StatusCode || abody != bbody || fmt.Sprint(a.Header) != fmt.Sprint(b.Header) || a.ContentLength != b.ContentLength {
			t.Errorf("%s %s:\nloop     %d %v %d %.60q\nnet/http %d %v %d %.60q", r.method, r.target,
				a.StatusCode, a.Header, a.ContentLength, abody, b.StatusCode, b.Header, b.ContentLength, bbody)
		}
	}
}

func TestLoopNoticesClientThatLeaves(t *testing.T) {
	left := make(chan string, 4)
	addr, _ := startWith(t, Config{}, testHandlerLeft(left))
	for _, first := range []bool{true, false} {
		c := dial(t, addr)
		if !first { // the wait is a later request of the connection
			c.get("GET", "/m/pl", "")
		}
		id := fmt.Sprint(first)
		c.send("GET /m/wait?for=60s&id=" + id + " HTTP/1.1\r\nHost: x\r\n\r\n")
		// Whether the close comes before or while the handler waits, the
		// socket's end is there for the watch to see.
		_ = c.nc.Close()
		select {
		case got := <-left:
			if got != id {
				t.Fatalf("handler %q reported, want %q", got, id)
			}
		case <-time.After(15 * time.Second):
			t.Fatalf("first=%v: the handler never saw its client leave", first)
		}
	}
}

func TestLoopWaitThenServe(t *testing.T) {
	addr, _ := start(t, Config{})
	c := dial(t, addr)
	c.get("GET", "/m/pl", "")
	// A handler that watched its client and answered; then a request that
	// had arrived during the wait: the watch left its bytes for the loop.
	c.send("GET /m/wait?for=200ms HTTP/1.1\r\nHost: x\r\n\r\nGET /m/pl?after=1 HTTP/1.1\r\nHost: x\r\n\r\n")
	if res, body := c.read("GET"); body != "waited" || res.Header.Get("X-Served") != "loop" {
		t.Fatalf("wait: %q by %q", body, res.Header.Get("X-Served"))
	}
	if res, body := c.read("GET"); !strings.Contains(body, "query after=1") || res.Header.Get("X-Served") != "loop" {
		t.Fatalf("after the wait: %q by %q", body, res.Header.Get("X-Served"))
	}
	c.send("GET /m/wait?for=100ms HTTP/1.1\r\nHost: x\r\n\r\n")
	if _, body := c.read("GET"); body != "waited" {
		t.Fatalf("second wait: %q", body)
	}
	if res, _ := c.get("GET", "/m/pl", ""); res.StatusCode != 200 {
		t.Fatalf("after the second wait: %d", res.StatusCode)
	}
}
