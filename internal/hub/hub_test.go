package hub

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"roomcast/internal/media"
)

func testHub(t *testing.T, cfg Config) *Hub {
	t.Helper()
	h := New(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	t.Cleanup(h.Close)
	return h
}

// Minimal valid tag bodies.
var (
	avcSeq  = []byte{0x17, 0, 0, 0, 0, 1, 0x64, 0, 0x1f, 0xff, 0xe1, 0, 4, 0x67, 0x64, 0, 0x1f, 1, 0, 2, 0x68, 0xee}
	aacSeq  = []byte{0xaf, 0, 0x12, 0x10}
	key     = []byte{0x17, 1, 0, 0, 0, 0, 0, 0, 1, 0x65}
	inter   = []byte{0x27, 1, 0, 0, 0, 0, 0, 0, 1, 0x41}
	aacRaw  = []byte{0xaf, 1, 0x21, 0x00}
	metaTag = []byte{2, 0, 10, 'o', 'n', 'M', 'e', 't', 'a', 'D', 'a', 't', 'a', 8, 0, 0, 0, 0, 0, 0, 9}
)

func pkt(t *testing.T, typ media.TagType, dts int64, body []byte) *media.Packet {
	t.Helper()
	p, err := media.NewPacket(typ, dts, body)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func write(t *testing.T, p *Publisher, typ media.TagType, dts int64, body []byte) {
	t.Helper()
	if err := p.Write(pkt(t, typ, dts, body)); err != nil {
		t.Fatalf("write: %v", err)
	}
}

// publishGOPs writes headers, then n GOPs of one keyframe, two inter frames
// and an audio frame each, 40 ms apart, starting at dts.
func publishGOPs(t *testing.T, p *Publisher, dts int64, n int, headers bool) int64 {
	t.Helper()
	if headers {
		write(t, p, media.TagScript, dts, metaTag)
		write(t, p, media.TagVideo, dts, avcSeq)
		write(t, p, media.TagAudio, dts, aacSeq)
	}
	for range n {
		write(t, p, media.TagVideo, dts, key)
		write(t, p, media.TagAudio, dts, aacRaw)
		dts += 40
		write(t, p, media.TagVideo, dts, inter)
		dts += 40
		write(t, p, media.TagVideo, dts, inter)
		dts += 40
	}
	return dts
}

func next(t *testing.T, sub *Subscriber) []*Frame {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	fs, err := sub.Next(ctx, nil)
	if err != nil {
		t.Fatalf("next: %v", err)
	}
	return fs
}

func kinds(fs []*Frame) string {
	var s []byte
	for _, f := range fs {
		p := f.Packet
		switch {
		case p.Type == media.TagScript:
			s = append(s, 'M')
		case p.SeqHeader && p.Type == media.TagVideo:
			s = append(s, 'V')
		case p.SeqHeader:
			s = append(s, 'A')
		case p.Keyframe:
			s = append(s, 'K')
		case p.Type == media.TagVideo:
			s = append(s, 'i')
		default:
			s = append(s, 'a')
		}
	}
	return string(s)
}

func TestGOPCacheStart(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		gops int
		want string
	}{
		{"starts at last keyframe with headers", Config{}, 3, "MVAKaii"},
		{"GOP too long for cache waits for next keyframe", Config{GOPMaxFrames: 2}, 3, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := testHub(t, tt.cfg)
			p, err := h.Publish("s", PublisherInfo{Protocol: "test"})
			if err != nil {
				t.Fatal(err)
			}
			dts := publishGOPs(t, p, 0, tt.gops, true)
			sub, err := h.Subscribe("s", "flv")
			if err != nil {
				t.Fatal(err)
			}
			defer sub.Close()
			if tt.want == "" {
				publishGOPs(t, p, dts, 1, false)
				tt.want = "MVAKaii"
			}
			if got := kinds(next(t, sub)); got != tt.want {
				t.Fatalf("first frames %q, want %q", got, tt.want)
			}
		})
	}
}

