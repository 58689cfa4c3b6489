package webrtc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/pion/webrtc/v4"
	pmedia "github.com/pion/webrtc/v4/pkg/media"

	"roomcast/internal/hub"
	"roomcast/internal/media"
	"roomcast/internal/protocol/adts"
	"roomcast/internal/protocol/ogg"
)

// opusRate is Opus's RTP clock and granule rate.
const opusRate = 48000

// catchUp is how much of the GOP cache's audio a new transcoder feeds:
// older audio would only add latency, as viewers join live.
const catchUp = 200 // ms

// audioFeeds holds one shared Opus track per stream with WHEP viewers: a
// transcoder (AAC → Opus) runs while at least one viewer holds the track.
type audioFeeds struct {
	srv   *Server
	mu    sync.Mutex
	feeds map[string]*audioFeed
}

type audioFeed struct {
	stream string
	track  *webrtc.TrackLocalStaticSample
	refs   int
	cancel context.CancelFunc
}

func newAudioFeeds(s *Server) *audioFeeds {
	return &audioFeeds{srv: s, feeds: make(map[string]*audioFeed)}
}

func (a *audioFeeds) count() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.feeds)
}

// acquire returns the stream's Opus track, starting its transcoder for the
// first viewer; release stops it after the last viewer left.
func (a *audioFeeds) acquire(stream string) (*webrtc.TrackLocalStaticSample, func(), error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	f := a.feeds[stream]
	if f == nil {
		track, err := webrtc.NewTrackLocalStaticSample(webrtc.RTPCodecCapability{
			MimeType: webrtc.MimeTypeOpus, ClockRate: opusRate, Channels: 2, SDPFmtpLine: "minptime=10;useinbandfec=1",
		}, "audio", "roomcast-"+stream)
		if err != nil {
			return nil, nil, fmt.Errorf("opus track: %w", err)
		}
		ctx, cancel := context.WithCancel(a.srv.ctx)
		f = &audioFeed{stream: stream, track: track, cancel: cancel}
		if !a.srv.background(func() {
			a.srv.runAudioFeed(ctx, f)
			a.forget(f)
		}) {
			cancel()
			return nil, nil, ErrClosed
		}
		a.feeds[stream] = f
	}
	f.refs++
	var once sync.Once
	return f.track, func() { once.Do(func() { a.release(f) }) }, nil
}

func (a *audioFeeds) release(f *audioFeed) {
	a.mu.Lock()
	f.refs--
	last := f.refs == 0
	a.mu.Unlock()
	if last {
		f.cancel()
		a.forget(f)
	}
}

// forget unregisters a feed whose transcoder stopped (its stream ended, or
// its last viewer left), so that the next viewer starts a new one.
func (a *audioFeeds) forget(f *audioFeed) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.feeds[f.stream] == f {
		delete(a.feeds, f.stream)
	}
}

// opusArgs are ffmpeg's arguments to turn ADTS AAC on stdin into Ogg Opus
// on stdout, one 20 ms packet per page, with no input buffering.
func opusArgs() []string {
	return []string{
		"-fflags", "nobuffer", "-probesize", "32", "-analyzeduration", "0",
		"-f", "aac", "-i", "pipe:0",
		"-vn", "-c:a", "libopus", "-b:a", "96k", "-ar", "48000", "-ac", "2",
		"-frame_duration", "20", "-application", "lowdelay",
		"-f", "ogg", "-page_duration", "20000", "-flush_packets", "1", "pipe:1",
	}
}

