package hub

import (
	"bytes"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"roomcast/internal/media"
)

// fakeDirect is a DirectWriter over an in-memory "socket" that takes room
// bytes per TryWriteBatch (negative: everything) and whose WriteBatch waits
// while gate is closed.
type fakeDirect struct {
	mu    sync.Mutex
	room  int
	busy  bool  // TryWriteBatch takes nothing
	fail  error // every write fails with it
	out   bytes.Buffer
	kept  [][]byte
	tries int
	waits int

	gate chan struct{} // nil: open; WriteBatch waits until it is closed
	id   int
	log  *orderLog
}

// orderLog records which viewer the loop wrote to, in order.
type orderLog struct {
	mu  sync.Mutex
	ids []int
}

func (o *orderLog) add(id int) {
	o.mu.Lock()
	o.ids = append(o.ids, id)
	o.mu.Unlock()
}

func (f *fakeDirect) TryWriteBatch(bufs [][]byte) (int, bool, error) {
	if f.log != nil {
		f.log.add(f.id)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.tries++
	if f.fail != nil {
		return 0, true, f.fail
	}
	if f.busy {
		return 0, false, nil
	}
	n := 0
	for i, b := range bufs {
		if f.room >= 0 && n+len(b) > f.room {
			take := f.room - n
			f.out.Write(b[:take])
			n += take
			f.kept = append(append(f.kept, b[take:]), bufs[i+1:]...)
			return n, true, nil
		}
		f.out.Write(b)
		n += len(b)
	}
	return n, true, nil
}

func (f *fakeDirect) WriteBatch(bufs [][]byte) (int, error) {
	f.mu.Lock()
	gate := f.gate
	f.mu.Unlock()
	if gate != nil {
		<-gate
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.waits++
	if f.fail != nil {
		return 0, f.fail
	}
	for _, b := range f.kept {
		f.out.Write(b)
	}
	f.kept = nil
	n := 0
	for _, b := range bufs {
		f.out.Write(b)
		n += len(b)
	}
	return n, nil
}

func (f *fakeDirect) bytes() []byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	return bytes.Clone(f.out.Bytes())
}

// tagBytes is the test encoding: type, DTS and body, so that the byte
// stream shows order and completeness.
func tagBytes(p *media.Packet) []byte {
	return append(fmt.Appendf(nil, "[%d %d ", p.Type, p.DTS), append(bytes.Clone(p.Data), ']')...)
}

// delivered runs Deliver for a new viewer of stream s and returns a
// channel with Done's error.
func delivered(t *testing.T, h *Hub, w DirectWriter, first func([]*Frame) []byte) (*Subscriber, chan error) {
	t.Helper()
	sub, err := h.Subscribe("s", "flv")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	sub.Deliver(Delivery{Writer: w, Format: FormatFLV, Encode: tagBytes, First: first, Done: func(err error) { done <- err }})
	return sub, done
}

func waitDone(t *testing.T, done chan error) error {
	t.Helper()
	select {
	case err := <-done:
		return err
	case <-time.After(10 * time.Second):
		t.Fatal("delivery did not stop")
		return nil
	}
}

// expected is the byte stream a viewer that joined at the GOP of frames
// must get: the header, then every frame from the cached GOP's init on.
func expected(header string, frames []*media.Packet) []byte {
	b := []byte(header)
	for _, p := range frames {
		b = append(b, tagBytes(p)...)
	}
	return b
}

func TestDeliver(t *testing.T) {
	boom := errors.New("boom")
	tests := []struct {
		name     string
		w        *fakeDirect
		closeSub bool
		wantErr  error
		complete bool // every byte arrives
	}{
		{"socket takes everything", &fakeDirect{room: -1}, false, ErrEnded, true},
		{"socket full: rest in the viewer's goroutine", &fakeDirect{room: 7}, false, ErrEnded, true},
		{"socket full with nothing taken", &fakeDirect{room: 0}, false, ErrEnded, true},
		{"connection busy", &fakeDirect{room: -1, busy: true}, false, ErrEnded, true},
		{"write fails", &fakeDirect{room: -1, fail: boom}, false, boom, false},
		{"closed by its owner", &fakeDirect{room: -1}, true, ErrClosed, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, interval := range []time.Duration{-1, 2 * time.Millisecond} {
				h := testHub(t, Config{FlushInterval: interval, ReconnectGrace: -1})
				p, _ := h.Publish("s", PublisherInfo{})
				var sent []*media.Packet
				send := func(typ media.TagType, dts int64, body []byte) {
					pk := pkt(t, typ, dts, body)
					sent = append(sent, pk)
					if err := p.Write(pk); err != nil {
						t.Fatal(err)
					}
				}
				send(media.TagScript, 0, metaTag)
				send(media.TagVideo, 0, avcSeq)
				send(media.TagAudio, 0, aacSeq)
				send(media.TagVideo, 0, key)
				w := &fakeDirect{room: tt.w.room, busy: tt.w.busy, fail: tt.w.fail}
				sub, done := delivered(t, h, w, func([]*Frame) []byte { return []byte("HDR") })
				defer sub.Close()
				for i := range 200 {
					send(media.TagAudio, int64(i+1)*10, aacRaw)
					if i%20 == 0 {
						time.Sleep(time.Millisecond)
					}
				}
				if tt.closeSub {
					sub.Close()
				} else {
					p.Close(nil)
				}
				err := waitDone(t, done)
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("interval %v: Done(%v), want %v", interval, err, tt.wantErr)
				}
				if tt.complete {
					if got, want := w.bytes(), expected("HDR", sent); !bytes.Equal(got, want) {
						t.Fatalf("interval %v: got %d bytes, want %d:\n%q\n%q", interval, len(got), len(want), got[:min(len(got), 200)], want[:min(len(want), 200)])
					}
				}
				p.Close(nil)
			}
		})
	}
}

