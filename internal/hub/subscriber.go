package hub

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"roomcast/internal/media"
)

// maxBatch bounds how many frames one Next call returns, so that a new
// viewer's GOP goes out in a few large writes rather than one huge one.
const maxBatch = 512

// Subscriber is one reader of a stream: a cursor into the stream's shared
// ring. Its methods are called from one goroutine, except Close.
type Subscriber struct {
	stream   *Stream
	protocol string
	joined   int64 // Unix nanoseconds; frames that arrived later are live

	cursor  uint64 // next seq to deliver
	waitKey bool   // skip until a video keyframe
	pending *initSet
	sentEnd uint64 // Frame.end of the last delivered frame
	sent    initSet
	drops   []time.Time
	err     error // sticky: once slow, always slow

	closeOnce sync.Once
	closed    atomic.Bool // Close was called
	// wake (capacity 1) is signalled by the stream's broadcasts, by Close
	// and by the end of a Pump's context: a pumping viewer waits on this
	// one channel alone.
	wake chan struct{}
	// dl is set when the subscriber is delivered by its stream's delivery
	// loop (Deliver).
	dl atomic.Pointer[deliverer]
}

func (s *Stream) subscribe(protocol string) (*Subscriber, error) {
	s.mu.Lock()
	if protocol != "" && s.cfg.MaxViewersPerStream > 0 && s.viewerCountLocked() >= s.cfg.MaxViewersPerStream {
		s.mu.Unlock()
		s.cfg.refused("max-viewers-per-stream")
		return nil, ErrTooManyViewers
	}
	if s.ended.Load() {
		s.mu.Unlock()
		return nil, ErrNotFound
	}
	if protocol != "" {
		s.viewers[protocol]++
		s.hub.viewers.Add(1)
	}
	s.mu.Unlock()
	sub := &Subscriber{stream: s, protocol: protocol, joined: time.Now().UnixNano(), wake: make(chan struct{}, 1)}
	sub.reposition()
	return sub, nil
}

// Stream returns the stream being read.
func (sub *Subscriber) Stream() *Stream { return sub.stream }

// Close removes the subscriber. It is safe to call more than once and from
// any goroutine; a blocked Next returns.
func (sub *Subscriber) Close() {
	sub.closeOnce.Do(func() {
		sub.closed.Store(true)
		sub.wakeUp()
		if dl := sub.dl.Load(); dl != nil {
			dl.loop.wake()
		}
		sub.stream.unawait(sub)
		if sub.protocol == "" {
			return
		}
		s := sub.stream
		s.mu.Lock()
		s.viewers[sub.protocol]--
		if s.viewers[sub.protocol] <= 0 {
			delete(s.viewers, sub.protocol)
		}
		s.mu.Unlock()
		s.hub.viewers.Add(-1)
	})
}

// Next waits for frames and appends them to dst[:0]. The first frames a
// subscriber gets start at a keyframe, preceded by the metadata and codec
// configuration in effect there. When the subscriber lags beyond its queue
// bounds, frames are dropped up to the next keyframe; after too many drops
// Next returns ErrSlow. After the stream ends and every frame was delivered,
// Next returns ErrEnded. Frames are coalesced: Next returns at most once per
// flush interval of the stream, with everything pending. When ctx ends,
// Next still returns the frames pending at that moment; it returns ctx's
// error only when none are left.
func (sub *Subscriber) Next(ctx context.Context, dst []*Frame) ([]*Frame, error) {
	return sub.next(ctx, dst, false)
}

// wakeUp makes a waiting (or the next) Next look again. It never blocks.
func (sub *Subscriber) wakeUp() {
	select {
	case sub.wake <- struct{}{}:
	default: // a wake-up is already pending
	}
}

// isClosed reports whether Close was called.
func (sub *Subscriber) isClosed() bool { return sub.closed.Load() }

// next is Next. With pumping set, the caller (Pump) has arranged for the
// end of ctx to call wakeUp, and next waits on sub.wake alone.
func (sub *Subscriber) next(ctx context.Context, dst []*Frame, pumping bool) ([]*Frame, error) {
	s := sub.stream
	if sub.err != nil {
		return nil, sub.err
	}
	for {
		ended := s.ended.Load()
		out, err := sub.collect(dst[:0])
		if err != nil || len(out) > 0 {
			return out, err
		}
		if ended || sub.isClosed() {
			return nil, ErrEnded
		}
		// Frames that arrived with the cancellation went out above: a
		// caller that cancels to learn "all delivered" gets that.
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		s.await(sub)
		// A frame or the end that came before the registration was
		// broadcast to the waiters before it: look again. (The stale
		// registration costs at most one spurious wake-up.)
		if s.head.Load() >= sub.cursor || s.ended.Load() {
			continue
		}
		if pumping {
			<-sub.wake
			continue
		}
		select {
		case <-sub.wake:
		case <-ctx.Done():
		}
	}
}

