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

// TestGrabberDemand checks that a cover nobody asks for is not refreshed
// (one grab at the first keyframe, one at the end), and that one asked
// for is refreshed from the next keyframes.
func TestGrabberDemand(t *testing.T) {
	m := ffmpegManager(t)
	h := hub.New(hub.Config{ReconnectGrace: -1}, discardLog())
	var mu sync.Mutex
	grabbed := map[string]int{}
	ended := map[string]Picture{}
	g := New(h, m, Config{
		Interval: time.Millisecond,
		Ended: func(stream string, c Picture) {
			mu.Lock()
			ended[stream] = c
			mu.Unlock()
		},
		Grabbed: func(stream string, _ Picture) {
			mu.Lock()
			grabbed[stream]++
			mu.Unlock()
		},
	}, discardLog())
	defer g.Close()
	h.OnEvent(g.Handle)
	pkts := encodeFLV(t, "160x120", "20") // a keyframe every 5 frames
	count := func(stream string) (int, bool) {
		mu.Lock()
		defer mu.Unlock()
		_, ok := ended[stream]
		return grabbed[stream], ok
	}
	waitFor := func(what string, cond func() bool, feed func()) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("%s: not within 30s (failures %d)", what, g.Failures())
			}
			if feed != nil {
				feed()
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	for _, tc := range []struct {
		stream string
		ask    bool
	}{{"unasked", false}, {"asked", true}} {
		p, err := h.Publish(tc.stream, hub.PublisherInfo{Protocol: "test"})
		if err != nil {
			t.Fatal(err)
		}
		var ts int64
		gop := func() {
			for _, pkt := range pkts {
				q := *pkt
				q.DTS += ts
				if err := p.Write(&q); err != nil {
					t.Fatal(err)
				}
			}
			ts += 2000
		}
		gop()
		waitFor(tc.stream+": first cover", func() bool { return g.Has(tc.stream) }, nil)
		if tc.ask {
			if _, ok := g.Live(tc.stream); !ok {
				t.Fatal("Live: no cover")
			}
			waitFor(tc.stream+": a refreshed cover", func() bool { n, _ := count(tc.stream); return n >= 2 }, gop)
		} else {
			for range 5 {
				gop() // new keyframes, and nobody asks for the cover
			}
		}
		p.Close(nil)
		waitFor(tc.stream+": Ended", func() bool { _, ok := count(tc.stream); return ok }, nil)
		n, _ := count(tc.stream)
		if !tc.ask && n != 2 {
			t.Fatalf("%s: %d grabs, want 2 (the first keyframe and the end)", tc.stream, n)
		}
		mu.Lock()
		pic := ended[tc.stream]
		mu.Unlock()
		if pic.Width != 160 || len(pic.JPEG) == 0 {
			t.Fatalf("%s: ended cover %dx%d, %d bytes", tc.stream, pic.Width, pic.Height, len(pic.JPEG))
		}
	}
}
