package hub

import (
	"sync"
	"sync/atomic"
	"time"

	"roomcast/internal/media"
)

// ringSize is the number of frames a stream keeps. It holds the GOP cache
// and every viewer's backlog; it must be a power of two and at least
// GOPMaxFrames + QueueFrames.
const minRingSize = 1024

// initSet is the codec configuration and metadata in effect at a keyframe;
// a viewer that starts or resumes at that keyframe is sent these first.
// An initSet is immutable; a change makes a new one.
type initSet struct {
	meta, video, audio *Frame
}

// Stream is one stream name: its publisher, codec configuration, GOP cache
// and the shared ring of frames that subscribers read with cursors.
//
// The publisher appends frames under mu; subscribers read the ring without
// locks, validating each slot's sequence number.
type Stream struct {
	hub  *Hub
	name string
	cfg  Config
	mask uint64
	ring []atomic.Pointer[Frame]

	head  atomic.Uint64 // seq of the newest frame; 0 before the first
	ended atomic.Bool
	done  chan struct{}

	// Subscribers waiting for frames register in waiters; broadcast wakes
	// each through its own channel, so that a waiting viewer blocks on one
	// channel, not in a select over the stream's and its own.
	waitMu  sync.Mutex
	waiters []*Subscriber
	// bcastMu serialises broadcasts; spare (guarded by it) is the other
	// waiters buffer, swapped in by each broadcast.
	bcastMu sync.Mutex
	spare   []*Subscriber

	// Delivery loops (deliver.go), made on the first Deliver.
	loopsMu  sync.Mutex
	loops    []*deliveryLoop
	nextLoop int
	scratch  sync.Pool // *scratch of catch-ups

	flushPending atomic.Bool
	lastFlush    atomic.Int64 // Unix nanoseconds of the last broadcast
	flushTimer   *time.Timer

	bytesOut atomic.Uint64
	dropped  atomic.Uint64
	slow     atomic.Uint64
	latency  latencyHistogram

	mu         sync.Mutex
	pub        *Publisher
	epoch      uint32
	bytesIn    uint64
	maxDTS     int64 // newest DTS over all tracks
	init       *initSet
	hasVideo   bool
	gopStart   uint64 // seq of the cached GOP's keyframe; 0: no GOP cached
	released   uint64 // ring slots up to this seq have been cleared
	gopFrames  int
	gopBytes   int
	viewers    map[string]int
	external   map[string]int
	graceTimer *time.Timer
	created    time.Time
	info       trackInfo
	rate       rateMeter
}

func newStream(h *Hub, name string) *Stream {
	size := uint64(minRingSize)
	for size < uint64(h.cfg.GOPMaxFrames+h.cfg.QueueFrames) {
		size <<= 1
	}
	s := &Stream{
		hub:      h,
		name:     name,
		cfg:      h.cfg,
		mask:     size - 1,
		ring:     make([]atomic.Pointer[Frame], size),
		done:     make(chan struct{}),
		init:     &initSet{},
		viewers:  make(map[string]int),
		external: make(map[string]int),
		created:  time.Now(),
	}
	s.flushTimer = time.AfterFunc(time.Hour, s.flush)
	s.flushTimer.Stop()
	return s
}

// Name returns the stream name.
func (s *Stream) Name() string { return s.name }

// Done is closed when the stream has ended.
func (s *Stream) Done() <-chan struct{} { return s.done }

// Live reports whether the stream has a publisher now.
func (s *Stream) Live() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pub != nil
}

// externalLive reports whether the stream has a publisher from outside the
// server (see PublisherInfo.Internal).
func (s *Stream) externalLive() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pub != nil && !s.pub.info.Internal
}

// SetViewers records n viewers of protocol that are not hub subscribers
// (HLS clients share one muxer), for statistics.
func (s *Stream) SetViewers(protocol string, n int) {
	s.mu.Lock()
	s.external[protocol] = n
	s.mu.Unlock()
}

// AddBytesOut counts n bytes sent to viewers, for statistics.
func (s *Stream) AddBytesOut(n int) { s.bytesOut.Add(uint64(n)) }

// attach makes a new publisher of s.
func (s *Stream) attach(info PublisherInfo) (*Publisher, []Event, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ended.Load() {
		return nil, nil, errRetry
	}
	var events []Event
	now := time.Now()
	if old := s.pub; old != nil {
		if !s.cfg.Takeover {
			return nil, nil, ErrStreamBusy
		}
		events = append(events, s.detachLocked(old, ErrTakenOver, now))
	}
	if s.graceTimer != nil {
		s.graceTimer.Stop()
		s.graceTimer = nil
	}
	resumed := s.epoch > 0
	s.epoch++
	p := &Publisher{stream: s, info: info, epoch: s.epoch, since: now, base: s.nextDTS()}
	s.pub = p
	s.rate.reset(now)
	events = append(events, Event{Type: EventPublished, Stream: s.name, Time: now, Publisher: info, Resumed: resumed})
	return p, events, nil
}

