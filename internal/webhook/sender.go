package webhook

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"roomcast/internal/store"
)

// key names one delivery: an event to a URL.
type key struct{ event, url string }

// outage is a URL that gave no HTTP answer to its last request.
type outage struct {
	failures int       // consecutive requests without an answer
	until    time.Time // its deliveries fail without a request until then
	err      string    // the last request's error
}

// result is the outcome of one request, reported by its goroutine once the
// outcome is recorded in the store.
type result struct {
	key      key
	next     time.Time // when the delivery is due again; zero if not rescheduled
	reached  bool      // the receiver answered, whatever the status
	netErr   string    // why no answer came, unless the request was cancelled
	storeErr error     // recording the outcome failed
}

// sender runs the deliveries of one Run or Flush call. Its fields belong to
// the goroutine of that call; the request goroutines it starts only send on
// results.
type sender struct {
	d       *Dispatcher
	ctx     context.Context // cancels the requests
	results chan result     // capacity maxInFlight: a request goroutine never blocks
	wg      sync.WaitGroup  // request goroutines

	inFlight int
	pending  map[key]bool       // deliveries with a request in flight
	busy     map[string]bool    // URLs with a request in flight
	down     map[string]*outage // URLs that gave no answer to their last request
	tried    map[key]bool       // Flush only: deliveries already handled once
	soonest  time.Time          // earliest retry scheduled by this sender and not yet looked for
	paused   time.Time          // Run only: after a store error, dispatch nothing before this
	progress bool               // the last fill started or recorded a delivery
	fetchErr error              // the last fill could not read the outbox
	failing  int                // consecutive fills that could not read the outbox
	storeErr error              // Flush only: the first failure to record an outcome
}

// newSender returns a sender whose requests end with ctx, for Flush if flush
// is set, else for Run.
func (d *Dispatcher) newSender(ctx context.Context, flush bool) *sender {
	s := &sender{
		d:       d,
		ctx:     ctx,
		results: make(chan result, maxInFlight),
		pending: make(map[key]bool),
		busy:    make(map[string]bool),
		down:    make(map[string]*outage),
	}
	if flush {
		s.tried = make(map[key]bool)
	}
	return s
}

// wait waits for the request goroutines, which end soon once ctx is done.
func (s *sender) wait() { s.wg.Wait() }

// fill starts requests for due deliveries while fewer than maxInFlight are in
// flight, one per URL at a time, and records without a request the
// deliveries of URLs that are down or no longer configured. It returns how
// long Run may sleep before looking again.
func (s *sender) fill() time.Duration {
	d := s.d
	now := d.cfg.Now()
	s.progress, s.fetchErr = false, nil
	if !s.soonest.IsZero() && !now.Before(s.soonest) {
		s.soonest = time.Time{} // the lookup below sees it
	}
	if s.inFlight < maxInFlight && !now.Before(s.paused) {
		s.dispatch(now)
	}
	wait := d.cfg.PollInterval
	if !s.soonest.IsZero() {
		wait = min(wait, s.soonest.Sub(now))
	}
	return max(wait, time.Millisecond)
}

// dispatch does fill's work on the deliveries due at now.
func (s *sender) dispatch(now time.Time) {
	d := s.d
	due, err := d.st.ClaimDeliveries(s.ctx, d.cfg.Claimer, now, d.cfg.Lease, fetchLimit)
	if err != nil {
		if s.ctx.Err() == nil {
			// Logged once per outage (a database down for a minute is one
			// line, not sixty); the next success says it is over.
			level := slog.LevelDebug
			if s.failing == 0 {
				level = slog.LevelError
			}
			s.failing++
			d.log.Log(s.ctx, level, "webhook outbox read failed; retrying every poll interval", "err", err, "failures", s.failing)
			s.fetchErr = err
			s.pause(now)
		}
		return
	}
	if s.failing > 0 {
		d.log.Info("webhook outbox readable again", "after_failures", s.failing)
		s.failing = 0
	}
	for _, p := range due {
		if s.inFlight >= maxInFlight || s.ctx.Err() != nil {
			break
		}
		k := key{p.EventID, p.URL}
		if s.pending[k] || s.busy[p.URL] || s.tried[k] {
			continue
		}
		if s.tried != nil {
			s.tried[k] = true
		}
		s.progress = true
		o := s.down[p.URL]
		switch {
		case !d.known[p.URL]:
			s.recorded(time.Time{}, d.abandon(s.ctx, p, p.Attempts, "URL no longer configured", false, now))
		case o != nil && now.Before(o.until):
			s.recorded(d.recordFailure(s.ctx, p, p.Attempts+1, "not sent: receiver unreachable: "+o.err, false, now))
		default:
			s.start(p)
		}
	}
}

// start sends p in a new goroutine.
func (s *sender) start(p store.PendingDelivery) {
	s.pending[key{p.EventID, p.URL}] = true
	s.busy[p.URL] = true
	s.inFlight++
	s.wg.Go(func() { s.results <- s.d.attempt(s.ctx, p) })
}

// finish takes the result of a request started by start.
func (s *sender) finish(r result) {
	delete(s.pending, r.key)
	delete(s.busy, r.key.url)
	s.inFlight--
	switch {
	case r.reached:
		if o := s.down[r.key.url]; o != nil {
			delete(s.down, r.key.url)
			s.d.log.Info("webhook receiver reachable again", "url", redact(r.key.url), "after_failures", o.failures)
		}
	case r.netErr != "":
		o := s.down[r.key.url]
		if o == nil {
			o = &outage{}
			s.down[r.key.url] = o
		}
		o.failures++
		o.until = s.d.cfg.Now().Add(s.d.backoff(o.failures))
		o.err = r.netErr
	}
	s.recorded(r.next, r.storeErr)
}

// recorded takes the outcome of recording a delivery's attempt: when it is
// due again (zero if never) and the store's error.
func (s *sender) recorded(next time.Time, err error) {
	if err != nil {
		if s.tried != nil {
			if s.storeErr == nil {
				s.storeErr = err
			}
		} else {
			// The delivery is still due as it was: wait before trying it
			// again rather than resend it in a loop.
			s.pause(s.d.cfg.Now())
		}
	}
	if !next.IsZero() && (s.soonest.IsZero() || next.Before(s.soonest)) {
		s.soonest = next
	}
}

// pause stops Run's dispatching for a poll interval after a store error.
func (s *sender) pause(now time.Time) {
	if s.tried == nil {
		s.paused = now.Add(s.d.cfg.PollInterval)
	}
}
