package webhook

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"roomcast/internal/auth"
	"roomcast/internal/store"
)

// Store is the webhook outbox: the methods of a store implementation that the
// Dispatcher uses (see store/sqlite and store/postgres for their contracts).
// Dispatchers of several nodes may share one outbox: each sends only the
// deliveries it claimed.
type Store interface {
	EnqueueEvent(ctx context.Context, ev store.Event, urls []string) error
	ClaimDeliveries(ctx context.Context, claimer string, now time.Time, lease time.Duration, limit int) ([]store.PendingDelivery, error)
	ReleaseDeliveries(ctx context.Context, claimer string) error
	MarkDelivered(ctx context.Context, eventID, url string, at time.Time) error
	MarkFailed(ctx context.Context, eventID, url string, attempts int, next time.Time, lastErr string) error
	MarkAbandoned(ctx context.Context, eventID, url string, attempts int, at time.Time, lastErr string) error
	PruneDelivered(ctx context.Context, before time.Time) (int64, error)
}

// Config configures a Dispatcher. The zero value of every field but URLs
// and Secret means its default.
type Config struct {
	URLs         []string         // receivers; none: Emit does nothing
	Secret       string           // HMAC key of X-Roomcast-Signature; empty: no signature header
	Timeout      time.Duration    // per request, including reading the answer; default 10s
	MaxAttempts  int              // attempts per delivery before it is abandoned; default 12
	MinBackoff   time.Duration    // wait after the first failure; default 1s
	MaxBackoff   time.Duration    // longest wait between attempts; default 10m
	HTTP         *http.Client     // nil: a client of its own; redirects are never followed
	Now          func() time.Time // clock; default time.Now
	PollInterval time.Duration    // how often Run looks for due deliveries besides Emit's wake-ups; default 1s
	Retention    time.Duration    // how long delivered and abandoned deliveries are kept; default 7 days, negative: forever
	// Claimer names this Dispatcher's claims on deliveries in the outbox;
	// default: a new random ID. Dispatchers sharing an outbox need
	// different ones.
	Claimer string
	// Lease is how long a claim lasts unless renewed: after a node dies,
	// its deliveries are sent by another node once their lease ends. Run
	// renews the claims it holds every time it looks at the outbox.
	// Default and minimum: 2×Timeout + 5s (25s with the defaults), so that
	// a request in flight never outlives its claim.
	Lease time.Duration
}

// Defaults of Config.
const (
	DefaultTimeout      = 10 * time.Second
	DefaultMaxAttempts  = 12
	DefaultMinBackoff   = time.Second
	DefaultMaxBackoff   = 10 * time.Minute
	DefaultPollInterval = time.Second
	DefaultRetention    = 7 * 24 * time.Hour
)

// Tuning that is not configurable.
const (
	// maxInFlight bounds the requests in flight at once (one per URL at most).
	maxInFlight = 4
	// fetchLimit is how many due deliveries one look at the outbox returns.
	fetchLimit = 100
	// pruneEvery is how often Run prunes the outbox.
	pruneEvery = time.Hour
	// markTimeout bounds recording an attempt's outcome, which is done even
	// when the request's context has just ended.
	markTimeout = 5 * time.Second
)

// ErrRunning is returned by Run or Flush while the Dispatcher is already
// running one of them: a single worker owns the outbox.
var ErrRunning = errors.New("webhook: dispatcher already running")

// Stats are counters since the Dispatcher was created. Each is counted once
// the outcome is recorded in the store.
type Stats struct {
	Emitted   uint64 // events stored by Emit
	Delivered uint64 // deliveries that got a 2xx answer
	Failed    uint64 // failed attempts, including those failed unsent while their URL was unreachable
	Abandoned uint64 // deliveries given up on
}

// Dispatcher stores events in the outbox (Emit) and delivers them (Run,
// Flush). Its methods are safe for concurrent use, but Run and Flush exclude
// each other.
type Dispatcher struct {
	st     Store
	cfg    Config
	urls   []string        // cfg.URLs without empties and duplicates
	known  map[string]bool // the set of urls
	secret []byte
	http   *http.Client
	log    *slog.Logger

	wake    chan struct{} // Emit → worker, capacity 1
	running atomic.Bool   // Run or Flush is running

	emitted, delivered, failed, abandoned atomic.Uint64
}

// New returns a Dispatcher storing events in st. log may be nil.
func New(st Store, cfg Config, log *slog.Logger) *Dispatcher {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = DefaultMaxAttempts
	}
	if cfg.MinBackoff <= 0 {
		cfg.MinBackoff = DefaultMinBackoff
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = DefaultMaxBackoff
	}
	cfg.MaxBackoff = max(cfg.MaxBackoff, cfg.MinBackoff)
	if cfg.Retention == 0 {
		cfg.Retention = DefaultRetention
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = DefaultPollInterval
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	cfg.Lease = max(cfg.Lease, 2*cfg.Timeout+markTimeout)
	if cfg.Claimer == "" {
		id, err := auth.NewID("whd_")
		if err != nil {
			id = fmt.Sprintf("whd_%d", time.Now().UnixNano())
		}
		cfg.Claimer = id
	}
	client := &http.Client{}
	if cfg.HTTP != nil {
		c := *cfg.HTTP
		client = &c
	}
	if client.CheckRedirect == nil {
		client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	}
	d := &Dispatcher{
		st:     st,
		cfg:    cfg,
		known:  make(map[string]bool, len(cfg.URLs)),
		secret: []byte(cfg.Secret),
		http:   client,
		log:    log,
		wake:   make(chan struct{}, 1),
	}
	for _, u := range cfg.URLs {
		u = strings.TrimSpace(u)
		if u != "" && !d.known[u] {
			d.known[u] = true
			d.urls = append(d.urls, u)
		}
	}
	d.cfg.URLs = d.urls
	if len(d.urls) > 0 && cfg.Secret == "" {
		log.Warn("webhook secret is empty: requests carry no signature")
	}
	return d
}

