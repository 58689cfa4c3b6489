package hub

import (
	"errors"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"roomcast/internal/media"
)

// ErrClosed is the reason given to a Delivery's Done when the subscriber
// was closed by its owner.
var ErrClosed = errors.New("hub: subscriber closed")

// DirectWriter is a viewer's connection as a stream's delivery loop sees
// it: a write that never waits, for the loop, and a write that waits (up to
// the connection's time-out), for the viewer's own goroutine when its
// socket is full.
type DirectWriter interface {
	// WriteBatch writes first what an earlier TryWriteBatch kept, then
	// bufs (which may be empty), waiting for the socket.
	BatchWriter
	// TryWriteBatch writes bufs without waiting for the socket and returns
	// how many of their bytes went out. When it returns taken, it wrote all
	// of bufs or kept the rest (the slices, not copies) to send first on
	// the next WriteBatch. When it returns !taken, nothing was written (the
	// connection is busy) and the caller passes bufs to WriteBatch later.
	TryWriteBatch(bufs [][]byte) (n int, taken bool, err error)
}

// Delivery says how a subscriber's frames go to its viewer through the
// stream's delivery loop.
type Delivery struct {
	Writer DirectWriter
	Format Format
	Encode func(*media.Packet) []byte
	// First, if not nil, is called once with the first batch's frames and
	// may return bytes to send before them (a file header).
	First func([]*Frame) []byte
	// Done is called once, in a goroutine of its own, when delivery stops:
	// with ErrEnded (the stream ended and every frame went out), ErrSlow,
	// ErrClosed (Close was called) or the write's error. The hub does not
	// use Writer after it. Done does not close the subscriber.
	Done func(error)
}

// Owners of a delivered subscriber.
const (
	ownedByLoop  int32 = iota // the delivery loop writes to it
	ownedBySelf               // its own goroutine writes (catching up, socket full)
	ownedByNoone              // finished
)

// deliverer is one delivered subscriber.
type deliverer struct {
	sub   *Subscriber
	d     Delivery
	loop  *deliveryLoop
	owner atomic.Int32
	first func([]*Frame) []byte // d.First until the first batch
}

// deliveryLoop writes a share of a stream's delivered viewers from one
// goroutine: on each broadcast it walks them, collects each one's pending
// frames and makes one non-blocking write. It runs while it has viewers.
type deliveryLoop struct {
	s    *Stream
	kick chan struct{} // capacity 1: a pass is due

	mu      sync.Mutex
	viewers []*deliverer
	running bool

	// Used by the loop's goroutine only.
	frames []*Frame
	bufs   [][]byte
	start  int
	seen   uint64 // the stream's head at the last pass
}

// Deliver hands the subscriber to its stream's delivery loop: no goroutine
// waits for frames on its behalf. The frames pending now (the cached GOP
// of a new viewer) are written first, from the calling goroutine, waiting
// for the socket; then Deliver returns and the loop takes over. A viewer
// whose socket fills up gets a goroutine of its own until it has caught up,
// so it never delays the others. d.Done tells when and why delivery
// stopped. Deliver must be called at most once, instead of Next or Pump.
func (sub *Subscriber) Deliver(d Delivery) {
	l := sub.stream.loopFor()
	v := &deliverer{sub: sub, d: d, loop: l, first: d.First}
	v.owner.Store(ownedBySelf)
	sub.dl.Store(v)
	l.attach(v)
	v.catchUp(nil, nil)
}

// loopFor returns the delivery loop of a new viewer: one loop per
// processor, viewers spread over them in turn.
func (s *Stream) loopFor() *deliveryLoop {
	s.loopsMu.Lock()
	defer s.loopsMu.Unlock()
	if s.loops == nil {
		n := max(runtime.GOMAXPROCS(0), 1)
		s.loops = make([]*deliveryLoop, n)
		for i := range s.loops {
			s.loops[i] = &deliveryLoop{s: s, kick: make(chan struct{}, 1)}
		}
	}
	s.nextLoop++
	return s.loops[s.nextLoop%len(s.loops)]
}

// kickLoops makes every delivery loop of s run a pass.
func (s *Stream) kickLoops() {
	s.loopsMu.Lock()
	loops := s.loops
	s.loopsMu.Unlock()
	for _, l := range loops {
		l.wake()
	}
}

// wake makes the loop run a pass. It never blocks.
func (l *deliveryLoop) wake() {
	select {
	case l.kick <- struct{}{}:
	default:
	}
}

// attach adds v to the loop and starts the loop if it is not running.
func (l *deliveryLoop) attach(v *deliverer) {
	l.mu.Lock()
	l.viewers = append(l.viewers, v)
	if !l.running {
		l.running = true
		go l.run()
	}
	l.mu.Unlock()
}

// run makes a pass whenever kicked, until no viewer is left.
func (l *deliveryLoop) run() {
	for {
		<-l.kick
		l.pace()
		l.mu.Lock()
		vs := l.viewers
		l.mu.Unlock()
		more := l.pass(vs)
		l.mu.Lock()
		live := l.viewers[:0]
		for _, v := range l.viewers {
			if v.owner.Load() != ownedByNoone {
				live = append(live, v)
			}
		}
		clear(l.viewers[len(live):])
		l.viewers = live
		if len(live) == 0 {
			l.running = false
			l.frames, l.bufs = nil, nil
			l.mu.Unlock()
			return
		}
		l.mu.Unlock()
		if more {
			l.wake()
		}
	}
}