func TestSubscribeUnknown(t *testing.T) {
	h := testHub(t, Config{})
	if _, err := h.Subscribe("nope", "flv"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("err = %v, want ErrNotFound", err)
	}
}

func TestSecondPublisherRefused(t *testing.T) {
	h := testHub(t, Config{})
	if _, err := h.Publish("s", PublisherInfo{}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.Publish("s", PublisherInfo{}); !errors.Is(err, ErrStreamBusy) {
		t.Fatalf("err = %v, want ErrStreamBusy", err)
	}
}

func TestTakeover(t *testing.T) {
	h := testHub(t, Config{Takeover: true})
	p1, _ := h.Publish("s", PublisherInfo{})
	p2, err := h.Publish("s", PublisherInfo{})
	if err != nil {
		t.Fatal(err)
	}
	if err := p1.Write(pkt(t, media.TagVideo, 0, key)); !errors.Is(err, ErrTakenOver) {
		t.Fatalf("old publisher write err = %v", err)
	}
	write(t, p2, media.TagVideo, 0, key)
}

// A slow subscriber is dropped to the next keyframe and then disconnected,
// while a fast one receives everything and the publisher never blocks.
func TestSlowSubscriber(t *testing.T) {
	h := testHub(t, Config{QueueFrames: 100, SlowDrops: 2, FlushInterval: -1})
	p, _ := h.Publish("s", PublisherInfo{})
	dts := publishGOPs(t, p, 0, 1, true)
	slow, _ := h.Subscribe("s", "flv")
	fast, _ := h.Subscribe("s", "flv")
	defer slow.Close()
	defer fast.Close()

	var got int
	var wg sync.WaitGroup
	wg.Add(1)
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		defer wg.Done()
		for {
			fs, err := fast.Next(ctx, nil)
			if err != nil {
				return
			}
			got += len(fs)
		}
	}()
	start := time.Now()
	var err error
	for i := 0; err == nil && i < 10; i++ {
		// Two bursts of 80 frames: the fast reader keeps up with each, the
		// slow one reads only after both and so lags 160 > 100 frames.
		for range 2 {
			dts = publishGOPs(t, p, dts, 20, false)
			time.Sleep(10 * time.Millisecond)
		}
		_, err = slow.Next(context.Background(), nil)
	}
	if time.Since(start) > 2*time.Second {
		t.Fatalf("publisher took %v: it must not block", time.Since(start))
	}
	if !errors.Is(err, ErrSlow) {
		t.Fatalf("slow err = %v, want ErrSlow", err)
	}
	if _, err := slow.Next(context.Background(), nil); !errors.Is(err, ErrSlow) {
		t.Fatalf("slow err after disconnect = %v, want ErrSlow", err)
	}
	st := h.Stream("s").Stats()
	if st.DroppedFrames == 0 || st.SlowDisconnects != 1 {
		t.Fatalf("stats dropped=%d slow=%d", st.DroppedFrames, st.SlowDisconnects)
	}
	time.Sleep(50 * time.Millisecond)
	cancel()
	wg.Wait()
	if want := 7 + 4*20*4; got < want {
		t.Fatalf("fast subscriber got %d frames, want at least %d", got, want)
	}
}

func TestReconnectWithinGrace(t *testing.T) {
	h := testHub(t, Config{ReconnectGrace: time.Second})
	var mu sync.Mutex
	var events []string
	h.OnEvent(func(e Event) {
		mu.Lock()
		defer mu.Unlock()
		s := e.Type.String()
		if e.Resumed {
			s += "(resumed)"
		}
		events = append(events, s)
	})
	p, _ := h.Publish("s", PublisherInfo{})
	dts := publishGOPs(t, p, 1000, 1, true)
	sub, _ := h.Subscribe("s", "flv")
	defer sub.Close()
	first := next(t, sub)
	p.Close(nil)

	p2, err := h.Publish("s", PublisherInfo{})
	if err != nil {
		t.Fatal(err)
	}
	publishGOPs(t, p2, 0, 1, true) // the new publisher's clock restarts at 0
	fs := next(t, sub)
	if got := kinds(fs); got != "MVAKaii" {
		t.Fatalf("after reconnect %q", got)
	}
	last := first[len(first)-1].Packet.DTS
	for _, f := range fs {
		if f.Packet.DTS < last {
			t.Fatalf("timestamp went back: %d after %d", f.Packet.DTS, last)
		}
		if f.Epoch != 2 {
			t.Fatalf("epoch %d, want 2", f.Epoch)
		}
		last = f.Packet.DTS
	}
	_ = dts
	mu.Lock()
	defer mu.Unlock()
	want := []string{"published", "unpublished", "published(resumed)"}
	if len(events) != len(want) {
		t.Fatalf("events %v, want %v", events, want)
	}
	for i := range want {
		if events[i] != want[i] {
			t.Fatalf("events %v, want %v", events, want)
		}
	}
}

