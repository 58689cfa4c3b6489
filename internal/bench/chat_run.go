package bench

import (
	"context"
	"errors"
	"fmt"
	"math/bits"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// maxChatDials is how many chat clients connect at once.
const maxChatDials = 256

// ErrChatSetup reports a run that could not start sending: too few sender
// users joined, or they may not send.
var ErrChatSetup = errors.New("bench: chat senders not ready")

// chatRun is the shared state of a chat load test.
type chatRun struct {
	ctx     context.Context
	cfg     ChatConfig
	t       *chatTarget
	dialSem chan struct{}
	wg      sync.WaitGroup // client goroutines
	joinWG  sync.WaitGroup // clients still joining

	sendStart    atomic.Int64 // Unix ns when sending started; 0 before
	deliveries   atomic.Int64
	skips        atomic.Int64 // skipped notices received
	skippedMsgs  atomic.Int64 // messages they said were skipped
	reads        atomic.Int64
	stampedReads atomic.Int64
	latency      latHist

	mu           sync.Mutex
	serverErrors map[string]int // error frame codes
	arrivalErr   error
}

func (r *chatRun) countServerError(code []byte) {
	r.mu.Lock()
	r.serverErrors[string(code)]++
	r.mu.Unlock()
}

func (r *chatRun) noteArrivalErr(err error) {
	r.mu.Lock()
	if r.arrivalErr == nil {
		r.arrivalErr = err
	}
	r.mu.Unlock()
}

// planChatClients assigns tokens and source addresses: the first senders
// clients get one distinct token each; the others take the tokens round
// robin, at most ConnsPerUser connections per token; the rest are guests,
// at most GuestCap per source address.
func planChatClients(cfg *ChatConfig, t *chatTarget, senders int) ([]*chatClient, int, error) {
	var distinct []string
	seen := make(map[string]bool)
	for _, tok := range cfg.Tokens {
		if !seen[tok] {
			seen[tok] = true
			distinct = append(distinct, tok)
		}
	}
	clients := make([]*chatClient, cfg.Clients)
	uses := make([]int, len(distinct))
	next, guests := 0, 0
	for i := range clients {
		c := &chatClient{}
		clients[i] = c
		if i < senders {
			c.token, c.sender = distinct[i], true
			uses[i]++
			continue
		}
		for range distinct {
			k := next % len(distinct)
			next++
			if uses[k] < cfg.ConnsPerUser {
				uses[k]++
				c.token = distinct[k]
				break
			}
		}
		if c.token == "" {
			guests++
		}
	}
	addrs := 0
	if guests > cfg.GuestCap {
		if !t.loop4 {
			return nil, 0, fmt.Errorf("%d clients would join as guests, over the server's cap of %d per IP address (--guest-cap); pass more tokens (each serves %d clients, --conns-per-user) or use an IPv4 loopback target, where guests are spread over 127.0.0.x: %w",
				guests, cfg.GuestCap, cfg.ConnsPerUser, ErrConfig)
		}
		g := 0
		for _, c := range clients {
			if c.token != "" {
				continue
			}
			k := g/cfg.GuestCap + 1
			g++
			c.laddr = &net.TCPAddr{IP: net.IPv4(127, byte(k>>16), byte(k>>8), byte(k))}
			addrs = k
		}
	}
	return clients, addrs, nil
}

// RunChat runs a chat load test and returns its report; the report is also
// written to cfg.Out when set.
func RunChat(ctx context.Context, cfg ChatConfig) (*ChatReport, error) {
	cfg.setDefaults()
	t, err := cfg.validate()
	if err != nil {
		return nil, err
	}
	senders := SendersNeeded(cfg.Rate, cfg.RateMessages, cfg.RateWindow)
	clients, addrs, err := planChatClients(&cfg, t, senders)
	if err != nil {
		return nil, err
	}
	nofile, _ := raiseNoFileLimit()
	if nofile > 0 && nofile < uint64(cfg.Clients)+64 {
		return nil, fmt.Errorf("RLIMIT_NOFILE is %d, too low for %d clients (raise the hard limit, ulimit -Hn): %w", nofile, cfg.Clients, ErrConfig)
	}
	var proc *procSampler
	if cfg.PID != 0 {
		if proc, err = startProcSampler(cfg.PID, 100*time.Millisecond); err != nil {
			return nil, err
		}
		defer proc.stop()
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	r := &chatRun{ctx: ctx, cfg: cfg, t: t, dialSem: make(chan struct{}, maxChatDials), serverErrors: make(map[string]int)}
	rep := &ChatReport{URL: t.u.String(), SendURL: sendURL(t), Room: cfg.Room, Clients: cfg.Clients, Senders: senders,
		SendersNeeded: senders, Rate: cfg.Rate, SourceAddrs: addrs, Duration: cfg.Duration.Seconds()}
	if proc != nil {
		rep.Process = &ChatProcessReport{PID: cfg.PID}
	}
	for _, c := range clients {
		c.r = r
		if c.token == "" {
			rep.Guests++
		}
	}

	// Join.
	joinStart := time.Now()
	r.joinWG.Add(len(clients))
	r.wg.Add(len(clients))
	for _, c := range clients {
		go c.run()
	}
	joined := make(chan struct{})
	go func() { r.joinWG.Wait(); close(joined) }()
	select {
	case <-joined:
	case <-time.After(cfg.JoinTimeout):
		rep.JoinTimedOut = true
	case <-ctx.Done():
	}
	rep.JoinSeconds = time.Since(joinStart).Seconds()
	var active []*chatClient
	users := make(map[string]bool)
	for _, c := range clients {
		if c.joined.Load() {
			rep.Connected++
			if c.sender && c.canSend {
				active = append(active, c)
				users[c.userID] = true
			}
		}
	}
	var setupErr error
	switch {
	case ctx.Err() != nil:
		setupErr = ctx.Err()
	case senders > 0 && (len(active) < senders || len(users) < senders):
		setupErr = fmt.Errorf("%d messages/s need %d sender users that may send; %d sender clients joined with can_send as %d distinct users (tokens of one user, muted users?): %w",
			int(cfg.Rate), senders, len(active), len(users), ErrChatSetup)
	}

	// Idle memory, then send.
	if setupErr == nil {
		sleepCtx(ctx, time.Second)
		if proc != nil {
			proc.sample()
			proc.mu.Lock()
			rep.Process.RSSIdleKB = proc.last.rss
			proc.mu.Unlock()
		}
		var cpu0 time.Duration
		if proc != nil {
			cpu0, _ = proc.cpu()
		}
		sendT0 := time.Now()
		r.sendStart.Store(sendT0.UnixNano())
		rep.Sent, rep.SendErrors = chatSendLoop(ctx, active, cfg.Rate, cfg.Duration)
		sleepCtx(ctx, cfg.Drain)
		rep.WindowSeconds = time.Since(sendT0).Seconds()
		if proc != nil {
			cpu1, err := proc.cpu()
			if err == nil {
				rep.Process.CPUSeconds = (cpu1 - cpu0).Seconds()
			}
		}
	}
	rep.Deliveries = r.deliveries.Load()
	cancel()
	r.wg.Wait()
	if proc != nil {
		proc.stop()
	}
	buildChatReport(rep, r, clients, proc)
	if cfg.Out != nil {
		if err := rep.Write(cfg.Out, cfg.JSON); err != nil {
			return rep, err
		}
	}
	return rep, setupErr
}

// chatSendLoop sends rate messages per second in total for d, from the
// senders in turn, and returns how many were sent and how many failed.
func chatSendLoop(ctx context.Context, senders []*chatClient, rate float64, d time.Duration) (sent, failed int64) {
	if rate <= 0 || len(senders) == 0 {
		sleepCtx(ctx, d)
		return 0, 0
	}
	t0 := time.Now()
	total := int64(rate * d.Seconds())
	for i := range total {
		at := t0.Add(time.Duration(float64(i) / rate * float64(time.Second)))
		if wait := time.Until(at); wait > 0 && !sleepCtx(ctx, wait) {
			break
		}
		if ctx.Err() != nil {
			break
		}
		if err := senders[i%int64(len(senders))].sendChat(); err != nil {
			failed++
			continue
		}
		sent++
	}
	return sent, failed
}

// latHist is a log-linear histogram of latencies in µs (32 buckets per
// power of two: at most about 3 % too high), safe for concurrent use.
type latHist struct {
	n   [64 + 40*32]atomic.Uint64
	max atomic.Int64
}

func latBucket(us int64) int {
	if us < 64 {
		return int(us)
	}
	e := bits.Len64(uint64(us)) - 6
	return min(64+(e-1)*32+int(us>>e)-32, 64+40*32-1)
}

// latUpper is the largest value of bucket i.
func latUpper(i int) int64 {
	if i < 64 {
		return int64(i)
	}
	e := (i-64)/32 + 1
	m := int64((i-64)%32 + 32)
	return (m+1)<<e - 1
}

func (h *latHist) add(us int64) {
	us = max(us, 0)
	h.n[latBucket(us)].Add(1)
	for {
		m := h.max.Load()
		if us <= m || h.max.CompareAndSwap(m, us) {
			return
		}
	}
}

// dist summarizes the histogram in ms: nearest-rank percentiles as their
// bucket's upper bound (capped at the maximum), the maximum exact.
func (h *latHist) dist() Dist {
	var total uint64
	for i := range h.n {
		total += h.n[i].Load()
	}
	if total == 0 {
		return Dist{}
	}
	maxUS := h.max.Load()
	pct := func(p float64) float64 {
		rank := max(uint64(p/100*float64(total)+0.999999), 1)
		var seen uint64
		for i := range h.n {
			if seen += h.n[i].Load(); seen >= rank {
				return usToMS(min(latUpper(i), maxUS))
			}
		}
		return usToMS(maxUS)
	}
	return Dist{Count: int(total), P50: pct(50), P99: pct(99), Max: usToMS(maxUS)}
}

// sendURL is the senders' endpoint when it is not the others'.
func sendURL(t *chatTarget) string {
	if t.send == nil {
		return ""
	}
	return t.send.u.String()
}
