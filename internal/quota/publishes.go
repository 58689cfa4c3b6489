package quota

import (
	"sync"
	"time"
)

// PublishesPerUser names the bound on the streams one user publishes at
// once (a room owner's room streams and its co-host streams).
const PublishesPerUser = "publishes_per_user"

// reserveFor is how long an admitted publish counts before its stream
// has a publisher: two publishes of one user admitted at the same moment
// cannot both pass the limit, and an admission whose publish then failed
// stops counting after it.
const reserveFor = 10 * time.Second

// Publishes bounds the streams each user publishes at once, on this node.
// Admit is called when a publish is authorised, before the stream gets its
// publisher, and Published when it got it; a stream counts while it has a
// publisher (live), or after its admission until it is published or
// reserveFor passed. A stream in its reconnect grace has no
// publisher, so its publisher coming back is admitted again unless the user
// started other streams meanwhile. The zero value is not usable: use
// NewPublishes.
type Publishes struct {
	limit   int
	live    func(stream string) bool
	refused func(quota string)
	now     func() time.Time

	mu     sync.Mutex
	byUser map[string]map[string]time.Time // user → stream → admitted at
	owner  map[string]string               // stream → user
}

// NewPublishes returns a Publishes allowing limit streams per user (0 or
// less: no limit). live reports whether a stream has a publisher now;
// refused, if not nil, is called with PublishesPerUser on each refusal.
func NewPublishes(limit int, live func(stream string) bool, refused func(quota string)) *Publishes {
	return &Publishes{
		limit: limit, live: live, refused: refused, now: time.Now,
		byUser: make(map[string]map[string]time.Time), owner: make(map[string]string),
	}
}

// Admit lets user publish stream, or refuses it with an *Exceeded when the
// user's other streams already reach the limit. Admitting a stream the
// user publishes already (a reconnect, a second try) never counts it twice.
func (p *Publishes) Admit(user, stream string) error {
	if p == nil || p.limit <= 0 || user == "" {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	streams := p.byUser[user]
	n := 0
	for s, at := range streams {
		switch {
		case s == stream:
		case p.live(s) || (!at.IsZero() && now.Sub(at) < reserveFor):
			n++
		default:
			p.forgetLocked(s)
		}
	}
	if n >= p.limit {
		if p.refused != nil {
			p.refused(PublishesPerUser)
		}
		return &Exceeded{Quota: PublishesPerUser, Limit: p.limit}
	}
	if prev, ok := p.owner[stream]; ok && prev != user {
		p.forgetLocked(stream) // the stream changed hands: count it once
	}
	if streams = p.byUser[user]; streams == nil {
		streams = make(map[string]time.Time)
		p.byUser[user] = streams
	}
	streams[stream] = now
	p.owner[stream] = user
	return nil
}

// Published tells that stream got its publisher: from now on it counts
// only while it has one (its admission no longer holds a place).
func (p *Publishes) Published(stream string) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if user, ok := p.owner[stream]; ok {
		p.byUser[user][stream] = time.Time{}
	}
}

// Forget drops stream (it ended): its user may start another at once.
func (p *Publishes) Forget(stream string) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.forgetLocked(stream)
}

func (p *Publishes) forgetLocked(stream string) {
	user, ok := p.owner[stream]
	if !ok {
		return
	}
	delete(p.owner, stream)
	delete(p.byUser[user], stream)
	if len(p.byUser[user]) == 0 {
		delete(p.byUser, user)
	}
}