// runAudioFeed transcodes the stream's AAC to Opus on f's track until ctx
// ends (the last viewer left) or the stream ends. The job is supervised:
// a transcoder that dies is started again and fed from the live edge.
func (s *Server) runAudioFeed(ctx context.Context, f *audioFeed) {
	log := s.log.With("stream", f.stream, "role", "whep-audio")
	sub, err := s.hub.Subscribe(f.stream, "")
	if err != nil {
		log.Warn("WHEP audio not started: viewers get no audio", "err", err)
		return
	}
	defer sub.Close()
	stop, err := s.cfg.Transcoder.Run(ctx, Job{
		Name: "whep-audio " + f.stream,
		Args: opusArgs(),
		Done: sub.Stream().Done(),
		Attach: func(ctx context.Context, stdin io.WriteCloser, stdout io.Reader) error {
			return transcodeToOpus(ctx, sub, stdin, stdout, f.track)
		},
	})
	if err != nil {
		log.Warn("WHEP audio transcoder not started: viewers get no audio", "err", err)
		return
	}
	log.Info("WHEP audio transcoder started")
	select {
	case <-ctx.Done():
	case <-sub.Stream().Done():
	}
	stop()
	log.Info("WHEP audio transcoder stopped")
}

// transcodeToOpus is one run of a WHEP audio transcoder: the stream's AAC
// into stdin, Opus from stdout onto the track. It returns nil when the
// stream or the feed ends, an error when the process or a pipe fails.
func transcodeToOpus(ctx context.Context, sub *hub.Subscriber, stdin io.WriteCloser, stdout io.Reader, track *webrtc.TrackLocalStaticSample) error {
	read := make(chan error, 1)
	go func() { read <- readOpus(stdout, track) }()
	err := feedAAC(ctx, sub, stdin)
	_ = stdin.Close()
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, hub.ErrEnded) {
		<-read // ffmpeg drains its input and ends
		return nil
	}
	return err
}

// feedAAC writes the stream's AAC frames in ADTS framing to w. Of the
// first batch (the GOP cache) it feeds only the last catchUp ms.
func feedAAC(ctx context.Context, sub *hub.Subscriber, w io.Writer) error {
	var cfg adts.Config
	var haveCfg, first = false, true
	var frames []*hub.Frame
	var buf []byte
	for {
		var err error
		frames, err = sub.Next(ctx, frames)
		if err != nil {
			return err
		}
		var newest int64
		for _, fr := range frames {
			newest = max(newest, fr.Packet.DTS)
		}
		buf = buf[:0]
		for _, fr := range frames {
			p := fr.Packet
			if p.Type != media.TagAudio || p.Codec != media.CodecAAC {
				continue
			}
			if p.SeqHeader {
				if c, err := adts.ParseAudioSpecificConfig(p.Payload()); err == nil {
					cfg, haveCfg = c, true
				}
				continue
			}
			if !haveCfg || first && p.DTS < newest-catchUp {
				continue
			}
			if buf, err = adts.AppendFrame(buf, cfg, p.Payload()); err != nil {
				return fmt.Errorf("adts: %w", err)
			}
		}
		first = false
		clear(frames)
		if len(buf) > 0 {
			if _, err := w.Write(buf); err != nil {
				return fmt.Errorf("write to transcoder: %w", err)
			}
		}
	}
}

// readOpus reads Ogg Opus from r and writes each packet to track with its
// duration (from the pages' granule positions).
func readOpus(r io.Reader, track *webrtc.TrackLocalStaticSample) error {
	or := ogg.NewReader(r)
	var headers int
	var last int64 = -1
	var dur time.Duration
	for {
		p, err := or.ReadPacket()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return fmt.Errorf("transcoder output: %w", err)
		}
		if headers < 2 { // OpusHead, OpusTags
			headers++
			continue
		}
		if p.Index == 0 {
			dur = 20 * time.Millisecond
			if last >= 0 && p.Granule > last && p.PageCount > 0 {
				dur = time.Duration(p.Granule-last) * time.Second / opusRate / time.Duration(p.PageCount)
			}
			last = p.Granule
		}
		if err := track.WriteSample(pmedia.Sample{Data: p.Data, Duration: dur}); err != nil {
			return fmt.Errorf("write audio: %w", err)
		}
	}
}