// pace waits, before a pass, until the oldest frame the last pass did not
// see is FlushInterval old: every frame that arrives within the interval
// goes out in the same write, so that a viewer gets about one write per
// interval (a trailing window, as a minimal server coalesces; the
// broadcasts that wake Pump viewers open the window at its leading edge
// instead, for a lower latency at more writes). The stream's end is never
// delayed.
func (l *deliveryLoop) pace() {
	s := l.s
	interval := s.cfg.FlushInterval
	if interval <= 0 || s.ended.Load() {
		return
	}
	next := l.seen + 1
	f := s.ring[next&s.mask].Load()
	if f == nil || f.seq != next {
		return
	}
	if wait := time.Duration(f.arrival + int64(interval) - time.Now().UnixNano()); wait > 0 {
		time.Sleep(wait)
	}
}

// pass writes to every viewer the loop owns what is pending for it,
// starting at a different viewer each time so that no viewer is always
// last. It reports whether another pass is needed at once (the stream
// ended, or a batch was cut at maxBatch).
func (l *deliveryLoop) pass(vs []*deliverer) (more bool) {
	n := len(vs)
	if n == 0 {
		return false
	}
	ended := l.s.ended.Load()
	l.seen = l.s.head.Load()
	start := l.start % n
	l.start += n/3 + 1
	var out int
	for i := range n {
		v := vs[(start+i)%n]
		if v.owner.Load() != ownedByLoop {
			continue
		}
		m, again := l.serve(v, ended)
		out += m
		more = more || again
	}
	l.s.AddBytesOut(out)
	return more
}

// serve makes one non-blocking write of v's pending frames, and hands v to
// a goroutine of its own if the socket did not take them all. It returns
// the bytes written and whether v has more pending.
func (l *deliveryLoop) serve(v *deliverer, ended bool) (int, bool) {
	sub := v.sub
	if sub.isClosed() {
		v.finish(ErrClosed)
		return 0, false
	}
	frames, err := sub.collect(l.frames[:0])
	l.frames = frames
	if err != nil {
		clear(frames)
		v.finish(err)
		return 0, false
	}
	if len(frames) == 0 {
		if ended {
			v.finish(ErrEnded)
		}
		return 0, false
	}
	bufs := v.encode(l.bufs[:0], frames)
	l.bufs = bufs
	n, taken, err := v.d.Writer.TryWriteBatch(bufs)
	total := 0
	for _, b := range bufs {
		total += len(b)
	}
	switch {
	case err != nil:
		clear(bufs)
		clear(frames)
		v.finish(err)
	case taken && n == total:
		clear(bufs)
		sub.observeLatency(frames)
		clear(frames)
		return n, ended || len(frames) >= maxBatch
	default:
		// The socket is full (or busy): the rest waits in a goroutine of
		// the viewer's own, so that the others go on.
		var rest [][]byte
		if !taken {
			rest = slices.Clone(bufs)
		}
		written := slices.Clone(frames)
		clear(bufs)
		clear(frames)
		v.owner.Store(ownedBySelf)
		go v.catchUp(rest, written)
	}
	return n, false
}

// encode appends the encodings of frames (after the first batch's header)
// to bufs.
func (v *deliverer) encode(bufs [][]byte, frames []*Frame) [][]byte {
	if v.first != nil {
		if h := v.first(frames); len(h) > 0 {
			bufs = append(bufs, h)
		}
		v.first = nil
	}
	for _, f := range frames {
		bufs = append(bufs, f.Bytes(v.d.Format, v.d.Encode))
	}
	return bufs
}

// catchUp runs while v is owned by its own goroutine: it writes rest (or
// what the writer kept), whose frames are sent, then everything pending,
// waiting for the socket, and gives v back to the loop once nothing is
// pending.
func (v *deliverer) catchUp(rest [][]byte, sent []*Frame) {
	sub, s := v.sub, v.sub.stream
	if rest != nil || sent != nil {
		n, err := v.d.Writer.WriteBatch(rest)
		s.AddBytesOut(n)
		clear(rest)
		if err != nil {
			v.finish(err)
			return
		}
		sub.observeLatency(sent)
		clear(sent)
	}
	// A new viewer's catch-up (its GOP) takes long slices: they are
	// reused from viewer to viewer rather than left to the collector.
	sc, _ := s.scratch.Get().(*scratch)
	if sc == nil {
		sc = &scratch{}
	}
	defer s.scratch.Put(sc)
	frames, bufs := sc.frames[:0], sc.bufs[:0]
	defer func() { sc.frames, sc.bufs = frames[:0], bufs[:0] }()
	for {
		ended := s.ended.Load()
		if sub.isClosed() {
			v.finish(ErrClosed)
			return
		}
		var err error
		frames, err = sub.collect(frames[:0])
		if err != nil {
			clear(frames)
			v.finish(err)
			return
		}
		if len(frames) == 0 {
			if ended {
				v.finish(ErrEnded)
				return
			}
			cursor := sub.cursor
			v.owner.Store(ownedByLoop)
			// What came (or a Close) since the collect above is the
			// loop's now: make sure it looks.
			if s.head.Load() >= cursor || s.ended.Load() || sub.isClosed() {
				v.loop.wake()
			}
			return
		}
		bufs = v.encode(bufs[:0], frames)
		n, err := v.d.Writer.WriteBatch(bufs)
		s.AddBytesOut(n)
		clear(bufs)
		if err != nil {
			clear(frames)
			v.finish(err)
			return
		}
		sub.observeLatency(frames)
		clear(frames)
	}
}

// scratch is the slices of a catch-up, pooled per stream.
type scratch struct {
	frames []*Frame
	bufs   [][]byte
}

// finish ends v's delivery once and tells its owner why.
func (v *deliverer) finish(err error) {
	if v.owner.Swap(ownedByNoone) == ownedByNoone {
		return
	}
	v.loop.wake() // drop it from the loop's list
	if v.d.Done != nil {
		go v.d.Done(err)
	}
}