func TestEndAfterGrace(t *testing.T) {
	h := testHub(t, Config{ReconnectGrace: 100 * time.Millisecond})
	ended := make(chan Event, 1)
	h.OnEvent(func(e Event) {
		if e.Type == EventEnded {
			ended <- e
		}
	})
	p, _ := h.Publish("s", PublisherInfo{})
	publishGOPs(t, p, 0, 2, true)
	sub, _ := h.Subscribe("s", "flv")
	defer sub.Close()
	p.Close(nil)
	// The viewer first drains what was queued, then learns the end.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	var err error
	n := 0
	for err == nil {
		var fs []*Frame
		fs, err = sub.Next(ctx, nil)
		n += len(fs)
	}
	if !errors.Is(err, ErrEnded) || n == 0 {
		t.Fatalf("err = %v after %d frames, want ErrEnded after some frames", err, n)
	}
	select {
	case e := <-ended:
		if e.Stream != "s" {
			t.Fatalf("ended event for %q", e.Stream)
		}
	case <-time.After(time.Second):
		t.Fatal("no ended event")
	}
	if h.Stream("s") != nil {
		t.Fatal("stream still registered")
	}
	if _, err := h.Publish("s", PublisherInfo{}); err != nil {
		t.Fatalf("publish after end: %v", err)
	}
}

func TestKick(t *testing.T) {
	h := testHub(t, Config{})
	p, _ := h.Publish("s", PublisherInfo{})
	if err := h.Kick("s"); err != nil {
		t.Fatal(err)
	}
	if err := p.Write(pkt(t, media.TagVideo, 0, key)); !errors.Is(err, ErrKicked) {
		t.Fatalf("write after kick: %v", err)
	}
	if err := h.Kick("s"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second kick: %v", err)
	}
}

func TestEnd(t *testing.T) {
	h := testHub(t, Config{ReconnectGrace: time.Hour})
	p, _ := h.Publish("s", PublisherInfo{})
	p.Close(nil) // waiting for the publisher to come back
	sub, err := h.Subscribe("s", "flv")
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	if err := h.End("s"); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := sub.Next(ctx, nil); !errors.Is(err, ErrEnded) {
		t.Fatalf("viewer after End: %v, want ErrEnded", err)
	}
	if h.Stream("s") != nil {
		t.Error("ended stream still registered")
	}
	if err := h.End("s"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second End: %v", err)
	}
}

func TestTimestampRebase(t *testing.T) {
	tests := []struct {
		name string
		in   []int64 // video DTS in
		want []int64
	}{
		{"monotonic kept", []int64{0, 40, 80}, []int64{0, 40, 80}},
		{"small step back clamped", []int64{0, 40, 30, 80}, []int64{0, 40, 40, 80}},
		{"clock restart rebased", []int64{5000, 5040, 0, 40}, []int64{5000, 5040, 5040, 5080}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := testHub(t, Config{})
			p, _ := h.Publish("s", PublisherInfo{})
			for i, d := range tt.in {
				q := pkt(t, media.TagVideo, d, inter)
				if err := p.Write(q); err != nil {
					t.Fatal(err)
				}
				if q.DTS != tt.want[i] {
					t.Fatalf("packet %d: dts %d, want %d", i, q.DTS, tt.want[i])
				}
			}
		})
	}
}

