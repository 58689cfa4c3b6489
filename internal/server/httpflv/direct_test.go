package httpflv

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"roomcast/internal/media"
	"roomcast/internal/protocol/flv"
)

// viewer is one test viewer of stream s: plain HTTP-FLV or WebSocket-FLV.
type viewer struct {
	body io.ReadCloser   // HTTP-FLV
	ws   *websocket.Conn // WebSocket-FLV
	buf  *strings.Reader // the WebSocket message being read
	ctx  context.Context // for WebSocket reads
	stop context.CancelFunc
}

func dialViewer(t *testing.T, f *fixture, proto string) *viewer {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	client := f.srv.Client()
	v := &viewer{ctx: ctx, stop: cancel}
	if proto == ProtocolWSFLV {
		u := "ws" + strings.TrimPrefix(f.srv.URL, "http") + "/live/s.flv"
		c, _, err := websocket.Dial(ctx, u, &websocket.DialOptions{HTTPClient: client})
		if err != nil {
			t.Fatal(err)
		}
		c.SetReadLimit(1 << 24)
		t.Cleanup(func() { c.CloseNow() })
		v.ws = c
		return v
	}
	resp, err := client.Get(f.srv.URL + "/live/s.flv")
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	t.Cleanup(func() { resp.Body.Close() })
	v.body = resp.Body
	return v
}

// Read implements io.Reader over either transport.
func (v *viewer) Read(p []byte) (int, error) {
	if v.body != nil {
		return v.body.Read(p)
	}
	for v.buf == nil || v.buf.Len() == 0 {
		_, msg, err := v.ws.Read(v.ctx)
		if err != nil {
			return 0, err
		}
		v.buf = strings.NewReader(string(msg))
	}
	return v.buf.Read(p)
}

func (v *viewer) close() {
	if v.ws != nil {
		_ = v.ws.Close(websocket.StatusNormalClosure, "bye")
		return
	}
	_ = v.body.Close()
}

var protocols = []string{ProtocolFLV, ProtocolWSFLV}

// waitViewers publishes a frame every few milliseconds (a viewer without
// a reader is found gone by a failed write) until the stream has want
// viewers of proto.
func waitViewers(t *testing.T, f *fixture, proto string, want int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		st := f.hub.Stream("s").Stats()
		if st.ViewersByProtocol[proto] == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s viewers = %d, want %d", proto, st.ViewersByProtocol[proto], want)
		}
		f.write(t, media.TagVideo, inter)
		time.Sleep(5 * time.Millisecond)
	}
}

// A viewer that leaves is dropped and counted out, on both transports.
func TestViewerLeaves(t *testing.T) {
	for _, proto := range protocols {
		t.Run(proto, func(t *testing.T) {
			f := newFixture(t)
			v := dialViewer(t, f, proto)
			readTags(t, v, 4)
			waitViewers(t, f, proto, 1)
			v.close()
			waitViewers(t, f, proto, 0)
		})
	}
}

// Shutdown (the base context) ends every viewer: the tracker empties,
// WebSocket viewers get 1001 with a reason, HTTP-FLV viewers an EOF.
func TestShutdownEndsViewers(t *testing.T) {
	for _, proto := range protocols {
		t.Run(proto, func(t *testing.T) {
			f := newFixture(t)
			v := dialViewer(t, f, proto)
			readTags(t, v, 4)
			f.cancel()
			stop := make(chan struct{})
			timer := time.AfterFunc(10*time.Second, func() { close(stop) })
			defer timer.Stop()
			if !f.tracker.Wait(stop) {
				t.Fatal("viewers still tracked after shutdown")
			}
			_, err := io.Copy(io.Discard, v)
			switch proto {
			case ProtocolWSFLV:
				if websocket.CloseStatus(err) != websocket.StatusGoingAway {
					t.Fatalf("close %v, want 1001", err)
				}
			default:
				if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
					t.Fatalf("read after shutdown: %v", err)
				}
			}
		})
	}
}

// Over TLS there is no socket to write without waiting: the viewer is
// pumped from its own goroutine and gets the same stream.
func TestTLSViewers(t *testing.T) {
	for _, proto := range protocols {
		t.Run(proto, func(t *testing.T) {
			f := newFixtureTLS(t, true)
			if tr, ok := f.srv.Client().Transport.(*http.Transport); ok {
				tr.TLSClientConfig.NextProtos = []string{"http/1.1"} // hijackable
				tr.ForceAttemptHTTP2 = false
				tr.TLSNextProto = map[string]func(string, *tls.Conn) http.RoundTripper{}
			}
			v := dialViewer(t, f, proto)
			_, _, tags := readTags(t, v, 4)
			if string(tags[2].Data) != string(key) {
				t.Fatalf("third tag %x", tags[2].Data)
			}
			f.write(t, media.TagVideo, inter)
			tag, err := flv.NewReader(v, 0).ReadTag()
			if err != nil || string(tag.Data) != string(inter) {
				t.Fatalf("live tag %+v %v", tag, err)
			}
			f.pub.Close(nil)
			_, err = io.Copy(io.Discard, v)
			if proto == ProtocolWSFLV && websocket.CloseStatus(err) != websocket.StatusNormalClosure {
				t.Fatalf("close %v, want 1000", err)
			}
			if proto == ProtocolFLV && err != nil {
				t.Fatalf("read to the end: %v", err)
			}
		})
	}
}

// A WebSocket viewer that stops reading does not hold back the others.
func TestStalledWSViewerDoesNotBlockOthers(t *testing.T) {
	f := newFixture(t)
	stalled, err := net.Dial("tcp", strings.TrimPrefix(f.srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer stalled.Close()
	if tc, ok := stalled.(*net.TCPConn); ok {
		_ = tc.SetReadBuffer(4096)
	}
	io.WriteString(stalled, "GET /live/s.flv HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
	line, err := bufio.NewReader(stalled).ReadString('\n')
	if err != nil || !strings.Contains(line, "101") {
		t.Fatalf("upgrade: %q %v", line, err)
	}
	v := dialViewer(t, f, ProtocolWSFLV)
	readTags(t, v, 4)
	big := append(append([]byte{}, inter...), make([]byte, 64<<10)...)
	bigKey := append(append([]byte{}, key...), make([]byte, 64<<10)...)
	done := make(chan error, 1)
	go func() {
		fr := flv.NewReader(v, 0)
		for range 100 {
			if _, err := fr.ReadTag(); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	for i := range 100 {
		if i%10 == 0 {
			f.write(t, media.TagVideo, bigKey)
		} else {
			f.write(t, media.TagVideo, big)
		}
		time.Sleep(2 * time.Millisecond)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the reading viewer did not get its frames")
	}
}
