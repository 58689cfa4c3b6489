package transcode_test

import (
	"context"
	"io"
	"log/slog"

	"roomcast/internal/transcode"
)

// A one-shot run: bytes in on stdin, bytes out from stdout.
func ExampleManager_Run() {
	m := transcode.New(context.Background(), transcode.Config{MaxJobs: 8}, slog.Default())
	defer m.Close()
	if !m.Available() {
		return // ffmpeg is missing: the feature is off
	}
	var png []byte // an image from the caller
	jpeg, err := m.Run(context.Background(), transcode.KindCover,
		[]string{"-f", "png_pipe", "-i", "pipe:0", "-frames:v", "1", "-c:v", "mjpeg", "-f", "image2pipe", "pipe:1"},
		png, 8<<20)
	_, _ = jpeg, err
}

// A supervised job: Attach feeds stdin and reads stdout for each run of
// the process; the job restarts with back-off if ffmpeg dies and stops
// when done (a hub stream's Done channel) is closed.
func ExampleManager_Start() {
	m := transcode.New(context.Background(), transcode.Config{}, slog.Default())
	defer m.Close()
	done := make(chan struct{}) // e.g. hubStream.Done()
	job, err := m.Start(context.Background(), transcode.Spec{
		Kind: transcode.KindMix,
		Name: "room42 mix", // for logs only
		Args: []string{"-f", "flv", "-i", "pipe:0", "-c", "copy", "-f", "flv", "pipe:1"},
		Done: done,
		Attach: func(ctx context.Context, p transcode.Pipes) error {
			go func() {
				defer p.Stdin.Close() // end of input: ffmpeg finishes
				// write FLV from the hub to p.Stdin until ctx is done
			}()
			_, err := io.Copy(io.Discard, p.Stdout) // publish the output
			return err
		},
	})
	if err != nil {
		return // ErrUnavailable, ErrTooMany (-max-transcodes), ErrBadArgs
	}
	close(done)
	<-job.Done()
}