func TestStats(t *testing.T) {
	h := testHub(t, Config{})
	p, _ := h.Publish("s", PublisherInfo{Protocol: "rtmp", RemoteAddr: "1.2.3.4:5"})
	publishGOPs(t, p, 0, 1, true)
	sub, _ := h.Subscribe("s", "rtmp")
	defer sub.Close()
	h.Stream("s").SetViewers("hls", 2)
	st := h.Stream("s").Stats()
	if !st.Live || st.Viewers != 3 || st.ViewersByProtocol["rtmp"] != 1 || st.ViewersByProtocol["hls"] != 2 {
		t.Fatalf("stats %+v", st)
	}
	if st.Video == nil || st.Video.Codec != "H264" || st.Audio == nil || st.Audio.SampleRate != 44100 || st.Audio.Channels != 2 {
		t.Fatalf("tracks %+v %+v", st.Video, st.Audio)
	}
	sub.Close()
	if st := h.Stream("s").Stats(); st.Viewers != 2 {
		t.Fatalf("viewers after close = %d", st.Viewers)
	}
}

// A new viewer of a GOP longer than its queue starts at the keyframe
// without counting a drop.
func TestLongGOPJoinIsNotADrop(t *testing.T) {
	h := testHub(t, Config{QueueFrames: 10})
	p, _ := h.Publish("s", PublisherInfo{})
	dts := publishGOPs(t, p, 0, 1, true)
	for range 20 {
		write(t, p, media.TagVideo, dts, inter)
		dts += 40
	}
	sub, _ := h.Subscribe("s", "flv")
	defer sub.Close()
	if got := kinds(next(t, sub)); got[:4] != "MVAK" || len(got) != 27 {
		t.Fatalf("first frames %q", got)
	}
	if st := h.Stream("s").Stats(); st.DroppedFrames != 0 {
		t.Fatalf("dropped %d", st.DroppedFrames)
	}
}

func TestLatencyHistogram(t *testing.T) {
	var h latencyHistogram
	for range 98 {
		h.observe(4 * time.Millisecond)
	}
	h.observe(45 * time.Millisecond)
	h.observe(10 * time.Second)
	st := h.stats()
	if st.Frames != 100 || st.P50MS != 5 || st.P99MS != 50 || st.Buckets[len(st.Buckets)-1].Count != 100 || st.Buckets[len(st.Buckets)-1].LE != -1 {
		t.Fatalf("%+v", st)
	}
}

// Live frames delivered through Pump are counted in the latency histogram;
// the cached GOP a viewer starts with is not.
func TestPumpRecordsLatency(t *testing.T) {
	h := testHub(t, Config{FlushInterval: -1})
	p, _ := h.Publish("s", PublisherInfo{})
	dts := publishGOPs(t, p, 0, 1, true)
	sub, _ := h.Subscribe("s", "flv")
	ctx, cancel := context.WithCancel(context.Background())
	w := &countingBatch{limit: 2, cancel: cancel}
	done := make(chan error)
	go func() { done <- sub.Pump(ctx, w, FormatFLV, encodeCopy, nil) }()
	for w.calls.Load() < 1 {
		time.Sleep(time.Millisecond)
	}
	publishGOPs(t, p, dts, 1, false)
	<-done
	if st := h.Stream("s").Stats().DeliveryLatency; st.Frames == 0 || st.Frames > 4 {
		t.Fatalf("latency %+v", st)
	}
}

type countingBatch struct {
	calls  atomic.Int32
	limit  int32
	cancel func()
}

func (c *countingBatch) WriteBatch(b [][]byte) (int, error) {
	if c.calls.Add(1) >= c.limit {
		c.cancel()
	}
	return 0, nil
}

