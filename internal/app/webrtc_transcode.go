package app

import (
	"context"
	"io"

	webrtcserver "roomcast/internal/server/webrtc"
	"roomcast/internal/transcode"
)

// webrtcTranscoder runs the WebRTC audio bridges as supervised jobs of the
// transcode manager (kind webrtc-audio: counted, bounded by
// -max-transcodes, restarted with back-off, in /metrics).
type webrtcTranscoder struct{ m *transcode.Manager }

// Run implements webrtcserver.Runner.
func (r webrtcTranscoder) Run(ctx context.Context, job webrtcserver.Job) (func(), error) {
	j, err := r.m.Start(ctx, transcode.Spec{
		Kind: transcode.KindAudio,
		Name: job.Name,
		Args: job.Args,
		Done: job.Done,
		Attach: func(ctx context.Context, p transcode.Pipes) error {
			return job.Attach(ctx, p.Stdin, io.Reader(p.Stdout))
		},
	})
	if err != nil {
		return nil, err
	}
	return func() {
		j.Stop()
		<-j.Done()
	}, nil
}
