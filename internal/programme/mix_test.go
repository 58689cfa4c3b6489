package programme

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"roomcast/internal/hub"
	"roomcast/internal/media"
	"roomcast/internal/protocol/flv"
)

// execRunner runs the mixer once with os/exec, for this package's tests
// only: the server runs it under internal/transcode's supervision.
type execRunner struct {
	t    *testing.T
	runs chan struct{}
}

func (r *execRunner) StartMix(ctx context.Context, name string, args []string, inputs int, attach func(context.Context, []io.WriteCloser, io.Reader) error) (func(), error) {
	ctx, cancel := context.WithCancel(ctx)
	cmd := exec.CommandContext(ctx, "ffmpeg", append([]string{"-hide_banner", "-nostats", "-nostdin", "-loglevel", "error"}, args...)...)
	var ins []io.WriteCloser
	stdin, err := cmd.StdinPipe()
	if err != nil {
		cancel()
		return nil, err
	}
	ins = append(ins, stdin)
	for range inputs - 1 {
		pr, pw, err := os.Pipe()
		if err != nil {
			cancel()
			return nil, err
		}
		cmd.ExtraFiles = append(cmd.ExtraFiles, pr)
		ins = append(ins, pw)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		cancel()
		return nil, err
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		cancel()
		return nil, err
	}
	for _, f := range cmd.ExtraFiles {
		f.Close()
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		err := attach(ctx, ins, out)
		for _, w := range ins {
			w.Close()
		}
		werr := cmd.Wait()
		if ctx.Err() == nil {
			r.t.Logf("mixer ended: %v, %v: %s", err, werr, stderr.String())
		}
	}()
	select {
	case r.runs <- struct{}{}:
	default:
	}
	return func() { cancel(); <-done }, nil
}

// flvFile makes an FLV of a plain colour picture with a tone.
func flvFile(t *testing.T, color, size string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), color+".flv")
	cmd := exec.Command("ffmpeg", "-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i", "color=c="+color+":size="+size+":rate=25",
		"-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100", "-t", "30",
		"-c:v", "libx264", "-preset", "ultrafast", "-g", "25", "-pix_fmt", "yuv420p", "-c:a", "aac", "-f", "flv", path)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg: %v: %s", err, out)
	}
	return path
}

// replay publishes the FLV file as name in real time until ctx ends or the
// file does.
func replay(ctx context.Context, t *testing.T, h *hub.Hub, name, path string, wg *sync.WaitGroup) {
	replayPausable(ctx, t, h, name, path, wg, nil)
}

// replayPausable is replay that sends nothing while paused is set, its
// publisher staying connected (a stalled publisher).
func replayPausable(ctx context.Context, t *testing.T, h *hub.Hub, name, path string, wg *sync.WaitGroup, paused *atomic.Bool) {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := h.Publish(name, hub.PublisherInfo{Protocol: "test"})
	if err != nil {
		t.Fatal(err)
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer f.Close()
		defer pub.Close(nil)
		r := flv.NewReader(f, 0)
		if _, _, err := r.ReadHeader(); err != nil {
			t.Error(err)
			return
		}
		start := time.Now()
		for {
			tag, err := r.ReadTag()
			if err != nil {
				return
			}
			for paused != nil && paused.Load() {
				select {
				case <-ctx.Done():
					return
				case <-time.After(20 * time.Millisecond):
					start = start.Add(20 * time.Millisecond)
				}
			}
			if wait := time.Duration(tag.Timestamp)*time.Millisecond - time.Since(start); wait > 0 {
				select {
				case <-ctx.Done():
					return
				case <-time.After(wait):
				}
			}
			pkt, err := media.NewPacket(tag.Type, int64(tag.Timestamp), tag.Data)
			if err != nil {
				continue
			}
			if pub.Write(pkt) != nil {
				return
			}
		}
	}()
}