// nextDTS is where a resumed publisher's timestamps continue: after the
// newest packet of any track. mu held.
func (s *Stream) nextDTS() int64 {
	if s.head.Load() == 0 {
		return 0
	}
	return s.maxDTS + 1
}

// detachLocked removes p as publisher and starts the reconnect grace.
// mu must be held.
func (s *Stream) detachLocked(p *Publisher, reason error, now time.Time) Event {
	p.stop(reason)
	s.pub = nil
	if s.cfg.ReconnectGrace > 0 {
		s.graceTimer = time.AfterFunc(s.cfg.ReconnectGrace, s.graceExpired)
	}
	return Event{
		Type: EventUnpublished, Stream: s.name, Time: now, Publisher: p.info,
		Duration: now.Sub(p.since), Bytes: p.bytes.Load(), Reason: reasonText(reason),
	}
}

func reasonText(err error) string {
	if err == nil {
		return "closed"
	}
	return err.Error()
}

// detach is called when publisher p goes away.
func (s *Stream) detach(p *Publisher, reason error) {
	s.mu.Lock()
	if s.pub != p {
		s.mu.Unlock()
		return
	}
	ev := s.detachLocked(p, reason, time.Now())
	endNow := s.cfg.ReconnectGrace == 0
	s.mu.Unlock()
	s.hub.emit(ev)
	if endNow {
		s.end()
	}
}

func (s *Stream) kick() bool {
	s.mu.Lock()
	p := s.pub
	s.mu.Unlock()
	if p == nil {
		return false
	}
	s.detach(p, ErrKicked)
	return true
}

func (s *Stream) graceExpired() {
	s.mu.Lock()
	expired := s.pub == nil
	s.mu.Unlock()
	if expired {
		s.end()
	}
}

// end finishes the stream: no more publishers, viewers drain and stop.
func (s *Stream) end() {
	s.mu.Lock()
	if s.ended.Load() {
		s.mu.Unlock()
		return
	}
	s.ended.Store(true)
	var evs []Event
	now := time.Now()
	if p := s.pub; p != nil {
		evs = append(evs, s.detachLocked(p, ErrEnded, now))
	}
	if s.graceTimer != nil {
		s.graceTimer.Stop()
	}
	evs = append(evs, Event{Type: EventEnded, Stream: s.name, Time: now, Duration: now.Sub(s.created), Bytes: s.bytesIn})
	s.mu.Unlock()
	s.hub.remove(s)
	close(s.done)
	s.flushTimer.Stop()
	s.broadcast()
	for _, e := range evs {
		s.hub.emit(e)
	}
}

// append adds a packet from publisher p. It never blocks on viewers.
func (s *Stream) append(p *Publisher, pkt *media.Packet) error {
	now := time.Now()
	if err := s.add(p, pkt, now); err != nil {
		return err
	}
	s.scheduleFlush(now)
	return nil
}

// add adds a packet from publisher p without waking viewers.
func (s *Stream) add(p *Publisher, pkt *media.Packet, now time.Time) error {
	s.mu.Lock()
	if s.pub != p {
		s.mu.Unlock()
		return p.err()
	}
	seq := s.head.Load() + 1
	n := len(pkt.Data)
	s.bytesIn += uint64(n)
	f := &Frame{Packet: pkt, Epoch: p.epoch, seq: seq, end: s.bytesIn, arrival: now.UnixNano()}
	s.maxDTS = max(s.maxDTS, pkt.DTS)
	s.track(f)
	s.rate.add(now, pkt, s.bytesOut.Load())
	s.ring[seq&s.mask].Store(f)
	s.head.Store(seq)
	s.release(seq)
	s.mu.Unlock()
	return nil
}

// scheduleFlush wakes viewers for a new packet: at once if none were woken
// within the flush interval, else when the interval since the last wake-up
// is over. So an isolated packet goes out without delay, and a viewer is
// woken at most once per interval however many packets arrive.
func (s *Stream) scheduleFlush(now time.Time) {
	interval := s.cfg.FlushInterval
	if interval == 0 {
		s.broadcast()
		return
	}
	if s.flushPending.Load() {
		return
	}
	since := time.Duration(now.UnixNano() - s.lastFlush.Load())
	if since >= interval {
		s.lastFlush.Store(now.UnixNano())
		s.broadcast()
		return
	}
	if !s.flushPending.Swap(true) {
		s.flushTimer.Reset(interval - since)
	}
}

