package transcode

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os/exec"
	"strings"
	"sync"
	"time"
)

// Errors returned by Start and Run. Callers check them with errors.Is.
var (
	// ErrUnavailable means the ffmpeg binary was not found at start.
	ErrUnavailable = errors.New("transcode: ffmpeg not available")
	// ErrTooMany means Config.MaxJobs processes are running already.
	ErrTooMany = errors.New("transcode: too many transcodes")
	// ErrClosed means the Manager was closed.
	ErrClosed = errors.New("transcode: manager closed")
	// ErrBadArgs means CheckArgs refused a job's arguments.
	ErrBadArgs = errors.New("transcode: refused arguments")
)

// Job kinds used by roomcast's features, as metric labels. Any short
// lower-case word works; these are the ones the server uses.
const (
	KindCover     = "cover"
	KindPoster    = "poster"
	KindRendition = "rendition"
	KindMix       = "mix"
	KindAudio     = "webrtc-audio"
)

// Defaults for Config's zero values.
const (
	DefaultMaxJobs     = 32
	DefaultMinBackoff  = 500 * time.Millisecond
	DefaultMaxBackoff  = 30 * time.Second
	DefaultStableAfter = 30 * time.Second
	DefaultStopGrace   = 3 * time.Second
)

// Config configures a Manager. The zero value of a field means its default.
type Config struct {
	// FFmpeg is the ffmpeg binary: a name looked up in PATH or a path
	// ("" means "ffmpeg"). It comes from the operator's configuration,
	// never from a request.
	FFmpeg string
	// MaxJobs bounds the processes running at once, supervised jobs and
	// one-shot runs together. Negative means no bound.
	MaxJobs int
	// MinBackoff is the wait before the first restart of a job that died;
	// it doubles on each further death up to MaxBackoff.
	MinBackoff, MaxBackoff time.Duration
	// StableAfter is how long a run must last for the back-off to start
	// again from MinBackoff.
	StableAfter time.Duration
	// StopGrace is how long a stopping process has, after its stdin is
	// closed, before it is killed.
	StopGrace time.Duration
	// Refused, if set, is called with "max-transcodes" each time MaxJobs
	// refuses a start (for metrics). It must not block.
	Refused func(limit string)
}

func (c Config) withDefaults() Config {
	if c.FFmpeg == "" {
		c.FFmpeg = "ffmpeg"
	}
	if c.MaxJobs == 0 {
		c.MaxJobs = DefaultMaxJobs
	}
	if c.MinBackoff <= 0 {
		c.MinBackoff = DefaultMinBackoff
	}
	if c.MaxBackoff < c.MinBackoff {
		c.MaxBackoff = max(DefaultMaxBackoff, c.MinBackoff)
	}
	if c.StableAfter <= 0 {
		c.StableAfter = DefaultStableAfter
	}
	if c.StopGrace <= 0 {
		c.StopGrace = DefaultStopGrace
	}
	return c
}

// Manager starts, supervises and bounds transcoding processes. It is safe
// for concurrent use. Close stops every job.
type Manager struct {
	cfg     Config
	log     *slog.Logger
	path    string // resolved binary; "" when unavailable
	version string
	ctx     context.Context
	cancel  context.CancelFunc

	mu     sync.Mutex
	slots  int // processes (or supervised jobs) holding a slot
	kinds  map[string]*kindStats
	procs  map[*proc]struct{}
	closed bool
	wg     sync.WaitGroup
}

// New returns a Manager. It looks the ffmpeg binary up and runs
// "ffmpeg -version" once (bounded by ctx); when that fails the Manager is
// unavailable (see Available) and the reason is returned by Unavailable.
func New(ctx context.Context, cfg Config, log *slog.Logger) *Manager {
	cfg = cfg.withDefaults()
	mctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	m := &Manager{
		cfg: cfg, log: log, ctx: mctx, cancel: cancel,
		kinds: make(map[string]*kindStats),
		procs: make(map[*proc]struct{}),
	}
	// The server's kinds are always reported, so that their series
	// exist before the first job.
	for _, k := range []string{KindCover, KindPoster, KindRendition, KindMix, KindAudio} {
		m.kinds[k] = &kindStats{}
	}
	path, version, err := detect(ctx, cfg.FFmpeg)
	if err != nil {
		m.version = err.Error()
		return m
	}
	m.path, m.version = path, version
	return m
}

// detect finds the binary and reads its version line.
func detect(ctx context.Context, name string) (path, version string, err error) {
	path, err = exec.LookPath(name)
	if err != nil {
		return "", "", fmt.Errorf("find %q: %w", name, err)
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, path, "-hide_banner", "-version").Output()
	if err != nil {
		return "", "", fmt.Errorf("run %s -version: %w", path, err)
	}
	line, _, _ := strings.Cut(string(out), "\n")
	if !strings.HasPrefix(line, "ffmpeg version ") {
		return "", "", fmt.Errorf("%s -version: not ffmpeg: %q", path, line)
	}
	return path, strings.TrimSpace(line), nil
}

// Available reports whether ffmpeg was found; when false, Start and Run
// fail with ErrUnavailable.
func (m *Manager) Available() bool { return m.path != "" }

// Version returns ffmpeg's version line when available, or why it is not.
func (m *Manager) Version() string { return m.version }

// Path returns the resolved ffmpeg binary ("" when unavailable).
func (m *Manager) Path() string { return m.path }

// acquire takes a slot for a process of kind, or reports why not.
func (m *Manager) acquire(kind string) error {
	if m.path == "" {
		return ErrUnavailable
	}
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return ErrClosed
	}
	ks := m.kindLocked(kind)
	if m.cfg.MaxJobs > 0 && m.slots >= m.cfg.MaxJobs {
		ks.refused++
		m.mu.Unlock()
		if m.cfg.Refused != nil {
			m.cfg.Refused("max-transcodes")
		}
		return fmt.Errorf("%w (max-transcodes %d)", ErrTooMany, m.cfg.MaxJobs)
	}
	m.slots++
	m.wg.Add(1)
	m.mu.Unlock()
	return nil
}

func (m *Manager) release() {
	m.mu.Lock()
	m.slots--
	m.mu.Unlock()
	m.wg.Done()
}

func (m *Manager) kindLocked(kind string) *kindStats {
	ks := m.kinds[kind]
	if ks == nil {
		ks = &kindStats{}
		m.kinds[kind] = ks
	}
	return ks
}

// Close stops every job and one-shot run and waits for their processes to
// exit (each within StopGrace). Later starts fail with ErrClosed.
func (m *Manager) Close() {
	m.mu.Lock()
	m.closed = true
	m.mu.Unlock()
	m.cancel()
	m.wg.Wait()
}
