package webrtc

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"sync"
	"time"
)

// ExecRunner runs each job's process once, without restarts: a stand-in
// for internal/transcode's supervisor where it is not wired (tests).
type ExecRunner struct {
	// Path is the ffmpeg binary.
	Path string
}

// Run implements Runner.
func (e ExecRunner) Run(ctx context.Context, job Job) (func(), error) {
	ctx, cancel := context.WithCancel(ctx)
	args := append([]string{"-hide_banner", "-nostats", "-nostdin", "-loglevel", "error"}, job.Args...)
	cmd := exec.Command(e.Path, args...)
	in, err := cmd.StdinPipe()
	if err != nil {
		cancel()
		return nil, fmt.Errorf("%s: %w", job.Name, err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		cancel()
		return nil, fmt.Errorf("%s: %w", job.Name, err)
	}
	if err := cmd.Start(); err != nil {
		cancel()
		return nil, fmt.Errorf("%s: start %s: %w", job.Name, e.Path, err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		attached := make(chan error, 1)
		go func() { attached <- job.Attach(ctx, in, out) }()
		select {
		case <-attached:
		case <-ctx.Done():
		case <-job.Done:
		}
		cancel()
		_ = in.Close()
		// ffmpeg finishes on the end of its input; kill it if it lingers.
		t := time.AfterFunc(3*time.Second, func() { _ = cmd.Process.Kill() })
		defer t.Stop()
		<-attached
		if err := cmd.Wait(); err != nil && !errors.Is(err, context.Canceled) {
			_ = err // the process ended by kill or with an error: nothing to restart here
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() {
			cancel()
			<-done
		})
	}, nil
}