// The first packet after a quiet interval wakes viewers at once; packets
// right after it are coalesced into one wake-up at the end of the interval.
func TestFlushLeadingEdge(t *testing.T) {
	h := testHub(t, Config{FlushInterval: 200 * time.Millisecond})
	p, _ := h.Publish("s", PublisherInfo{})
	sub, _ := h.Subscribe("s", "flv")
	defer sub.Close()
	write(t, p, media.TagAudio, 0, aacRaw)
	start := time.Now()
	if fs := next(t, sub); len(fs) != 1 {
		t.Fatalf("got %d frames", len(fs))
	}
	if d := time.Since(start); d > 100*time.Millisecond {
		t.Fatalf("isolated packet delayed %v", d)
	}
	got := make(chan []*Frame, 1)
	go func() {
		fs, _ := sub.Next(context.Background(), nil)
		got <- fs
	}()
	time.Sleep(50 * time.Millisecond) // let the viewer wait
	write(t, p, media.TagAudio, 20, aacRaw)
	write(t, p, media.TagAudio, 40, aacRaw)
	fs := <-got
	if len(fs) != 2 {
		t.Fatalf("coalesced batch has %d frames, want 2", len(fs))
	}
	if d := time.Since(start); d < 150*time.Millisecond {
		t.Fatalf("second wake-up after %v, before the interval", d)
	}
}

// A batch wakes a waiting viewer once, with all its packets: none of them
// waits for the next flush interval.
func TestWriteBatch(t *testing.T) {
	h := testHub(t, Config{FlushInterval: time.Hour})
	p, _ := h.Publish("s", PublisherInfo{})
	sub, _ := h.Subscribe("s", "flv")
	defer sub.Close()
	batch := func(dts ...int64) []*media.Packet {
		var out []*media.Packet
		for _, d := range dts {
			out = append(out, pkt(t, media.TagAudio, d, aacRaw))
		}
		return out
	}
	if err := p.WriteBatch(batch(0, 20, 40)); err != nil {
		t.Fatal(err)
	}
	if fs := next(t, sub); len(fs) != 3 {
		t.Fatalf("first batch: %d frames in one wake-up, want 3", len(fs))
	}
	if err := p.WriteBatch(nil); err != nil {
		t.Fatal(err)
	}
	p.Close(ErrKicked)
	if err := p.WriteBatch(batch(60)); err == nil {
		t.Fatal("WriteBatch after Close succeeded")
	}
}

// H.265 passes through in both FLV forms used in the wild: the legacy codec
// id 12 and Enhanced RTMP's hvc1. New viewers start at its keyframes too.
func TestHEVCPassThrough(t *testing.T) {
	tests := []struct {
		name           string
		seq, key, next []byte
	}{
		{"legacy id 12", []byte{0x1c, 0, 0, 0, 0, 1}, []byte{0x1c, 1, 0, 0, 0, 0, 0, 0, 1, 0x26}, []byte{0x2c, 1, 0, 0, 0, 0, 0, 0, 1, 0x02}},
		{"enhanced hvc1", []byte{0x90, 'h', 'v', 'c', '1', 1}, []byte{0x91, 'h', 'v', 'c', '1', 0, 0, 0, 0, 0, 0, 1, 0x26}, []byte{0xa3, 'h', 'v', 'c', '1', 0, 0, 0, 1, 0x02}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := testHub(t, Config{})
			p, _ := h.Publish("s", PublisherInfo{})
			write(t, p, media.TagVideo, 0, tt.seq)
			write(t, p, media.TagVideo, 0, tt.key)
			write(t, p, media.TagVideo, 40, tt.next)
			write(t, p, media.TagVideo, 80, tt.key)
			write(t, p, media.TagVideo, 120, tt.next)
			sub, _ := h.Subscribe("s", "flv")
			defer sub.Close()
			fs := next(t, sub)
			if len(fs) != 3 || string(fs[0].Packet.Data) != string(tt.seq) || fs[1].Packet.DTS != 80 || fs[1].Packet.Codec != media.CodecH265 {
				t.Fatalf("got %d frames: %+v", len(fs), fs[0].Packet)
			}
			if st := h.Stream("s").Stats(); st.Video == nil || st.Video.Codec != "H265" {
				t.Fatalf("video stats %+v", st.Video)
			}
		})
	}
}

