package programme

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"roomcast/internal/hub"
	"roomcast/internal/media"
	"roomcast/internal/protocol/flv"
	"roomcast/internal/room"
)

// Runner runs supervised mixer processes; the app implements it with
// internal/transcode (restarts with back-off, the bound on processes, CPU
// and restarts in /metrics).
type Runner interface {
	// StartMix starts a supervised ffmpeg with args, whose inputs are
	// pipe:0 and then pipe:3, pipe:4, … (inputs in all) and whose output is
	// pipe:1. attach is called for every run with the process's input
	// pipes, in that order, and its output; done is closed when the job
	// ends for good. stop ends it and waits for it.
	StartMix(ctx context.Context, name string, args []string, inputs int, attach func(ctx context.Context, in []io.WriteCloser, out io.Reader) error) (stop func(), err error)
}

// mixJob is a running mix.
type mixJob struct {
	stop func()
}

// tsBase is where the inputs' timestamps start, so that the frames a
// member's GOP cache replays at the start stay positive.
const tsBase = 10_000 // ms

// startMix starts the mix of the host of roomStream and the co-host streams
// cohosts.
func (m *Manager) startMix(ctx context.Context, roomStream string, cohosts []string) (*mixJob, error) {
	inputs := append([]string{roomStream}, cohosts...)
	l := layoutFor(m.h, roomStream, cohosts, m.cfg.Layout)
	args := mixArgs(l)
	log := m.log.With("room_stream", roomStream, "cohosts", len(cohosts))
	mixName := room.MixStream(roomStream)
	stop, err := m.cfg.Runner.StartMix(ctx, "mix "+roomStream, args, len(inputs), func(ctx context.Context, in []io.WriteCloser, out io.Reader) error {
		return runMix(ctx, m.h, log, mixName, inputs, in, out, m.cfg.MixLatency)
	})
	if err != nil {
		return nil, err
	}
	log.Info("mix started", "layout", m.cfg.Layout, "width", l.width, "height", l.height, "fps", l.fps)
	return &mixJob{stop: stop}, nil
}

// runMix is one run of the mixer: it feeds every member's stream into its
// input pipe and publishes the output into the mix stream.
func runMix(ctx context.Context, h *hub.Hub, log *slog.Logger, mixName string, inputs []string, in []io.WriteCloser, out io.Reader, observe func(time.Duration)) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	start := time.Now()
	lat := &latencyProbe{observe: observe}
	var wg sync.WaitGroup
	hostErr := make(chan error, 1)
	for i, name := range inputs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var probe *latencyProbe
			if i == 0 {
				probe = lat
			}
			err := feed(ctx, h, name, in[i], start, probe)
			_ = in[i].Close()
			if i == 0 && ctx.Err() == nil {
				// Without the host there is no programme to mix.
				hostErr <- fmt.Errorf("host input: %w", err)
				cancel()
			}
		}()
	}
	err := publishOutput(ctx, h, mixName, out, lat)
	cancel()
	wg.Wait()
	select {
	case herr := <-hostErr:
		if errors.Is(herr, hub.ErrEnded) {
			return nil
		}
		return herr
	default:
	}
	if err != nil && ctx.Err() == nil {
		return err
	}
	return err
}

// feed writes the named stream as FLV into w. Timestamps are moved so that
// every input is on one clock, the time since the mix started (plus
// tsBase): the newest frame of a member's first batch (its GOP cache)
// lands at the moment it was read, so members that joined the hub at
// different times stay in step in the mix.
func feed(ctx context.Context, h *hub.Hub, name string, w io.Writer, start time.Time, lat *latencyProbe) error {
	sub, err := h.Subscribe(name, "")
	if err != nil {
		return err
	}
	defer sub.Close()
	hasAudio, hasVideo := true, true
	if st := sub.Stream().Stats(); st.Video != nil || st.Audio != nil {
		hasAudio, hasVideo = st.Audio != nil, st.Video != nil
	}
	buf := flv.AppendHeader(nil, hasAudio, hasVideo)
	var (
		frames  []*hub.Frame
		offset  int64
		started bool
	)
	for {
		frames, err = sub.Next(ctx, frames)
		if err != nil {
			return err
		}
		if !started && len(frames) > 0 {
			started = true
			offset = tsBase + time.Since(start).Milliseconds() - frames[len(frames)-1].Packet.DTS
		}
		for _, f := range frames {
			p := f.Packet
			buf = flv.AppendTag(buf, p.Type, max(p.DTS+offset, 0), p.Data)
		}
		if _, err := w.Write(buf); err != nil {
			return fmt.Errorf("write to the mixer: %w", err)
		}
		if lat != nil {
			now := time.Now()
			for _, f := range frames {
				if p := f.Packet; p.Type == media.TagVideo && !p.SeqHeader {
					lat.in(p.PTS()+offset, now)
				}
			}
		}
		clear(frames)
		buf = buf[:0]
	}
}

// publishOutput reads the mixer's FLV output and publishes it as the mix
// stream.
func publishOutput(ctx context.Context, h *hub.Hub, name string, out io.Reader, lat *latencyProbe) error {
	r := flv.NewReader(out, 0)
	if _, _, err := r.ReadHeader(); err != nil {
		return fmt.Errorf("mixer output: %w", err)
	}
	var pub *hub.Publisher
	defer func() {
		if pub != nil {
			pub.Close(nil)
		}
	}()
	for ctx.Err() == nil {
		tag, err := r.ReadTag()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("mixer output: %w", err)
		}
		pkt, err := media.NewPacket(tag.Type, int64(tag.Timestamp), tag.Data)
		if err != nil {
			return fmt.Errorf("mixer output: %w", err)
		}
		if pub == nil {
			if pub, err = publishRetry(ctx, h, name); err != nil {
				return err
			}
		}
		if pkt.Type == media.TagVideo && !pkt.SeqHeader {
			lat.out(pkt.PTS(), time.Now())
		}
		if err := pub.Write(pkt); err != nil {
			return fmt.Errorf("publish the mix: %w", err)
		}
	}
	return nil
}

// publishRetry publishes name, waiting a little while an earlier mix still
// holds it.
func publishRetry(ctx context.Context, h *hub.Hub, name string) (*hub.Publisher, error) {
	for i := 0; ; i++ {
		pub, err := h.Publish(name, hub.PublisherInfo{Protocol: "mix", Internal: true})
		if err == nil || !errors.Is(err, hub.ErrStreamBusy) || i == 50 {
			return pub, err
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}