// startManager makes a blue host and a red guest file and runs a Manager
// with the real mixer over a new hub; cfg gets Mix and the Runner. It stops
// everything when the test ends.
func startManager(t *testing.T, cfg Config) (h *hub.Hub, hostFile, guestFile string, ctx context.Context, wg *sync.WaitGroup) {
	t.Helper()
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		t.Fatal("ffmpeg is required: scripts/install-test-deps.sh installs it")
	}
	hostFile, guestFile = flvFile(t, "blue", "320x180"), flvFile(t, "red", "160x120")
	h = hub.New(hub.Config{ReconnectGrace: -1}, slog.New(slog.DiscardHandler))
	cfg.Mix, cfg.Runner = true, &execRunner{t: t, runs: make(chan struct{}, 1)}
	m := New(h, cfg, nil)
	ctx, cancel := context.WithCancel(context.Background())
	wg = &sync.WaitGroup{}
	t.Cleanup(func() { cancel(); wg.Wait(); h.Close() })
	go m.Run(ctx)
	return h, hostFile, guestFile, ctx, wg
}

// TestManagerMixes runs the real mixer: a host and a co-host publish, the
// programme switches to the mix (at the host's size), and back to the host
// when the co-host's stream goes.
func TestManagerMixes(t *testing.T) {
	var lats []time.Duration
	var mu sync.Mutex
	h, hostFile, guestFile, ctx, wg := startManager(t, Config{MixLatency: func(d time.Duration) { mu.Lock(); lats = append(lats, d); mu.Unlock() }})

	replay(ctx, t, h, "s_r", hostFile, wg)
	waitFor(t, "the programme", func() bool { s := h.Stream("s_r-programme"); return s != nil && s.Live() })
	sub, err := h.Subscribe("s_r-programme", "flv")
	if err != nil {
		t.Fatal(err)
	}
	v := &viewer{sub: sub}
	_, _, _, epoch := v.next(t)

	gctx, stopGuest := context.WithCancel(ctx)
	replay(gctx, t, h, "s_r-user_g", guestFile, wg)
	waitFor(t, "the mix", func() bool { s := h.Stream("s_r-mix"); return s != nil && s.Live() })
	for {
		_, _, seq, ep := v.next(t)
		if ep != epoch {
			epoch = ep
			if seq == nil {
				t.Fatal("the switch to the mix came without a sequence header")
			}
			break
		}
	}
	if vs := h.Stream("s_r-mix").Stats().Video; vs == nil || vs.Width != 320 || vs.Height != 180 {
		t.Errorf("the mix is %+v, want the host's 320x180", vs)
	}
	// The co-host goes: the programme returns to the host.
	stopGuest()
	for {
		_, _, _, ep := v.next(t)
		if ep != epoch {
			break
		}
	}
	waitFor(t, "the mix to stop", func() bool { s := h.Stream("s_r-mix"); return s == nil || !s.Live() })
	mu.Lock()
	defer mu.Unlock()
	if len(lats) == 0 {
		t.Error("no mix latency was observed")
	} else {
		t.Logf("mix latency: %d frames, first %v, last %v", len(lats), lats[0], lats[len(lats)-1])
	}
	if errors.Is(ctx.Err(), context.Canceled) {
		t.Fatal("cancelled early")
	}
}

// TestManagerStalledCohost: a co-host whose publisher stays connected but
// sends nothing is taken out of the mix, so the programme does not freeze
// with it, and comes back when it sends again.
func TestManagerStalledCohost(t *testing.T) {
	h, hostFile, guestFile, ctx, wg := startManager(t, Config{StallAfter: time.Second})

	replay(ctx, t, h, "s_r", hostFile, wg)
	var paused atomic.Bool
	replayPausable(ctx, t, h, "s_r-user_g", guestFile, wg, &paused)
	mixLive := func() bool { s := h.Stream("s_r-mix"); return s != nil && s.Live() }
	waitFor(t, "the mix", mixLive)
	programmeIn := func() uint64 { return h.Stream("s_r-programme").Stats().BytesIn }

	paused.Store(true)
	waitFor(t, "the mix to stop without the stalled co-host", func() bool { return !mixLive() })
	if s := h.Stream("s_r-user_g"); s == nil || !s.Live() {
		t.Fatal("the stalled co-host's publisher should still be connected")
	}
	before := programmeIn()
	waitFor(t, "the programme to flow on with the host alone", func() bool { return programmeIn() > before+10_000 })

	paused.Store(false)
	waitFor(t, "the mix with the co-host back", mixLive)
	before = programmeIn()
	waitFor(t, "the mixed programme to flow", func() bool { return programmeIn() > before+10_000 })
}
