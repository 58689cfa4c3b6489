package app

import (
	"context"
	"net/url"
	"sync"
	"time"

	"roomcast/internal/auth"
)

// HLS players make a request per playlist reload, segment and part — with
// LL-HLS several a second each — and every one is checked against its
// room's play rule, which reads the room from the store. playCache keeps a
// granted decision for a short time, per stream and signature, so that a
// stream's viewers cost one store read per TTL instead of one per request.
// Refusals are not kept. A room made private, or a signature that expires,
// takes effect for HLS within the TTL.
const (
	playCacheTTL = time.Second
	// playCacheMax bounds the decisions kept (distinct stream and
	// signature pairs); past it the expired ones go, or all of them.
	playCacheMax = 50_000
)

// playKey is a stream and the signature a request carries.
type playKey struct {
	stream, secret, txTime string
}

// playCache remembers granted play decisions until they expire.
type playCache struct {
	check func(ctx context.Context, stream string, q url.Values) error
	ttl   time.Duration
	now   func() time.Time

	mu      sync.Mutex
	granted map[playKey]time.Time // expiry
}

func newPlayCache(check func(context.Context, string, url.Values) error, ttl time.Duration, now func() time.Time) *playCache {
	return &playCache{check: check, ttl: ttl, now: now, granted: make(map[playKey]time.Time)}
}

// allow applies the play rule to a request for stream with query q,
// answering from the cache when a grant for the same signature is fresh.
func (c *playCache) allow(ctx context.Context, stream string, q url.Values) error {
	key := playKey{stream, q.Get(auth.ParamTxSecret), q.Get(auth.ParamTxTime)}
	now := c.now()
	c.mu.Lock()
	exp, ok := c.granted[key]
	c.mu.Unlock()
	if ok && now.Before(exp) {
		return nil
	}
	if err := c.check(ctx, stream, q); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.granted) >= playCacheMax {
		for k, e := range c.granted {
			if !now.Before(e) {
				delete(c.granted, k)
			}
		}
		if len(c.granted) >= playCacheMax {
			clear(c.granted)
		}
	}
	c.granted[key] = now.Add(c.ttl)
	return nil
}
