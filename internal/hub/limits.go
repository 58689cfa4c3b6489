package hub

import "sync"

// limits serialises the admissions that Config.MaxPublishers and
// Config.MaxViewers bound, so that concurrent arrivals cannot overshoot.
// Departures need no lock: they only lower the counts.
type limits struct {
	publish   sync.Mutex
	subscribe sync.Mutex
}

// admitPublisher refuses a publisher of name with ErrTooManyPublishers when
// MaxPublishers other streams have one. On success the caller attaches the
// publisher, then calls release.
func (h *Hub) admitPublisher(name string, internal bool) (release func(), err error) {
	if h.cfg.MaxPublishers <= 0 || internal {
		return func() {}, nil
	}
	h.limits.publish.Lock()
	n := 0
	for _, s := range h.Streams() {
		if s.name != name && s.externalLive() {
			n++
		}
	}
	if n >= h.cfg.MaxPublishers {
		h.limits.publish.Unlock()
		h.cfg.refused("max-publishers")
		return nil, ErrTooManyPublishers
	}
	return h.limits.publish.Unlock, nil
}

// admitViewer refuses a counted subscriber (protocol not empty) with
// ErrTooManyViewers when MaxViewers are subscribed over all streams. On
// success the caller subscribes, then calls release.
func (h *Hub) admitViewer(protocol string) (release func(), err error) {
	if h.cfg.MaxViewers <= 0 || protocol == "" {
		return func() {}, nil
	}
	h.limits.subscribe.Lock()
	if h.Viewers() >= h.cfg.MaxViewers {
		h.limits.subscribe.Unlock()
		h.cfg.refused("max-viewers")
		return nil, ErrTooManyViewers
	}
	return h.limits.subscribe.Unlock, nil
}

// Viewers returns the counted subscribers (RTMP, HTTP-FLV, WebSocket-FLV
// viewers; not HLS clients nor internal subscribers) of all streams, those
// still draining an ended stream included, until they close. It is one
// atomic load: admitViewer calls it for every admission.
func (h *Hub) Viewers() int { return int(h.viewers.Load()) }

// Publishers returns the number of streams with a publisher now.
func (h *Hub) Publishers() int {
	n := 0
	for _, s := range h.Streams() {
		if s.Live() {
			n++
		}
	}
	return n
}

// refused reports a refusal by the named limit to Config.Refused.
func (c *Config) refused(limit string) {
	if c.Refused != nil {
		c.Refused(limit)
	}
}
