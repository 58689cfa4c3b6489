package transcode

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"
)

// Spec describes a job. Args are checked by CheckArgs before every start.
type Spec struct {
	// Kind labels the job in metrics and logs (KindCover, KindRendition…).
	Kind string
	// Name says which job it is in logs ("room42 480p"). It is never
	// passed to the process.
	Name string
	// Args are ffmpeg's arguments after the binary and the global ones
	// (-hide_banner -nostats -nostdin -loglevel error). They are built by
	// the caller from constants and numbers: inputs and outputs are
	// pipe:0 and pipe:1.
	Args []string
	// Attach, called once per run with the process's pipes on its own
	// goroutine, feeds stdin and/or reads stdout. It must return when ctx
	// is done or a pipe fails. When the process exits, reads drain what it
	// wrote and then see EOF and writes fail; an Attach still running
	// StopGrace later has ctx cancelled and stdout closed. Returning nil
	// closes stdin and lets the process finish; an error stops the process
	// and counts as a death. Nil Attach closes stdin at once and discards
	// stdout.
	Attach func(ctx context.Context, p Pipes) error
	// Done, if not nil, stops the job when closed (a hub stream's Done).
	Done <-chan struct{}
	// ExtraInputs is the number of input pipes besides stdin, given to
	// Attach as Pipes.Inputs and named pipe:3, pipe:4, … in Args.
	ExtraInputs int
}

// Job is a supervised long-lived process started by Manager.Start.
type Job struct {
	m      *Manager
	spec   Spec
	cancel context.CancelFunc
	done   chan struct{}

	mu       sync.Mutex
	err      error
	restarts int
}

// Start checks spec and starts its process under supervision. It fails with
// ErrUnavailable without ffmpeg, ErrTooMany when Config.MaxJobs slots are
// taken (the job holds its slot until it ends, back-off waits included),
// ErrBadArgs for refused arguments, and ErrClosed after Close. The job runs
// until ctx is cancelled, spec.Done is closed, Stop is called, or a run
// ends cleanly; a run that dies is restarted after a back-off.
func (m *Manager) Start(ctx context.Context, spec Spec) (*Job, error) {
	if err := CheckArgs(spec.Args); err != nil {
		return nil, fmt.Errorf("start %s job %q: %w", spec.Kind, spec.Name, err)
	}
	if err := m.acquire(spec.Kind); err != nil {
		return nil, fmt.Errorf("start %s job %q: %w", spec.Kind, spec.Name, err)
	}
	jctx, cancel := context.WithCancel(ctx)
	stopMgr := context.AfterFunc(m.ctx, cancel)
	j := &Job{m: m, spec: spec, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer m.release()
		defer close(j.done)
		defer stopMgr()
		defer cancel()
		if spec.Done != nil {
			go func() {
				select {
				case <-spec.Done:
					cancel()
				case <-jctx.Done():
				}
			}()
		}
		j.supervise(jctx)
	}()
	return j, nil
}

// supervise runs the process again after each death, with back-off.
func (j *Job) supervise(ctx context.Context) {
	m := j.m
	log := m.log.With("kind", j.spec.Kind, "job", j.spec.Name)
	backoff := m.cfg.MinBackoff
	for {
		began := time.Now()
		err := m.runOnce(ctx, &j.spec)
		if ctx.Err() != nil {
			return
		}
		if err == nil {
			log.Debug("transcode job finished")
			return
		}
		if time.Since(began) >= m.cfg.StableAfter {
			backoff = m.cfg.MinBackoff
		}
		j.mu.Lock()
		j.err = err
		j.restarts++
		j.mu.Unlock()
		m.mu.Lock()
		m.kindLocked(j.spec.Kind).restarts++
		m.mu.Unlock()
		log.Warn("transcode job died; restarting", "err", err, "backoff", backoff)
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		backoff = min(backoff*2, m.cfg.MaxBackoff)
	}
}

// Stop stops the job and waits until its process has exited.
func (j *Job) Stop() {
	j.cancel()
	<-j.done
}

// Done is closed when the job has ended and its process has exited.
func (j *Job) Done() <-chan struct{} { return j.done }

// Restarts returns how many times the job's process died and was restarted.
func (j *Job) Restarts() int {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.restarts
}

// LastError returns why the process last died (nil if it never did).
func (j *Job) LastError() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.err
}

// Run runs a one-shot process: it writes input to stdin, closes it, and
// returns what the process wrote to stdout (at most maxOut bytes; more is
// an error). The run takes one of Config.MaxJobs slots while it lasts and
// is never restarted. ctx bounds it (cancel or deadline kill the process).
// A non-zero exit is an error carrying the end of ffmpeg's stderr.
func (m *Manager) Run(ctx context.Context, kind string, args []string, input []byte, maxOut int) ([]byte, error) {
	if err := CheckArgs(args); err != nil {
		return nil, fmt.Errorf("run %s: %w", kind, err)
	}
	if err := m.acquire(kind); err != nil {
		return nil, fmt.Errorf("run %s: %w", kind, err)
	}
	defer m.release()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer context.AfterFunc(m.ctx, cancel)()
	var out bytes.Buffer
	spec := Spec{Kind: kind, Args: args, Attach: func(ctx context.Context, p Pipes) error {
		werr := make(chan error, 1)
		go func() {
			_, err := p.Stdin.Write(input)
			p.Stdin.Close()
			werr <- err
		}()
		n, err := io.Copy(&out, io.LimitReader(p.Stdout, int64(maxOut)+1))
		if err != nil {
			return fmt.Errorf("read output: %w", err)
		}
		if n > int64(maxOut) {
			return fmt.Errorf("output larger than %d bytes", maxOut)
		}
		if err := <-werr; err != nil && !errors.Is(err, io.ErrClosedPipe) {
			// ffmpeg may stop reading once it has what it needs.
			m.log.Debug("transcode input not fully read", "kind", kind, "err", err)
		}
		return nil
	}}
	if err := m.runOnce(ctx, &spec); err != nil {
		return nil, fmt.Errorf("run %s: %w", kind, err)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("run %s: %w", kind, err)
	}
	return out.Bytes(), nil
}
