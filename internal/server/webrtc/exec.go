package webrtc

import (
	"context"
	"fmt"
	"io"
	"os/exec"
	"sync"
)

// ExecRunner runs each transcoder as a plain child process, without
// restarts; internal/transcode's supervisor replaces it in the server.
type ExecRunner struct {
	// Path is the ffmpeg binary.
	Path string
}

// Start implements Runner.
func (e ExecRunner) Start(ctx context.Context, name string, args []string) (Process, error) {
	cmd := exec.CommandContext(ctx, e.Path, args...)
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("%s: start %s: %w", name, e.Path, err)
	}
	p := &execProcess{cmd: cmd, in: in, out: out, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

type execProcess struct {
	cmd  *exec.Cmd
	in   io.WriteCloser
	out  io.Reader
	done chan struct{}
	once sync.Once
}

func (p *execProcess) Stdin() io.WriteCloser { return p.in }
func (p *execProcess) Stdout() io.Reader     { return p.out }

func (p *execProcess) Stop() {
	p.once.Do(func() {
		_ = p.in.Close()
		_ = p.cmd.Process.Kill()
		<-p.done
	})
}
