package transcode

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// pngArgs turn a PNG on stdin into a JPEG on stdout.
var pngArgs = []string{"-f", "png_pipe", "-i", "pipe:0", "-frames:v", "1", "-c:v", "mjpeg", "-f", "image2pipe", "pipe:1"}

func testPNG(t *testing.T, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.RGBA{uint8(x), uint8(y), 128, 255})
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestRunRealFFmpeg(t *testing.T) {
	m := realManager(t, Config{})
	out, err := m.Run(context.Background(), KindCover, pngArgs, testPNG(t, 64, 48), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := jpeg.DecodeConfig(bytes.NewReader(out))
	if err != nil {
		t.Fatalf("output is not a JPEG: %v", err)
	}
	if cfg.Width != 64 || cfg.Height != 48 {
		t.Fatalf("JPEG is %dx%d, want 64x48", cfg.Width, cfg.Height)
	}
	st := m.Stats()[KindCover]
	if st.Running != 0 || st.CPU <= 0 {
		t.Fatalf("stats after one run = %+v, want none running and some CPU", st)
	}
}

func TestRunRealFFmpegBadInput(t *testing.T) {
	m := realManager(t, Config{})
	_, err := m.Run(context.Background(), KindCover, pngArgs, []byte("not a png"), 1<<20)
	if err == nil || !strings.Contains(err.Error(), "ffmpeg") {
		t.Fatalf("Run with garbage = %v, want an ffmpeg error", err)
	}
}

func TestRunOutputLimit(t *testing.T) {
	m := realManager(t, Config{})
	if _, err := m.Run(context.Background(), KindCover, pngArgs, testPNG(t, 256, 256), 10); err == nil {
		t.Fatal("Run beyond maxOut succeeded")
	}
}

// TestJobRealFFmpegPipes runs a long job that copies raw audio from stdin
// to stdout and checks the caller talks to it through the pipes, and that
// closing stdin ends the job cleanly without a restart.
func TestJobRealFFmpegPipes(t *testing.T) {
	m := realManager(t, Config{})
	input := make([]byte, 64000)
	for i := range input {
		input[i] = byte(i * 7)
	}
	var got []byte
	job, err := m.Start(context.Background(), Spec{
		Kind: KindMix, Name: "echo",
		Args: []string{"-f", "s16le", "-ar", "8000", "-ac", "1", "-i", "pipe:0", "-c:a", "pcm_s16le", "-f", "s16le", "pipe:1"},
		Attach: func(ctx context.Context, p Pipes) error {
			go func() {
				p.Stdin.Write(input)
				p.Stdin.Close()
			}()
			var err error
			got, err = io.ReadAll(p.Stdout)
			return err
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	<-job.Done()
	if !bytes.Equal(got, input) {
		t.Fatalf("got %d bytes back, want the %d written", len(got), len(input))
	}
	if job.Restarts() != 0 {
		t.Fatalf("restarts = %d (%v), want 0", job.Restarts(), job.LastError())
	}
}

// TestJobRestartsWithBackoff runs a process that crashes at once and checks
// it is restarted after back-offs that double.
func TestJobRestartsWithBackoff(t *testing.T) {
	dir := t.TempDir()
	starts := filepath.Join(dir, "starts")
	bin := fakeFFmpeg(t, "echo x >> "+starts+"\necho boom >&2\nkill -SEGV $$")
	m := newManager(t, Config{FFmpeg: bin, MinBackoff: 20 * time.Millisecond, MaxBackoff: 80 * time.Millisecond})
	var mu sync.Mutex
	var times []time.Time
	job, err := m.Start(context.Background(), Spec{
		Kind: KindRendition, Name: "crash",
		Args: []string{"-i", "pipe:0", "pipe:1"},
		Attach: func(ctx context.Context, p Pipes) error {
			mu.Lock()
			times = append(times, time.Now())
			mu.Unlock()
			_, err := io.Copy(io.Discard, p.Stdout)
			return err
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "5 restarts", func() bool { return job.Restarts() >= 5 })
	job.Stop()
	if err := job.LastError(); err == nil || !strings.Contains(err.Error(), "boom") {
		t.Fatalf("last error = %v, want the crash with its stderr", err)
	}
	mu.Lock()
	defer mu.Unlock()
	want := []time.Duration{20, 40, 80, 80}
	for i, w := range want {
		if gap := times[i+1].Sub(times[i]); gap < w*time.Millisecond {
			t.Errorf("gap before restart %d = %v, want at least %v", i+1, gap, w*time.Millisecond)
		}
	}
	st := m.Stats()[KindRendition]
	if st.Restarts < 5 || st.Running != 0 {
		t.Fatalf("stats = %+v, want at least 5 restarts and none running", st)
	}
	b, _ := os.ReadFile(starts)
	if n := strings.Count(string(b), "x"); n < 5 {
		t.Fatalf("process started %d times, want at least 5", n)
	}
}

// TestJobStops checks a job whose process ignores its closed stdin is
// killed after the grace, on Stop, on ctx cancel and on Spec.Done.
func TestJobStops(t *testing.T) {
	bin := fakeFFmpeg(t, "exec /bin/sleep 600")
	m := newManager(t, Config{FFmpeg: bin, StopGrace: 50 * time.Millisecond})
	args := []string{"-i", "pipe:0", "pipe:1"}
	spec := Spec{Kind: KindCover, Args: args}
	for _, tc := range []struct {
		name string
		stop func(job *Job, cancel context.CancelFunc, done chan struct{})
	}{
		{"Stop", func(j *Job, _ context.CancelFunc, _ chan struct{}) { j.Stop() }},
		{"cancel", func(_ *Job, c context.CancelFunc, _ chan struct{}) { c() }},
		{"Done", func(_ *Job, _ context.CancelFunc, d chan struct{}) { close(d) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			done := make(chan struct{})
			s := spec
			s.Done = done
			job, err := m.Start(ctx, s)
			if err != nil {
				t.Fatal(err)
			}
			waitFor(t, "the process", func() bool { return m.Stats()[KindCover].Running == 1 })
			tc.stop(job, cancel, done)
			<-job.Done()
			if st := m.Stats()[KindCover]; st.Running != 0 || st.Restarts != 0 {
				t.Fatalf("stats after stop = %+v", st)
			}
		})
	}
}

func TestMaxJobs(t *testing.T) {
	bin := fakeFFmpeg(t, "exec /bin/sleep 600")
	var refused []string
	var mu sync.Mutex
	m := newManager(t, Config{FFmpeg: bin, MaxJobs: 2, StopGrace: 50 * time.Millisecond, Refused: func(l string) {
		mu.Lock()
		refused = append(refused, l)
		mu.Unlock()
	}})
	spec := Spec{Kind: KindRendition, Args: []string{"-i", "pipe:0", "pipe:1"}}
	j1, err := m.Start(context.Background(), spec)
	if err != nil {
		t.Fatal(err)
	}
	j2, err := m.Start(context.Background(), spec)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Start(context.Background(), spec); !errors.Is(err, ErrTooMany) {
		t.Fatalf("third Start = %v, want ErrTooMany", err)
	}
	if _, err := m.Run(context.Background(), KindCover, spec.Args, nil, 10); !errors.Is(err, ErrTooMany) {
		t.Fatalf("Run beyond the bound = %v, want ErrTooMany", err)
	}
	mu.Lock()
	if len(refused) != 2 || refused[0] != "max-transcodes" {
		t.Fatalf("refusals reported = %q", refused)
	}
	mu.Unlock()
	if st := m.Stats(); st[KindRendition].Refused != 1 || st[KindCover].Refused != 1 {
		t.Fatalf("refused stats = %+v", st)
	}
	j1.Stop()
	j3, err := m.Start(context.Background(), spec)
	if err != nil {
		t.Fatalf("Start after a slot was freed: %v", err)
	}
	j2.Stop()
	j3.Stop()
}

func TestUnavailable(t *testing.T) {
	m := newManager(t, Config{FFmpeg: filepath.Join(t.TempDir(), "no-ffmpeg")})
	if m.Available() {
		t.Fatal("Available with a missing binary")
	}
	if m.Version() == "" {
		t.Fatal("no reason given for the missing binary")
	}
	if _, err := m.Start(context.Background(), Spec{Kind: KindCover, Args: pngArgs}); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("Start = %v, want ErrUnavailable", err)
	}
	if _, err := m.Run(context.Background(), KindCover, pngArgs, nil, 10); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("Run = %v, want ErrUnavailable", err)
	}
}

func TestStartRefusesBadArgs(t *testing.T) {
	m := realManager(t, Config{})
	if _, err := m.Start(context.Background(), Spec{Kind: KindCover, Args: []string{"-i", "/etc/passwd", "pipe:1"}}); !errors.Is(err, ErrBadArgs) {
		t.Fatalf("Start = %v, want ErrBadArgs", err)
	}
	if _, err := m.Run(context.Background(), KindCover, []string{"-i", "pipe:0", "/tmp/x.jpg"}, nil, 10); !errors.Is(err, ErrBadArgs) {
		t.Fatalf("Run = %v, want ErrBadArgs", err)
	}
}

func TestCloseStopsJobs(t *testing.T) {
	bin := fakeFFmpeg(t, "exec /bin/sleep 600")
	m := New(context.Background(), Config{FFmpeg: bin, StopGrace: 50 * time.Millisecond}, testLogger(t))
	job, err := m.Start(context.Background(), Spec{Kind: KindMix, Args: []string{"-i", "pipe:0", "pipe:1"}})
	if err != nil {
		t.Fatal(err)
	}
	m.Close()
	select {
	case <-job.Done():
	default:
		t.Fatal("job still running after Close")
	}
	if _, err := m.Start(context.Background(), Spec{Kind: KindMix, Args: []string{"-i", "pipe:0", "pipe:1"}}); !errors.Is(err, ErrClosed) {
		t.Fatalf("Start after Close = %v, want ErrClosed", err)
	}
}

// TestJobExtraInputs feeds a real ffmpeg through pipe:3, an input besides
// stdin, and reads it back on stdout.
func TestJobExtraInputs(t *testing.T) {
	m := realManager(t, Config{})
	input := make([]byte, 32000)
	for i := range input {
		input[i] = byte(i * 3)
	}
	var got []byte
	job, err := m.Start(context.Background(), Spec{
		Kind: KindMix, Name: "extra", ExtraInputs: 1,
		Args: []string{"-f", "s16le", "-ar", "8000", "-ac", "1", "-i", "pipe:3", "-c:a", "pcm_s16le", "-f", "s16le", "pipe:1"},
		Attach: func(ctx context.Context, p Pipes) error {
			if len(p.Inputs) != 1 {
				return errors.New("no extra input")
			}
			p.Stdin.Close()
			go func() {
				p.Inputs[0].Write(input)
				p.Inputs[0].Close()
			}()
			var err error
			got, err = io.ReadAll(p.Stdout)
			return err
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	<-job.Done()
	if !bytes.Equal(got, input) || job.Restarts() != 0 {
		t.Fatalf("got %d bytes back (restarts %d, %v), want the %d written", len(got), job.Restarts(), job.LastError(), len(input))
	}
}