// The ring keeps the GOP and a viewer's queue worth of frames, not more.
func TestRingReleasesOldFrames(t *testing.T) {
	h := testHub(t, Config{QueueFrames: 16})
	p, _ := h.Publish("s", PublisherInfo{})
	dts := publishGOPs(t, p, 0, 50, true)
	s := h.Stream("s")
	held := 0
	for i := range s.ring {
		if s.ring[i].Load() != nil {
			held++
		}
	}
	// The last GOP (4 frames) is within the last 16 frames.
	if held != 16 {
		t.Fatalf("ring holds %d frames, want 16", held)
	}
	// A long GOP is kept whole for new viewers.
	for range 40 {
		write(t, p, media.TagVideo, dts, inter)
		dts += 40
	}
	held = 0
	for i := range s.ring {
		if s.ring[i].Load() != nil {
			held++
		}
	}
	if held != 44 {
		t.Fatalf("ring holds %d frames, want the 44-frame GOP", held)
	}
	sub, _ := h.Subscribe("s", "flv")
	defer sub.Close()
	if got := kinds(next(t, sub)); len(got) != 44+3 || got[:4] != "MVAK" {
		t.Fatalf("new viewer got %q", got)
	}
}

// A pumping viewer stops on its context (ctx.Err) and on Close (ErrEnded)
// while it waits, and the stream's end (ErrEnded) after the frames queued.
func TestPumpStops(t *testing.T) {
	h := testHub(t, Config{FlushInterval: -1, ReconnectGrace: -1})
	p, _ := h.Publish("s", PublisherInfo{})
	publishGOPs(t, p, 0, 1, true)
	start := func(ctx context.Context) (*Subscriber, *countingBatch, chan error) {
		sub, err := h.Subscribe("s", "flv")
		if err != nil {
			t.Fatal(err)
		}
		w := &countingBatch{limit: 1 << 30, cancel: func() {}}
		done := make(chan error, 1)
		go func() { done <- sub.Pump(ctx, w, FormatFLV, encodeCopy, nil) }()
		for w.calls.Load() < 1 { // the GOP went out; now it waits
			time.Sleep(time.Millisecond)
		}
		return sub, w, done
	}
	wait := func(done chan error) error {
		select {
		case err := <-done:
			return err
		case <-time.After(5 * time.Second):
			t.Fatal("Pump did not return")
			return nil
		}
	}

	ctx, cancel := context.WithCancel(context.Background())
	sub1, _, done1 := start(ctx)
	defer sub1.Close()
	cancel()
	if err := wait(done1); !errors.Is(err, context.Canceled) {
		t.Fatalf("Pump after its context ended: %v", err)
	}

	sub2, _, done2 := start(context.Background())
	sub2.Close()
	if err := wait(done2); !errors.Is(err, ErrEnded) {
		t.Fatalf("Pump after Close: %v", err)
	}

	sub3, w3, done3 := start(context.Background())
	defer sub3.Close()
	before := w3.calls.Load()
	write(t, p, media.TagAudio, 5000, aacRaw)
	p.Close(nil) // no grace: the stream ends
	if err := wait(done3); !errors.Is(err, ErrEnded) {
		t.Fatalf("Pump after the stream ended: %v", err)
	}
	if w3.calls.Load() == before {
		t.Fatal("the frame written before the end was not delivered")
	}
}