// A viewer whose socket is full and stays full never delays the others:
// they get every frame while it waits, the publisher never blocks, and the
// slow viewer is dropped to the next keyframe and then disconnected.
func TestDeliverSlowViewerIsolated(t *testing.T) {
	h := testHub(t, Config{FlushInterval: -1, ReconnectGrace: -1, QueueFrames: 50, SlowDrops: 1})
	p, _ := h.Publish("s", PublisherInfo{})
	dts := publishGOPs(t, p, 0, 1, true)
	gate := make(chan struct{})
	slow := &fakeDirect{room: 0, gate: gate}
	slowSub, slowDone := delivered(t, h, &fakeDirect{room: -1}, nil) // warm-up viewer
	defer slowSub.Close()
	stuck, stuckDone := func() (*Subscriber, chan error) {
		sub, err := h.Subscribe("s", "flv")
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		// Deliver writes the GOP from this goroutine: with the gate shut
		// it would wait, so run it in one of its own.
		go sub.Deliver(Delivery{Writer: slow, Format: FormatFLV, Encode: tagBytes, Done: func(err error) { done <- err }})
		return sub, done
	}()
	defer stuck.Close()
	fast := make([]*fakeDirect, 5)
	dones := make([]chan error, len(fast))
	for i := range fast {
		fast[i] = &fakeDirect{room: -1}
		var sub *Subscriber
		sub, dones[i] = delivered(t, h, fast[i], nil)
		defer sub.Close()
	}
	st := h.Stream("s")
	for g := range 100 {
		start := time.Now()
		dts = publishGOPs(t, p, dts, 1, false)
		if d := time.Since(start); d > time.Second {
			t.Fatalf("publisher took %v: it must not block", d)
		}
		// Paced like a live publisher: the fast viewers keep up.
		want := 7 + 4*(g+1)
		deadline := time.Now().Add(10 * time.Second)
		for i := 0; i < len(fast); {
			if bytes.Count(fast[i].bytes(), []byte("[")) >= want {
				i++
				continue
			}
			if time.Now().After(deadline) {
				t.Fatalf("fast viewer %d is behind: it waits for the stuck one", i)
			}
			time.Sleep(100 * time.Microsecond)
		}
	}
	p.Close(nil)
	for i := range fast {
		if err := waitDone(t, dones[i]); !errors.Is(err, ErrEnded) {
			t.Fatalf("fast viewer %d: %v", i, err)
		}
		// 7 frames of the first GOP and 4 of each of the 100 others.
		if got, want := bytes.Count(fast[i].bytes(), []byte("[")), 7+400; got != want {
			t.Fatalf("fast viewer %d got %d frames, want %d", i, got, want)
		}
	}
	if err := waitDone(t, slowDone); !errors.Is(err, ErrEnded) {
		t.Fatalf("warm-up viewer: %v", err)
	}
	close(gate)
	if err := waitDone(t, stuckDone); !errors.Is(err, ErrSlow) {
		t.Fatalf("stuck viewer: %v, want ErrSlow", err)
	}
	if st.Stats().SlowDisconnects != 1 {
		t.Fatalf("slow disconnects = %d, want 1", st.Stats().SlowDisconnects)
	}
}

