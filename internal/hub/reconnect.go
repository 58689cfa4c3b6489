package hub

import (
	"errors"
	"time"
)

// errReconnected is the reason of a publisher session that Reconnect ended.
var errReconnected = errors.New("hub: publisher reconnected")

// Reconnect ends p's session and starts a new one of the same stream at
// once, as if the publisher had reconnected within the grace, but without
// the stream being without a publisher for a moment (so a stream whose
// reconnect grace is off does not end): viewers see a new epoch, new
// sequence headers and timestamps that continue. The events are
// EventUnpublished and EventPublished with Resumed set. A room's programme
// switching between the host and the mix uses it. It fails with p's error
// when p was detached already.
func (p *Publisher) Reconnect(info PublisherInfo) (*Publisher, error) {
	s := p.stream
	s.mu.Lock()
	if s.pub != p || s.ended.Load() {
		s.mu.Unlock()
		return nil, p.err()
	}
	now := time.Now()
	p.stop(errReconnected)
	unpublished := Event{Type: EventUnpublished, Stream: s.name, Time: now, Publisher: p.info,
		Duration: now.Sub(p.since), Bytes: p.bytes.Load(), Reason: reasonText(errReconnected)}
	s.epoch++
	np := &Publisher{stream: s, info: info, epoch: s.epoch, since: now, base: s.nextDTS()}
	s.pub = np
	s.rate.reset(now)
	s.mu.Unlock()
	s.hub.emit(unpublished)
	s.hub.emit(Event{Type: EventPublished, Stream: s.name, Time: now, Publisher: info, Resumed: true})
	return np, nil
}
