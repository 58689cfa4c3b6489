package cover

import (
	"sync"
	"testing"
	"time"

	"roomcast/internal/hub"
)

func TestGrabberLiveCover(t *testing.T) {
	m := ffmpegManager(t)
	h := hub.New(hub.Config{ReconnectGrace: -1}, discardLog())
	var mu sync.Mutex
	var ended []Picture
	var grabbed int
	g := New(h, m, Config{
		Interval: time.Hour, // one grab: the first keyframe
		Skip:     func(s string) bool { return s == "skipped" },
		Ended: func(stream string, c Picture) {
			mu.Lock()
			ended = append(ended, c)
			mu.Unlock()
		},
		Grabbed: func(string, Picture) {
			mu.Lock()
			grabbed++
			mu.Unlock()
		},
	}, discardLog())
	defer g.Close()
	h.OnEvent(g.Handle)
	pkts := encodeFLV(t, "160x120", "10")
	for _, name := range []string{"s1", "skipped"} {
		p, err := h.Publish(name, hub.PublisherInfo{Protocol: "test"})
		if err != nil {
			t.Fatal(err)
		}
		for _, pkt := range pkts {
			if err := p.Write(pkt); err != nil {
				t.Fatal(err)
			}
		}
		defer p.Close(nil)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		if c, ok := g.Live("s1"); ok {
			if c.Width != 160 || c.Height != 120 {
				t.Fatalf("cover %dx%d, want 160x120", c.Width, c.Height)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no live cover (failures %d)", g.Failures())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if _, ok := g.Live("skipped"); ok {
		t.Fatal("a skipped stream got a cover")
	}
	if _, ok := g.Live("nosuch"); ok {
		t.Fatal("a missing stream has a cover")
	}
	if err := h.Kick("s1"); err != nil {
		t.Fatal(err)
	}
	deadline = time.Now().Add(30 * time.Second)
	for {
		mu.Lock()
		n := len(ended)
		mu.Unlock()
		if n == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("Ended not called with the last cover")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if _, ok := g.Live("s1"); ok {
		t.Fatal("cover still live after the stream ended")
	}
	mu.Lock()
	defer mu.Unlock()
	if len(ended[0].JPEG) == 0 || grabbed != 1 {
		t.Fatalf("ended cover %d bytes, %d grabs; want a JPEG and 1 grab", len(ended[0].JPEG), grabbed)
	}
}
