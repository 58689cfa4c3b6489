package app

import (
	"context"
	"io"

	"roomcast/internal/transcode"
)

// mixRunner runs the rooms' co-host mixes as supervised jobs of the
// transcode manager (restarts with back-off, -max-transcodes, CPU and
// restarts in /metrics): the programme.Runner the programme manager needs.
type mixRunner struct{ m *transcode.Manager }

// StartMix implements programme.Runner: the first input is the process's
// stdin (pipe:0), the others its extra input pipes (pipe:3, pipe:4, …).
func (r mixRunner) StartMix(ctx context.Context, name string, args []string, inputs int, attach func(context.Context, []io.WriteCloser, io.Reader) error) (func(), error) {
	job, err := r.m.Start(ctx, transcode.Spec{
		Kind:        transcode.KindMix,
		Name:        name,
		Args:        args,
		ExtraInputs: inputs - 1,
		Attach: func(ctx context.Context, p transcode.Pipes) error {
			return attach(ctx, append([]io.WriteCloser{p.Stdin}, p.Inputs...), p.Stdout)
		},
	})
	if err != nil {
		return nil, err
	}
	return func() {
		job.Stop()
		<-job.Done()
	}, nil
}