// track updates the codec configuration and GOP cache for a new frame.
// mu must be held.
func (s *Stream) track(f *Frame) {
	pkt := f.Packet
	switch {
	case pkt.Type == media.TagScript:
		if isMetadata(pkt.Data) {
			s.init = &initSet{meta: f, video: s.init.video, audio: s.init.audio}
		}
	case pkt.SeqHeader && pkt.Type == media.TagVideo:
		s.hasVideo = true
		s.init = &initSet{meta: s.init.meta, video: f, audio: s.init.audio}
		s.info.videoConfig(pkt)
	case pkt.SeqHeader && pkt.Type == media.TagAudio:
		s.init = &initSet{meta: s.init.meta, video: s.init.video, audio: f}
		s.info.audioConfig(pkt)
	case pkt.Type == media.TagVideo && pkt.Keyframe:
		s.hasVideo = true
		f.init = s.init
		s.gopStart, s.gopFrames, s.gopBytes = f.seq, 1, len(pkt.Data)
		return
	}
	if s.gopStart == 0 {
		return
	}
	s.gopFrames++
	s.gopBytes += len(pkt.Data)
	if s.gopFrames > s.cfg.GOPMaxFrames || s.gopBytes > s.cfg.GOPMaxBytes {
		s.gopStart = 0
	}
}

// release clears ring slots that no viewer may need any more: older than
// both the cached GOP and the backlog a viewer may have (QueueFrames), so
// that a stream holds a few seconds of frames, not a whole ring. A viewer
// whose cursor points at a cleared slot lags beyond its queue and drops to
// the next keyframe anyway. mu must be held.
func (s *Stream) release(head uint64) {
	keep := uint64(1)
	if q := uint64(s.cfg.QueueFrames); head > q {
		keep = head - q + 1
	}
	if s.gopStart != 0 && s.gopStart < keep {
		keep = s.gopStart
	}
	for ; s.released+1 < keep; s.released++ {
		slot := &s.ring[(s.released+1)&s.mask]
		if f := slot.Load(); f != nil && f.seq == s.released+1 {
			slot.CompareAndSwap(f, nil)
		}
	}
}

// isMetadata reports whether a script tag body is onMetaData (possibly
// wrapped in @setDataFrame by the publisher; callers strip that).
func isMetadata(b []byte) bool {
	const name = "onMetaData"
	return len(b) >= 3+len(name) && b[0] == 2 && string(b[3:3+len(name)]) == name
}

func (s *Stream) flush() {
	s.lastFlush.Store(time.Now().UnixNano())
	s.flushPending.Store(false)
	s.broadcast()
}

// broadcast wakes every waiting subscriber.
func (s *Stream) broadcast() {
	s.bcastMu.Lock()
	defer s.bcastMu.Unlock()
	s.waitMu.Lock()
	ws := s.waiters
	s.waiters = s.spare[:0]
	s.waitMu.Unlock()
	for _, sub := range ws {
		sub.wakeUp()
	}
	clear(ws)
	s.spare = ws
	s.kickLoops()
}

// await registers sub to be woken by the next broadcast. mu is not held.
func (s *Stream) await(sub *Subscriber) {
	s.waitMu.Lock()
	s.waiters = append(s.waiters, sub)
	s.waitMu.Unlock()
}

// unawait drops a closed subscriber's registrations, so that a stream
// without broadcasts (a silent publisher) does not keep its viewers that
// left.
func (s *Stream) unawait(sub *Subscriber) {
	s.waitMu.Lock()
	defer s.waitMu.Unlock()
	for i := 0; i < len(s.waiters); {
		if s.waiters[i] == sub {
			last := len(s.waiters) - 1
			s.waiters[i] = s.waiters[last]
			s.waiters[last] = nil
			s.waiters = s.waiters[:last]
			continue
		}
		i++
	}
}

// startPosition tells a new or lagging subscriber where to continue.
func (s *Stream) startPosition() (cursor uint64, waitKey bool, init *initSet) {
	s.mu.Lock()
	defer s.mu.Unlock()
	head := s.head.Load()
	switch {
	case s.gopStart != 0:
		return s.gopStart, true, nil
	case s.hasVideo:
		return head + 1, true, nil
	default:
		return head + 1, false, s.init
	}
}