// reposition moves a new or lagging subscriber to the newest keyframe.
func (sub *Subscriber) reposition() {
	cursor, waitKey, init := sub.stream.startPosition()
	sub.cursor, sub.waitKey, sub.pending = cursor, waitKey, init
	if f := sub.stream.ring[(cursor-1)&sub.stream.mask].Load(); f != nil && f.seq == cursor-1 {
		sub.sentEnd = f.end
	}
}

// collect appends the frames available now.
func (sub *Subscriber) collect(dst []*Frame) ([]*Frame, error) {
	s := sub.stream
	head := s.head.Load()
	if sub.cursor > head {
		return dst, nil
	}
	if err := sub.checkLag(head); err != nil {
		return dst, err
	}
	if sub.pending != nil {
		dst = sub.appendInit(dst, sub.pending)
		sub.pending = nil
	}
	for sub.cursor <= head && len(dst) < maxBatch {
		f := s.ring[sub.cursor&s.mask].Load()
		if f == nil || f.seq != sub.cursor {
			// Overwritten: this subscriber fell a whole ring behind.
			if err := sub.drop(head); err != nil {
				return dst, err
			}
			continue
		}
		sub.cursor++
		pkt := f.Packet
		if sub.waitKey {
			if pkt.Type != media.TagVideo || !pkt.Keyframe || pkt.SeqHeader {
				continue
			}
			sub.waitKey = false
			if f.init != nil {
				dst = sub.appendInit(dst, f.init)
			}
		}
		sub.sentEnd = f.end
		if pkt.SeqHeader || pkt.Type == media.TagScript {
			sub.remember(f)
		}
		dst = append(dst, f)
	}
	return dst, nil
}

// checkLag drops frames when the backlog exceeds the queue bounds.
func (sub *Subscriber) checkLag(head uint64) error {
	s := sub.stream
	if head-sub.cursor+1 <= uint64(s.cfg.QueueFrames) {
		last := s.ring[head&s.mask].Load()
		if last == nil || last.end-sub.sentEnd <= uint64(s.cfg.QueueBytes) {
			return nil
		}
	}
	return sub.drop(head)
}

// drop skips the backlog, counts it, and disconnects a viewer that keeps
// lagging.
func (sub *Subscriber) drop(head uint64) error {
	s := sub.stream
	before, waitKey, pending := sub.cursor, sub.waitKey, sub.pending
	sub.reposition()
	switch {
	case sub.cursor == before:
		// Already at the newest keyframe (a new viewer of a long GOP):
		// nothing to skip.
		sub.waitKey, sub.pending = waitKey, pending
		return nil
	case sub.cursor < before:
		// The newest keyframe is behind us: wait for the next one instead.
		sub.cursor, sub.waitKey = head+1, true
	}
	s.dropped.Add(sub.cursor - before)
	now := time.Now()
	window := now.Add(-s.cfg.SlowWindow)
	kept := sub.drops[:0]
	for _, t := range sub.drops {
		if t.After(window) {
			kept = append(kept, t)
		}
	}
	sub.drops = append(kept, now)
	if len(sub.drops) >= s.cfg.SlowDrops {
		s.slow.Add(1)
		sub.err = ErrSlow
		return ErrSlow
	}
	return nil
}

// appendInit appends the init frames that differ from what was last sent.
func (sub *Subscriber) appendInit(dst []*Frame, in *initSet) []*Frame {
	for _, f := range []*Frame{in.meta, in.video, in.audio} {
		if f != nil && !sub.sentAlready(f) {
			sub.remember(f)
			dst = append(dst, f)
		}
	}
	return dst
}

func (sub *Subscriber) sentAlready(f *Frame) bool {
	return f == sub.sent.meta || f == sub.sent.video || f == sub.sent.audio
}

func (sub *Subscriber) remember(f *Frame) {
	switch {
	case f.Packet.Type == media.TagScript:
		sub.sent.meta = f
	case f.Packet.Type == media.TagVideo:
		sub.sent.video = f
	default:
		sub.sent.audio = f
	}
}