// A viewer that leaves while its write waits ends with ErrClosed once the
// write returns; the others go on.
func TestDeliverLeaveMidWrite(t *testing.T) {
	h := testHub(t, Config{FlushInterval: -1, ReconnectGrace: -1})
	p, _ := h.Publish("s", PublisherInfo{})
	dts := publishGOPs(t, p, 0, 1, true)
	gate := make(chan struct{})
	leaving := &fakeDirect{room: 3}
	sub, done := delivered(t, h, leaving, nil)
	other := &fakeDirect{room: -1}
	osub, odone := delivered(t, h, other, nil)
	defer osub.Close()
	leaving.mu.Lock()
	leaving.gate = gate
	leaving.mu.Unlock()
	dts = publishGOPs(t, p, dts, 1, false) // fills the socket: the rest waits at the gate
	for leaving.triesNow() == 0 {
		time.Sleep(time.Millisecond)
	}
	sub.Close()
	publishGOPs(t, p, dts, 1, false)
	close(gate)
	if err := waitDone(t, done); !errors.Is(err, ErrClosed) {
		t.Fatalf("leaving viewer: %v, want ErrClosed", err)
	}
	p.Close(nil)
	if err := waitDone(t, odone); !errors.Is(err, ErrEnded) {
		t.Fatalf("other viewer: %v", err)
	}
	if got := bytes.Count(other.bytes(), []byte("[")); got != 7+8 {
		t.Fatalf("other viewer got %d frames, want 15", got)
	}
}

func (f *fakeDirect) triesNow() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.tries
}

// Each pass starts at a different viewer, so that none is always last.
func TestDeliverFairness(t *testing.T) {
	h := testHub(t, Config{FlushInterval: -1, ReconnectGrace: -1})
	p, _ := h.Publish("s", PublisherInfo{})
	dts := publishGOPs(t, p, 0, 1, true)
	const n = 7
	log := &orderLog{}
	ws := make([]*fakeDirect, n)
	for i := range ws {
		ws[i] = &fakeDirect{room: -1, id: i, log: log}
		sub, _ := delivered(t, h, ws[i], nil)
		defer sub.Close()
	}
	firsts := map[int]bool{}
	for range 40 {
		log.mu.Lock()
		log.ids = log.ids[:0]
		log.mu.Unlock()
		write(t, p, media.TagAudio, dts, aacRaw)
		dts += 10
		deadline := time.Now().Add(5 * time.Second)
		for {
			log.mu.Lock()
			k := len(log.ids)
			first := -1
			if k > 0 {
				first = log.ids[0]
			}
			log.mu.Unlock()
			if k >= n {
				firsts[first] = true
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("only %d of %d viewers written", k, n)
			}
			time.Sleep(100 * time.Microsecond)
		}
	}
	if len(firsts) < n/2 {
		t.Fatalf("passes started at %d different viewers of %d, want at least %d", len(firsts), n, n/2)
	}
}

// Many delivered viewers while a publisher writes fast: none misses a
// frame or the end, whatever state (in the loop, catching up) it is in.
func TestDeliverNoLostFrames(t *testing.T) {
	for _, interval := range []time.Duration{-1, time.Millisecond} {
		t.Run(fmt.Sprint(interval), func(t *testing.T) {
			h := testHub(t, Config{FlushInterval: interval, ReconnectGrace: -1, QueueFrames: 1 << 14, QueueBytes: 1 << 30})
			p, _ := h.Publish("s", PublisherInfo{})
			const viewers, frames = 40, 3000
			write(t, p, media.TagVideo, 0, key)
			ws := make([]*fakeDirect, viewers)
			dones := make([]chan error, viewers)
			for i := range viewers {
				room := -1
				if i%4 == 0 {
					room = 50 * (i%3 + 1) // a viewer whose socket fills up
				}
				ws[i] = &fakeDirect{room: room}
				var sub *Subscriber
				sub, dones[i] = delivered(t, h, ws[i], nil)
				defer sub.Close()
			}
			for i := 1; i < frames; i++ {
				write(t, p, media.TagVideo, int64(i), inter)
				if i%200 == 0 {
					time.Sleep(time.Millisecond)
				}
			}
			p.Close(nil)
			for i := range viewers {
				if err := waitDone(t, dones[i]); !errors.Is(err, ErrEnded) {
					t.Fatalf("viewer %d: %v", i, err)
				}
				if got := bytes.Count(ws[i].bytes(), []byte("[")); got != frames {
					t.Fatalf("viewer %d: %d of %d frames", i, got, frames)
				}
			}
		})
	}
}

// The loop's goroutine ends when its last viewer has gone.
func TestDeliverLoopStops(t *testing.T) {
	h := testHub(t, Config{FlushInterval: -1, ReconnectGrace: -1})
	p, _ := h.Publish("s", PublisherInfo{})
	publishGOPs(t, p, 0, 1, true)
	defer p.Close(nil)
	sub, done := delivered(t, h, &fakeDirect{room: -1}, nil)
	sub.Close()
	if err := waitDone(t, done); !errors.Is(err, ErrClosed) {
		t.Fatalf("Done(%v), want ErrClosed", err)
	}
	s := h.Stream("s")
	deadline := time.Now().Add(5 * time.Second)
	for {
		running := false
		s.loopsMu.Lock()
		for _, l := range s.loops {
			l.mu.Lock()
			running = running || l.running
			l.mu.Unlock()
		}
		s.loopsMu.Unlock()
		if !running {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("delivery loop still running without viewers")
		}
		time.Sleep(time.Millisecond)
	}
}