// Many viewers pumping while a publisher writes fast, with coalesced
// wake-ups: no wake-up is lost (every viewer gets every frame and sees the
// end), whether a viewer waits, is woken or is busy when a frame comes.
func TestNoLostWakeUps(t *testing.T) {
	for _, interval := range []time.Duration{-1, time.Millisecond} {
		t.Run(fmt.Sprint(interval), func(t *testing.T) {
			h := testHub(t, Config{FlushInterval: interval, ReconnectGrace: -1, QueueFrames: 1 << 14, QueueBytes: 1 << 30})
			p, _ := h.Publish("s", PublisherInfo{})
			const viewers, frames = 40, 3000
			write(t, p, media.TagVideo, 0, key)
			var wg sync.WaitGroup
			counts := make([]atomic.Int64, viewers)
			errs := make([]error, viewers)
			for i := range viewers {
				sub, err := h.Subscribe("s", "flv")
				if err != nil {
					t.Fatal(err)
				}
				wg.Add(1)
				go func() {
					defer wg.Done()
					defer sub.Close()
					errs[i] = sub.Pump(context.Background(), batchFunc(func(b [][]byte) {
						counts[i].Add(int64(len(b)))
						if i%4 == 0 {
							time.Sleep(time.Duration(i%3) * 100 * time.Microsecond) // a busy viewer
						}
					}), FormatFLV, encodeCopy, nil)
				}()
			}
			for i := 1; i < frames; i++ {
				write(t, p, media.TagVideo, int64(i), inter)
				if i%200 == 0 {
					time.Sleep(time.Millisecond) // let viewers wait again
				}
			}
			p.Close(nil)
			done := make(chan struct{})
			go func() { wg.Wait(); close(done) }()
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				t.Fatal("viewers did not all see the end: a wake-up was lost")
			}
			for i := range viewers {
				if !errors.Is(errs[i], ErrEnded) || counts[i].Load() != frames {
					t.Fatalf("viewer %d: %d of %d frames, %v", i, counts[i].Load(), frames, errs[i])
				}
			}
		})
	}
}

// batchFunc is a BatchWriter calling f.
type batchFunc func([][]byte)

func (f batchFunc) WriteBatch(b [][]byte) (int, error) {
	f(b)
	return 0, nil
}

// TestReconnect replaces a publisher at once: the stream never ends (even
// without a reconnect grace), viewers see a new epoch, and timestamps go
// on.
func TestReconnect(t *testing.T) {
	h := New(Config{ReconnectGrace: -1, FlushInterval: -1}, slog.New(slog.DiscardHandler))
	defer h.Close()
	var events []Event
	var mu sync.Mutex
	h.OnEvent(func(e Event) { mu.Lock(); events = append(events, e); mu.Unlock() })
	p, err := h.Publish("s", PublisherInfo{Protocol: "a"})
	if err != nil {
		t.Fatal(err)
	}
	sub, err := h.Subscribe("s", "flv")
	if err != nil {
		t.Fatal(err)
	}
	write := func(p *Publisher, dts int64) {
		t.Helper()
		pkt, _ := media.NewPacket(media.TagAudio, dts, []byte{0xaf, 1, 0})
		if err := p.Write(pkt); err != nil {
			t.Fatal(err)
		}
	}
	write(p, 1000)
	np, err := p.Reconnect(PublisherInfo{Protocol: "b"})
	if err != nil {
		t.Fatal(err)
	}
	if p.Write(&media.Packet{Type: media.TagAudio, Data: []byte{0xaf, 1}}) == nil {
		t.Error("the old publisher still writes")
	}
	if _, err := p.Reconnect(PublisherInfo{}); err == nil {
		t.Error("a replaced publisher reconnects again")
	}
	write(np, 5) // a new clock: continues after 1000
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var frames []*Frame
	for len(frames) < 2 {
		fs, err := sub.Next(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		frames = append(frames, fs...)
	}
	if frames[0].Epoch == frames[1].Epoch || frames[1].Packet.DTS <= frames[0].Packet.DTS {
		t.Errorf("frames %d@%d then %d@%d: want a new epoch and later timestamps", frames[0].Packet.DTS, frames[0].Epoch, frames[1].Packet.DTS, frames[1].Epoch)
	}
	if s := h.Stream("s"); s == nil || !s.Live() {
		t.Error("the stream ended or lost its publisher")
	}
	mu.Lock()
	defer mu.Unlock()
	if len(events) != 3 || events[1].Type != EventUnpublished || events[2].Type != EventPublished || !events[2].Resumed {
		t.Errorf("events %+v", events)
	}
}
