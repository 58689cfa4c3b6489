package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// publishArgs are ffmpeg's arguments to publish the test pattern (640x360
// H.264 at 25 fps, keyframe every 2 s; 440 Hz mono AAC at 44.1 kHz) in real
// time to url.
func publishArgs(url string) []string {
	return publishArgsFor(url, 0)
}

// publishArgsFor is publishArgs for a publisher that pushes exactly d of
// media (by its timestamps) and then stops by itself; d = 0 means until
// it is killed.
func publishArgsFor(url string, d time.Duration) []string {
	var limit []string
	if d > 0 {
		limit = []string{"-t", strconv.FormatFloat(d.Seconds(), 'f', 3, 64)}
	}
	return append(append([]string{
		"-hide_banner", "-nostdin", "-nostats", "-loglevel", "warning",
		"-re", "-f", "lavfi", "-i", "testsrc2=size=640x360:rate=25",
		"-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100",
		"-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency", "-g", "50", "-pix_fmt", "yuv420p",
		"-c:a", "aac", "-b:a", "64k",
	}, limit...), "-f", "flv", url)
}

// Expected properties of the published test pattern.
const (
	wantWidth      = 640
	wantHeight     = 360
	wantSampleRate = 44100
	wantChannels   = 1 // the sine source is mono
)

// publisher is an ffmpeg process publishing the test pattern.
type publisher struct {
	url    string
	cmd    *exec.Cmd
	cancel context.CancelFunc
	stderr *syncBuffer
	done   chan struct{} // closed when the process has exited
	err    error         // the process's exit error; valid once done is closed
}

// startPublisher starts ffmpeg publishing to url. The process is killed when
// the test ends; its stderr is printed if the test failed.
func startPublisher(t *testing.T, url string) *publisher {
	t.Helper()
	return startPublisherFor(t, url, 0)
}

// startPublisherFor is startPublisher for a publisher that pushes d of
// media and exits by itself (d = 0: until killed).
func startPublisherFor(t *testing.T, url string, d time.Duration) *publisher {
	t.Helper()
	ffmpeg := requireTool(t, "ffmpeg")
	ctx, cancel := context.WithCancel(context.Background())
	p := &publisher{url: url, cancel: cancel, stderr: &syncBuffer{}, done: make(chan struct{})}
	p.cmd = exec.CommandContext(ctx, ffmpeg, publishArgsFor(url, d)...)
	p.cmd.Stderr = p.stderr
	p.cmd.WaitDelay = 5 * time.Second
	if err := p.cmd.Start(); err != nil {
		cancel()
		t.Fatalf("start ffmpeg publisher: %v", err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.kill()
		if t.Failed() {
			t.Logf("ffmpeg publisher to %s (exit: %v), stderr:\n%s", url, p.err, p.stderr)
		}
	})
	return p
}

// kill kills the process (SIGKILL, as a crash or a pulled cable would end a
// publisher) and waits for it to exit.
func (p *publisher) kill() {
	p.cancel()
	<-p.done
}

// running reports whether the process has not exited.
func (p *publisher) running() bool {
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// waitExit waits up to timeout for the process to exit by itself and
// returns its exit error; ok is false if it is still running.
func (p *publisher) waitExit(timeout time.Duration) (err error, ok bool) {
	select {
	case <-p.done:
		return p.err, true
	case <-time.After(timeout):
		return nil, false
	}
}

// probeStream is one stream of ffprobe -show_streams -of json.
type probeStream struct {
	CodecType  string `json:"codec_type"`
	CodecName  string `json:"codec_name"`
	Width      int    `json:"width"`
	Height     int    `json:"height"`
	SampleRate string `json:"sample_rate"`
	Channels   int    `json:"channels"`
}

// ioTimeout is passed to ffprobe and ffmpeg as -rw_timeout (microseconds)
// so that a stalled server makes them fail instead of hang. The generic
// AVIO option is used because the RTMP protocol's own -timeout means
// "listen".
const ioTimeout = "10000000"

// ffprobe reads url's streams with ffprobe.
func ffprobe(ctx context.Context, t *testing.T, url string) ([]probeStream, error) {
	t.Helper()
	bin := requireTool(t, "ffprobe")
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "-hide_banner", "-v", "error", "-rw_timeout", ioTimeout,
		"-show_streams", "-of", "json", url)
	var stderr syncBuffer
	cmd.Stderr = &stderr
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("ffprobe %s: %w; stderr:\n%s", url, err, stderr.String())
	}
	var res struct {
		Streams []probeStream `json:"streams"`
	}
	if err := json.Unmarshal(out, &res); err != nil {
		return nil, fmt.Errorf("ffprobe %s: parse output: %w: %s", url, err, out)
	}
	if s := strings.TrimSpace(stderr.String()); s != "" {
		t.Logf("ffprobe %s stderr:\n%s", url, s)
	}
	return res.Streams, nil
}

// decodeResult is what a decoding ffmpeg reports.
type decodeResult struct {
	Frames int    // video frames decoded
	Stderr string // everything ffmpeg logged at level error and above
}

// decode decodes 2 s of url with ffmpeg into the null muxer and reports the
// number of video frames from -progress.
func decode(ctx context.Context, t *testing.T, url string) (decodeResult, error) {
	t.Helper()
	bin := requireTool(t, "ffmpeg")
	ctx, cancel := context.WithTimeout(ctx, 40*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "-hide_banner", "-nostdin", "-nostats", "-v", "error",
		"-rw_timeout", ioTimeout, "-i", url,
		"-t", "2", "-f", "null", "-progress", "pipe:1", "-")
	var stderr syncBuffer
	cmd.Stderr = &stderr
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.Output()
	res := decodeResult{Stderr: strings.TrimSpace(stderr.String())}
	// -progress writes blocks of key=value lines; the last frame= counts all.
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "frame="); ok {
			if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil {
				res.Frames = n
			}
		}
	}
	if err != nil {
		return res, fmt.Errorf("ffmpeg decoding %s: %w; stderr:\n%s", url, err, res.Stderr)
	}
	return res, nil
}