// Emit stores ev in the outbox with one delivery per configured URL, in one
// transaction, and wakes Run without waiting for it. Once Emit returns nil
// the event will be delivered even if the process stops first. With no URL
// configured it does nothing and returns nil. Emit writes to the store (one
// synchronous disk write): callers on a hot path queue events and emit them
// from their own goroutine.
func (d *Dispatcher) Emit(ctx context.Context, ev Event) error {
	if len(d.urls) == 0 {
		return nil
	}
	id, err := auth.NewID("evt_")
	if err != nil {
		return fmt.Errorf("webhook: emit: %w", err)
	}
	at := ev.Time
	if at.IsZero() {
		at = d.cfg.Now()
	}
	at = at.UTC().Truncate(time.Millisecond)
	body, err := encodeEvent(id, at, ev)
	if err != nil {
		return fmt.Errorf("webhook: emit: %w", err)
	}
	if err := d.st.EnqueueEvent(ctx, store.Event{ID: id, Type: ev.Type, Payload: body, CreatedAt: at}, d.urls); err != nil {
		return fmt.Errorf("webhook: emit %s: %w", ev.Type, err)
	}
	d.emitted.Add(1)
	select {
	case d.wake <- struct{}{}:
	default:
	}
	return nil
}

// Run delivers due deliveries until ctx ends, then returns nil. It sends only
// the deliveries it claimed (Config.Claimer, Config.Lease) and releases its
// claims when it returns. It looks at
// the outbox when it starts, when Emit wakes it, when a retry it scheduled is
// due, and every PollInterval; it prunes delivered and abandoned deliveries
// older than a week every hour. When ctx ends, requests in flight are
// cancelled and their deliveries stay due, to be retried by Flush or the next
// Run. It returns ErrRunning if Run or Flush is already running.
func (d *Dispatcher) Run(ctx context.Context) error {
	if !d.running.CompareAndSwap(false, true) {
		return ErrRunning
	}
	defer d.running.Store(false)
	defer d.release(ctx)
	s := d.newSender(ctx, false)
	defer s.wait()

	d.prune(ctx)
	pruneTick := time.NewTicker(pruneEvery)
	defer pruneTick.Stop()
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		wait := s.fill()
		timer.Reset(wait)
		select {
		case <-ctx.Done():
			return nil
		case <-d.wake:
		case r := <-s.results:
			s.finish(r)
		case <-timer.C:
		case <-pruneTick.C:
			d.prune(ctx)
		}
	}
}

// Flush tries once to deliver every delivery that is due, without waiting
// for retries, and returns: for shutdown, after Run has returned. Failures
// are recorded as by Run. It returns ctx's error if ctx ends first (requests
// in flight are cancelled and stay due), the store's error if it cannot read
// or update the outbox, ErrRunning if Run or Flush is running, and nil otherwise, even
// when some deliveries failed.
func (d *Dispatcher) Flush(ctx context.Context) error {
	if !d.running.CompareAndSwap(false, true) {
		return ErrRunning
	}
	defer d.running.Store(false)
	defer d.release(ctx)
	s := d.newSender(ctx, true)
	defer s.wait()
	for {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("webhook: flush: %w", err)
		}
		s.fill()
		if s.fetchErr != nil {
			return fmt.Errorf("webhook: flush: %w", s.fetchErr)
		}
		if s.inFlight == 0 && !s.progress {
			if s.storeErr != nil {
				return fmt.Errorf("webhook: flush: %w", s.storeErr)
			}
			return nil
		}
		if s.inFlight == 0 {
			continue
		}
		select {
		case <-ctx.Done():
		case r := <-s.results:
			s.finish(r)
		}
	}
}

// Stats returns the counters.
func (d *Dispatcher) Stats() Stats {
	return Stats{
		Emitted:   d.emitted.Load(),
		Delivered: d.delivered.Load(),
		Failed:    d.failed.Load(),
		Abandoned: d.abandoned.Load(),
	}
}

// prune deletes delivered and abandoned deliveries older than
// Config.Retention.
// release gives up the claims of this Dispatcher once Run or Flush is done
// with them, so that another node (or the next Run) may send them at once.
func (d *Dispatcher) release(ctx context.Context) {
	mctx, cancel := markContext(ctx)
	defer cancel()
	if err := d.st.ReleaseDeliveries(mctx, d.cfg.Claimer); err != nil {
		d.log.Warn("webhook claims not released: other nodes send them when their lease ends", "err", err)
	}
}

// prune deletes delivered and abandoned deliveries older than retention.
func (d *Dispatcher) prune(ctx context.Context) {
	if d.cfg.Retention < 0 {
		return
	}
	n, err := d.st.PruneDelivered(ctx, d.cfg.Now().Add(-d.cfg.Retention))
	switch {
	case err != nil && ctx.Err() == nil:
		d.log.Error("webhook outbox prune failed", "err", err)
	case n > 0:
		d.log.Debug("webhook outbox pruned", "deliveries", n)
	}
}
