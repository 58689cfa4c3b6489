package bench

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"time"
)

// run is the state shared by the viewers of one RunPlay call.
type run struct {
	cfg    Config
	t      *target
	t0     time.Time       // run start; the "µs" times of viewers count from it
	t0Wall int64           // t0 as wall-clock (CLOCK_REALTIME) nanoseconds
	ctx    context.Context // the viewers' context, cancelled when the run ends
	setup  sync.WaitGroup  // one per viewer, done when it is connected or failed
	player func(*viewer) error
	// hls is the HTTP client shared by HLS viewers.
	hls *http.Client
	// hlsTarget is the HLS target duration seen by viewers, µs (max).
	hlsTarget maxInt64
	// arrival keeps why kernel receive timestamps could not be turned on.
	arrival arrivalSetup
	// readDelay is the time from kernel receive timestamps to the return
	// of the reads that took them.
	readDelay delayHist
}

// maxInt64 is a concurrency-safe running maximum.
type maxInt64 struct {
	mu sync.Mutex
	v  int64
}

func (m *maxInt64) observe(v int64) {
	m.mu.Lock()
	m.v = max(m.v, v)
	m.mu.Unlock()
}

func (m *maxInt64) get() int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.v
}

// now returns the monotonic time since the run started, in µs.
func (r *run) now() int64 { return time.Since(r.t0).Microseconds() }

// wallToRun converts a wall-clock time in nanoseconds (CLOCK_REALTIME, as
// kernel socket timestamps are) to µs since the run started. The relation
// is taken once, from t0's wall and monotonic readings; slewing of the wall
// clock during a run is negligible, a step is not (see connReader.read).
func (r *run) wallToRun(ns int64) int64 { return (ns - r.t0Wall) / 1000 }

// RunPlay runs the load test described by cfg and returns its report, which
// it also writes to cfg.Out when set. It returns after the measurement
// window (at most Ramp + SetupTimeout + Duration, plus the time the viewers
// take to close), or earlier when ctx is cancelled: then the report covers
// the shortened window and has Interrupted set. Errors are returned for an
// invalid Config, an unreadable PID, or a ctx cancelled before the window.
func RunPlay(ctx context.Context, cfg Config) (*Report, error) {
	t, err := cfg.validate()
	if err != nil {
		return nil, err
	}
	player, err := playerFor(t.proto, cfg.Viewers)
	if err != nil {
		return nil, err
	}
	nofile, nofileErr := raiseNoFileLimit()

	var proc *procSampler
	if cfg.PID != 0 {
		if proc, err = startProcSampler(cfg.PID, 100*time.Millisecond); err != nil {
			return nil, err
		}
		proc.children = cfg.Children
		defer proc.stop()
	}

	vctx, cancel := context.WithCancel(ctx)
	defer cancel()
	t0 := time.Now()
	r := &run{cfg: cfg, t: t, ctx: vctx, player: player, t0: t0, t0Wall: t0.UnixNano()}
	if t.proto == ProtoHLS {
		r.hls = newHLSClient(cfg.Viewers)
		defer r.hls.CloseIdleConnections()
	}

	viewers := make([]*viewer, cfg.Viewers)
	for i := range viewers {
		viewers[i] = &viewer{r: r, id: i, connUS: -1, ttffUS: -1, startUS: -1, burstN: -1}
	}
	r.setup.Add(cfg.Viewers)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // the spawner
		defer wg.Done()
		for i, v := range viewers {
			at := r.t0.Add(time.Duration(int64(cfg.Ramp) * int64(i) / int64(cfg.Viewers)))
			slept := true
			if d := time.Until(at); d > 0 {
				slept = sleepCtx(vctx, d)
			}
			if !slept || vctx.Err() != nil {
				for range viewers[i:] { // never started
					r.setup.Done()
				}
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				v.play()
			}()
		}
	}()
	setupDone := make(chan struct{})
	go func() {
		r.setup.Wait()
		close(setupDone)
	}()

	// Wait until every viewer is set up, bounded.
	setupTimer := time.NewTimer(cfg.Ramp + SetupTimeout)
	select {
	case <-setupDone:
	case <-setupTimer.C:
	case <-ctx.Done():
	}
	setupTimer.Stop()
	if ctx.Err() != nil {
		cancel()
		wg.Wait()
		return nil, fmt.Errorf("bench: interrupted before the measurement window: %w", ctx.Err())
	}

	// Measurement window.
	w := window{startUS: r.now(), bytes0: sumBytes(viewers)}
	if proc != nil {
		w.cpu0, w.cpuErr = proc.cpu()
	}
	interrupted := !sleepCtx(ctx, cfg.Duration)
	w.endUS = r.now()
	w.bytes1 = sumBytes(viewers)
	if proc != nil {
		var err error
		if w.cpu1, err = proc.cpu(); w.cpuErr == nil {
			w.cpuErr = err
		}
		proc.stop()
	}

	cancel() // stop the viewers
	wg.Wait()

	rep := buildReport(r, viewers, w, proc)
	rep.Interrupted = interrupted
	rep.NoFileLimit = nofile
	if nofileErr != nil {
		rep.Warnings = append(rep.Warnings, fmt.Sprintf("raising RLIMIT_NOFILE: %v", nofileErr))
	} else if nofile > 0 && uint64(cfg.Viewers)+64 > nofile {
		rep.Warnings = append(rep.Warnings, fmt.Sprintf("open file limit %d is below viewers + 64", nofile))
	}
	if cfg.Out != nil {
		if err := rep.Write(cfg.Out, cfg.JSON); err != nil {
			return rep, fmt.Errorf("bench: writing report: %w", err)
		}
	}
	return rep, nil
}

// window is the measurement window's raw figures.
type window struct {
	startUS, endUS int64
	bytes0, bytes1 int64
	cpu0, cpu1     time.Duration
	cpuErr         error
}

// playerFor returns the play function of a protocol.
func playerFor(proto string, viewers int) (func(*viewer) error, error) {
	switch proto {
	case ProtoWHEP:
		return whepPlayer(viewers)
	case ProtoFLV:
		return playHTTPFLV, nil
	case ProtoWSFLV:
		return playWSFLV, nil
	case ProtoHLS:
		return playHLS, nil
	case ProtoRTMP:
		return rtmpPlayer()
	}
	return nil, fmt.Errorf("protocol %q: %w", proto, ErrConfig)
}

func sumBytes(vs []*viewer) int64 {
	var n int64
	for _, v := range vs {
		n += v.bytes.Load()
	}
	return n
}

// sleepCtx sleeps for d and reports whether it did so without ctx ending.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
