package httpflv

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"roomcast/internal/httpx"
	"roomcast/internal/hub"
	"roomcast/internal/media"
	"roomcast/internal/protocol/flv"
)

var (
	avcSeq = []byte{0x17, 0, 0, 0, 0, 1, 0x64, 0, 0x1f, 0xff, 0xe1, 0, 4, 0x67, 0x64, 0, 0x1f, 1, 0, 2, 0x68, 0xee}
	aacSeq = []byte{0xaf, 0, 0x12, 0x10}
	key    = []byte{0x17, 1, 0, 0, 0, 0, 0, 0, 1, 0x65}
	inter  = []byte{0x27, 1, 0, 0, 0, 0, 0, 0, 1, 0x41}
)

type fixture struct {
	hub     *hub.Hub
	pub     *hub.Publisher
	srv     *httptest.Server
	dts     int64
	cancel  context.CancelFunc // the server's base context: shutdown
	tracker *httpx.Tracker
}

func newFixture(t *testing.T) *fixture { return newFixtureTLS(t, false) }

// newFixtureTLS is newFixture, serving over TLS when useTLS.
func newFixtureTLS(t *testing.T, useTLS bool) *fixture {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	h := hub.New(hub.Config{ReconnectGrace: -1, FlushInterval: -1}, log)
	ctx, cancel := context.WithCancel(context.Background())
	tracker := &httpx.Tracker{}
	s := New(ctx, h, 5*time.Second, tracker, log)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/live/"), ".flv")
		s.ServeFLV(w, r, name)
	}))
	if useTLS {
		srv.StartTLS()
	} else {
		srv.Start()
	}
	t.Cleanup(func() {
		cancel()
		h.Close()
		srv.Close()
		tracker.Wait(nil)
	})
	p, err := h.Publish("s", hub.PublisherInfo{})
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{hub: h, pub: p, srv: srv, cancel: cancel, tracker: tracker}
	f.write(t, media.TagVideo, avcSeq)
	f.write(t, media.TagAudio, aacSeq)
	f.write(t, media.TagVideo, key)
	f.write(t, media.TagVideo, inter)
	return f
}

func (f *fixture) write(t *testing.T, typ media.TagType, body []byte) {
	t.Helper()
	p, err := media.NewPacket(typ, f.dts, body)
	if err != nil {
		t.Fatal(err)
	}
	f.dts += 40
	if err := f.pub.Write(p); err != nil {
		t.Fatal(err)
	}
}

// readTags reads the FLV header and n tags.
func readTags(t *testing.T, r io.Reader, n int) (audio, video bool, tags []*flv.Tag) {
	t.Helper()
	fr := flv.NewReader(r, 0)
	audio, video, err := fr.ReadHeader()
	if err != nil {
		t.Fatal(err)
	}
	for range n {
		tag, err := fr.ReadTag()
		if err != nil {
			t.Fatal(err)
		}
		tags = append(tags, tag)
	}
	return audio, video, tags
}

func TestHTTPFLVStartsAtKeyframe(t *testing.T) {
	f := newFixture(t)
	resp, err := http.Get(f.srv.URL + "/live/s.flv")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "video/x-flv" || resp.Header.Get("Access-Control-Allow-Origin") != "*" {
		t.Fatalf("status %d headers %v", resp.StatusCode, resp.Header)
	}
	audio, video, tags := readTags(t, resp.Body, 4)
	if !audio || !video {
		t.Fatalf("header flags audio=%v video=%v", audio, video)
	}
	wantFirst := [][]byte{avcSeq, aacSeq, key, inter}
	for i, tag := range tags {
		if string(tag.Data) != string(wantFirst[i]) {
			t.Fatalf("tag %d = %x, want %x", i, tag.Data, wantFirst[i])
		}
	}
	// Live packets follow.
	f.write(t, media.TagVideo, inter)
	fr := flv.NewReader(resp.Body, 0)
	tag, err := fr.ReadTag()
	if err != nil || tag.Timestamp != uint32(f.dts-40) {
		t.Fatalf("live tag %+v %v", tag, err)
	}
	st := f.hub.Stream("s").Stats()
	if st.ViewersByProtocol[ProtocolFLV] != 1 || st.BytesOut == 0 {
		t.Fatalf("stats %+v", st)
	}
}

func TestHTTPFLVErrors(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		method, path string
		status       int
		code         string
	}{
		{"GET", "/live/nope.flv", 404, "stream_not_found"},
		{"HEAD", "/live/nope.flv", 404, ""},
		{"HEAD", "/live/s.flv", 200, ""},
		{"OPTIONS", "/live/s.flv", 204, ""},
	}
	for _, tt := range tests {
		t.Run(tt.method+tt.path, func(t *testing.T) {
			req, _ := http.NewRequest(tt.method, f.srv.URL+tt.path, nil)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tt.status)
			}
			if resp.Header.Get("Access-Control-Allow-Origin") == "" && tt.status != 404 {
				t.Fatal("no CORS header")
			}
			if tt.code != "" {
				var body httpx.ErrorBody
				if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || body.Error.Code != tt.code {
					t.Fatalf("body %+v %v", body, err)
				}
			}
		})
	}
}

func TestWebSocketFLV(t *testing.T) {
	f := newFixture(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(f.srv.URL, "http")+"/live/s.flv", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	typ, msg, err := c.Read(ctx)
	if err != nil || typ != websocket.MessageBinary {
		t.Fatalf("read %v %v", typ, err)
	}
	_, _, tags := readTags(t, strings.NewReader(string(msg)), 4)
	if string(tags[2].Data) != string(key) {
		t.Fatalf("third tag %x", tags[2].Data)
	}
	// The stream ends: the socket closes normally with a reason.
	f.pub.Close(nil)
	for {
		if _, _, err = c.Read(ctx); err != nil {
			break
		}
	}
	if websocket.CloseStatus(err) != websocket.StatusNormalClosure {
		t.Fatalf("close %v", err)
	}
}

// A viewer that stops reading must not hold the others back.
func TestStalledViewerDoesNotBlockOthers(t *testing.T) {
	f := newFixture(t)
	addr := strings.TrimPrefix(f.srv.URL, "http://")
	stalled, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer stalled.Close()
	if tc, ok := stalled.(*net.TCPConn); ok {
		_ = tc.SetReadBuffer(4096)
	}
	io.WriteString(stalled, "GET /live/s.flv HTTP/1.1\r\nHost: x\r\n\r\n")
	resp, err := http.Get(f.srv.URL + "/live/s.flv")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	br := bufio.NewReaderSize(resp.Body, 1<<16)
	readTags(t, br, 4)
	big := append(append([]byte{}, inter...), make([]byte, 64<<10)...)
	done := make(chan error, 1)
	go func() {
		fr := flv.NewReader(br, 0)
		for range 100 {
			if _, err := fr.ReadTag(); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	bigKey := append(append([]byte{}, key...), make([]byte, 64<<10)...)
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
