package hub

import (
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"roomcast/internal/media"
)

// errRetry tells Publish that the stream it found ended meanwhile.
var errRetry = errors.New("hub: stream ended, retry")

// backJump is how far a track's timestamps may step back before the
// publisher is taken to have restarted its clock.
const backJump = 1000 // ms

// Publisher feeds one stream. Its methods are called from the one goroutine
// that reads from the publishing client.
type Publisher struct {
	stream *Stream
	info   PublisherInfo
	epoch  uint32
	since  time.Time
	bytes  atomic.Uint64 // added by the publisher goroutine; read at detach, which a kick or Hub.Close runs on another

	// Timestamp rebasing: out = in + offset, monotonic per track.
	base    int64
	offset  int64
	started bool
	last    [2]int64 // last DTS out per track: audio, video

	mu     sync.Mutex
	reason error
}

// Stream returns the stream being published.
func (p *Publisher) Stream() *Stream { return p.stream }

// Write adds a packet to the stream; the hub takes ownership of pkt and
// rewrites its DTS so that the stream's timestamps stay monotonic across
// publisher reconnects and clock jumps. Write never blocks on viewers. It
// returns an error once the publisher has been detached (kicked, taken over,
// stream ended).
func (p *Publisher) Write(pkt *media.Packet) error {
	p.rebase(pkt)
	p.bytes.Add(uint64(len(pkt.Data)))
	return p.stream.append(p, pkt)
}

// WriteBatch is Write for packets that arrived together, such as a relay
// forwarding the batches its origin sends: viewers are woken once, after
// the last packet, rather than after the first with the others waiting for
// the next flush interval.
func (p *Publisher) WriteBatch(pkts []*media.Packet) error {
	if len(pkts) == 0 {
		return nil
	}
	now := time.Now()
	for _, pkt := range pkts {
		p.rebase(pkt)
		p.bytes.Add(uint64(len(pkt.Data)))
		if err := p.stream.add(p, pkt, now); err != nil {
			return err
		}
	}
	p.stream.scheduleFlush(now)
	return nil
}

// Close detaches the publisher; viewers wait for the reconnect grace.
// reason (may be nil) is reported in the unpublished event.
func (p *Publisher) Close(reason error) {
	p.stream.detach(p, reason)
}

func (p *Publisher) rebase(pkt *media.Packet) {
	if !p.started {
		p.started = true
		p.offset = p.base - pkt.DTS
		if p.base == 0 {
			p.offset = 0
		}
		p.last = [2]int64{p.base, p.base}
	}
	out := pkt.DTS + p.offset
	var track int
	switch pkt.Type {
	case media.TagVideo:
		track = 1
	case media.TagScript:
		pkt.DTS = max(out, p.last[0], p.last[1])
		return
	}
	if last := p.last[track]; out < last {
		if last-out > backJump {
			p.offset += last - out
		}
		out = last
	}
	p.last[track] = out
	pkt.DTS = out
}

func (p *Publisher) stop(reason error) {
	p.mu.Lock()
	if p.reason == nil {
		if reason == nil {
			reason = ErrEnded
		}
		p.reason = reason
	}
	p.mu.Unlock()
}

func (p *Publisher) err() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.reason == nil {
		return ErrEnded
	}
	return p.reason
}
