package hub

import (
	"errors"
	"sync"
	"testing"
	"time"
)

func TestMaxPublishers(t *testing.T) {
	h := testHub(t, Config{MaxPublishers: 2, ReconnectGrace: time.Hour})
	a, err := h.Publish("a", PublisherInfo{Protocol: "rtmp"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.Publish("b", PublisherInfo{Protocol: "rtmp"}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.Publish("c", PublisherInfo{Protocol: "rtmp"}); !errors.Is(err, ErrTooManyPublishers) {
		t.Fatalf("third publisher: %v", err)
	}
	if h.Publishers() != 2 {
		t.Fatalf("publishers = %d", h.Publishers())
	}
	// A stream waiting in its reconnect grace has no publisher: its slot
	// is free, and its own publisher may come back.
	a.Close(nil)
	c, err := h.Publish("c", PublisherInfo{Protocol: "rtmp"})
	if err != nil {
		t.Fatalf("after a publisher left: %v", err)
	}
	if _, err := h.Publish("a", PublisherInfo{Protocol: "rtmp"}); !errors.Is(err, ErrTooManyPublishers) {
		t.Fatalf("resume over the limit: %v", err)
	}
	c.Close(nil)
	if _, err := h.Publish("a", PublisherInfo{Protocol: "rtmp"}); err != nil {
		t.Fatalf("resume: %v", err)
	}
}

func TestMaxPublishersConcurrent(t *testing.T) {
	h := testHub(t, Config{MaxPublishers: 3})
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok := 0
	for i := range 20 {
		wg.Go(func() {
			if _, err := h.Publish(string(rune('a'+i)), PublisherInfo{Protocol: "rtmp"}); err == nil {
				mu.Lock()
				ok++
				mu.Unlock()
			} else if !errors.Is(err, ErrTooManyPublishers) {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if ok != 3 {
		t.Fatalf("%d publishers admitted, want 3", ok)
	}
}

func TestMaxViewersTotal(t *testing.T) {
	h := testHub(t, Config{MaxViewers: 3})
	for _, name := range []string{"a", "b"} {
		p, err := h.Publish(name, PublisherInfo{Protocol: "rtmp"})
		if err != nil {
			t.Fatal(err)
		}
		publishGOPs(t, p, 0, 1, true)
	}
	var subs []*Subscriber
	for _, name := range []string{"a", "a", "b"} {
		sub, err := h.Subscribe(name, "flv")
		if err != nil {
			t.Fatal(err)
		}
		subs = append(subs, sub)
	}
	if _, err := h.Subscribe("b", "rtmp"); !errors.Is(err, ErrTooManyViewers) {
		t.Fatalf("fourth viewer: %v", err)
	}
	// Internal subscribers (recorder, HLS muxer) are not viewers.
	internal, err := h.Subscribe("b", "")
	if err != nil {
		t.Fatalf("internal subscriber refused: %v", err)
	}
	internal.Close()
	if h.Viewers() != 3 {
		t.Fatalf("viewers = %d", h.Viewers())
	}
	subs[0].Close()
	sub, err := h.Subscribe("b", "rtmp")
	if err != nil {
		t.Fatalf("after a viewer left: %v", err)
	}
	sub.Close()
}

func TestTotalsSurviveStreamEnd(t *testing.T) {
	h := testHub(t, Config{ReconnectGrace: -1})
	p, _ := h.Publish("s", PublisherInfo{Protocol: "rtmp"})
	publishGOPs(t, p, 0, 2, true)
	h.Stream("s").AddBytesOut(100)
	live := h.Totals()
	if live.BytesIn == 0 || live.BytesOut != 100 || live.StreamsEnded != 0 {
		t.Fatalf("live totals %+v", live)
	}
	p.Close(nil) // no grace: the stream ends
	if h.Stream("s") != nil {
		t.Fatal("stream still registered")
	}
	ended := h.Totals()
	if ended.BytesIn != live.BytesIn || ended.BytesOut != 100 || ended.StreamsEnded != 1 {
		t.Fatalf("totals after the end %+v, before %+v", ended, live)
	}
	p2, _ := h.Publish("s", PublisherInfo{Protocol: "rtmp"})
	publishGOPs(t, p2, 0, 1, true)
	if again := h.Totals(); again.BytesIn <= ended.BytesIn || again.StreamsEnded != 1 {
		t.Fatalf("totals with a new stream %+v", again)
	}
}

// Every refusal by a limit reaches Config.Refused with the limit's name.
func TestRefusedReported(t *testing.T) {
	var mu sync.Mutex
	got := map[string]int{}
	h := testHub(t, Config{MaxPublishers: 1, MaxViewers: 2, MaxViewersPerStream: 1, Refused: func(limit string) {
		mu.Lock()
		got[limit]++
		mu.Unlock()
	}})
	for _, name := range []string{"a", "b"} {
		if name == "b" {
			if _, err := h.Publish(name, PublisherInfo{Protocol: "rtmp"}); !errors.Is(err, ErrTooManyPublishers) {
				t.Fatalf("second publisher: %v", err)
			}
			continue
		}
		p, err := h.Publish(name, PublisherInfo{Protocol: "rtmp"})
		if err != nil {
			t.Fatal(err)
		}
		publishGOPs(t, p, 0, 1, true)
	}
	sub, err := h.Subscribe("a", "flv")
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	if _, err := h.Subscribe("a", "rtmp"); !errors.Is(err, ErrTooManyViewers) {
		t.Fatalf("second viewer of a: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if got["max-publishers"] != 1 || got["max-viewers-per-stream"] != 1 || len(got) != 2 {
		t.Fatalf("refusals %v", got)
	}
}

func TestMaxPublishersInternal(t *testing.T) {
	h := testHub(t, Config{MaxPublishers: 1})
	if _, err := h.Publish("a", PublisherInfo{}); err != nil {
		t.Fatal(err)
	}
	// An internal publisher is neither bound nor counted.
	if _, err := h.Publish("a-programme", PublisherInfo{Internal: true}); err != nil {
		t.Fatalf("internal publisher refused: %v", err)
	}
	if _, err := h.Publish("b", PublisherInfo{}); !errors.Is(err, ErrTooManyPublishers) {
		t.Fatalf("second external publisher: %v", err)
	}
}
