package transcode

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sync"
	"time"
)

// Pipes are a running process's standard input and output, handed to
// Spec.Attach. Closing Stdin tells ffmpeg its input ended. Both are closed
// by the Manager after the run (see Spec.Attach for when a blocked read or
// write returns).
type Pipes struct {
	Stdin  io.WriteCloser
	Stdout io.ReadCloser
	// Inputs are the Spec.ExtraInputs more input pipes: Inputs[i] is
	// "pipe:3+i" for ffmpeg (a mix's second, third… member). Each is
	// closed by the Manager after the run; closing one ends that input.
	Inputs []io.WriteCloser
}

// globalArgs precede every job's arguments: no banner or progress, errors
// only on stderr, and no interactive use of stdin (pipe:0 still works).
var globalArgs = []string{"-hide_banner", "-nostats", "-nostdin", "-loglevel", "error"}

// proc is one running process of a job.
type proc struct {
	kind string
	cmd  *exec.Cmd
}

// runOnce starts one process for spec, calls attach with its pipes and
// returns when both the process and attach are done. ctx cancelled stops
// the process: stdin is closed, then it is killed after StopGrace.
func (m *Manager) runOnce(ctx context.Context, spec *Spec) error {
	stdinR, stdinW, err := os.Pipe()
	if err != nil {
		return fmt.Errorf("stdin pipe: %w", err)
	}
	stdoutR, stdoutW, err := os.Pipe()
	if err != nil {
		stdinR.Close()
		stdinW.Close()
		return fmt.Errorf("stdout pipe: %w", err)
	}
	var extraR []*os.File
	var extraW []io.WriteCloser
	closeExtra := func() {
		for _, w := range extraW {
			w.Close()
		}
	}
	for range spec.ExtraInputs {
		r, w, err := os.Pipe()
		if err != nil {
			for _, r := range extraR {
				r.Close()
			}
			closeExtra()
			stdinR.Close()
			stdinW.Close()
			stdoutR.Close()
			stdoutW.Close()
			return fmt.Errorf("input pipe: %w", err)
		}
		extraR, extraW = append(extraR, r), append(extraW, w)
	}
	defer closeExtra()
	stderr := &tailBuffer{max: 2048}
	args := append(append([]string{}, globalArgs...), spec.Args...)
	cmd := exec.Command(m.path, args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = stdinR, stdoutW, stderr
	cmd.ExtraFiles = extraR // fd 3, 4, …: pipe:3, pipe:4, …
	cmd.Env = []string{}    // nothing of the server's environment
	err = cmd.Start()
	stdinR.Close()
	stdoutW.Close()
	for _, r := range extraR {
		r.Close()
	}
	if err != nil {
		stdinW.Close()
		stdoutR.Close()
		return fmt.Errorf("start ffmpeg: %w", err)
	}
	p := &proc{kind: spec.Kind, cmd: cmd}
	m.mu.Lock()
	m.procs[p] = struct{}{}
	m.kindLocked(spec.Kind).running++
	m.mu.Unlock()

	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	runCtx, cancelRun := context.WithCancel(ctx)
	attached := make(chan error, 1)
	var closeIn sync.Once
	closeStdin := func() {
		closeIn.Do(func() {
			stdinW.Close()
			closeExtra()
		})
	}
	go func() {
		var err error
		if spec.Attach != nil {
			err = spec.Attach(runCtx, Pipes{Stdin: onceCloser{stdinW, func() { stdinW.Close() }}, Stdout: stdoutR, Inputs: extraW})
		} else {
			closeStdin()
			_, err = io.Copy(io.Discard, stdoutR)
		}
		attached <- err
	}()

	var waitErr, attachErr error
	exitDone, attachDone := false, false
	var kill <-chan time.Time
	var killTimer *time.Timer
	stop := func() {
		if killTimer != nil {
			return
		}
		closeStdin()
		killTimer = time.NewTimer(m.cfg.StopGrace)
		kill = killTimer.C
	}
	ctxDone := ctx.Done()
	for !exitDone || !attachDone {
		select {
		case waitErr = <-exited:
			exitDone = true
			// attach's reads drain the pipe then see EOF, its writes
			// fail; if it is still busy after the grace, its context
			// is cancelled and stdout closed under it.
			closeStdin()
			if !attachDone {
				abandon := time.AfterFunc(m.cfg.StopGrace, func() {
					cancelRun()
					stdoutR.Close()
				})
				defer abandon.Stop()
			}
		case attachErr = <-attached:
			attachDone = true
			closeStdin()
			if attachErr != nil {
				stop()
			}
		case <-ctxDone:
			ctxDone = nil
			cancelRun()
			stop()
		case <-kill:
			kill = nil
			_ = cmd.Process.Kill()
		}
	}
	cancelRun()
	stdoutR.Close()
	if killTimer != nil {
		killTimer.Stop()
	}

	cpu := cpuOf(cmd.ProcessState)
	m.mu.Lock()
	delete(m.procs, p)
	ks := m.kindLocked(spec.Kind)
	ks.running--
	ks.cpu += cpu
	m.mu.Unlock()

	if ctx.Err() != nil {
		return nil // stopped on purpose: not a failure
	}
	switch {
	case waitErr != nil && attachErr != nil && !errors.Is(attachErr, context.Canceled):
		return fmt.Errorf("ffmpeg: %w (%s); attach: %w", waitErr, stderr.String(), attachErr)
	case waitErr != nil:
		return fmt.Errorf("ffmpeg: %w (%s)", waitErr, stderr.String())
	case attachErr != nil:
		return fmt.Errorf("attach: %w", attachErr)
	}
	return nil
}

// cpuOf returns the user and system CPU time of an exited process.
func cpuOf(ps *os.ProcessState) time.Duration {
	if ps == nil {
		return 0
	}
	return ps.UserTime() + ps.SystemTime()
}

// onceCloser makes Close of a shared pipe end idempotent.
type onceCloser struct {
	io.Writer
	close func()
}

func (c onceCloser) Close() error { c.close(); return nil }

// tailBuffer keeps the last max bytes written (a process's stderr).
type tailBuffer struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (b *tailBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, p...)
	if len(b.buf) > b.max {
		b.buf = append(b.buf[:0], b.buf[len(b.buf)-b.max:]...)
	}
	return len(p), nil
}

func (b *tailBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.buf) == 0 {
		return "no output on stderr"
	}
	return "stderr: " + string(b.buf)
}
