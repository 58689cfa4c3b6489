package webrtc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/media/oggwriter"

	"roomcast/internal/media"
	"roomcast/internal/protocol/adts"
)

// aacArgs are ffmpeg's arguments to turn Ogg Opus on stdin into ADTS AAC
// on stdout at 48 kHz, with no input buffering.
func aacArgs() []string {
	return []string{
		"-fflags", "nobuffer", "-probesize", "32", "-analyzeduration", "0",
		"-f", "ogg", "-i", "pipe:0",
		"-vn", "-c:a", "aac", "-b:a", "128k", "-ar", "48000", "-ac", "2",
		"-f", "adts", "-flush_packets", "1", "pipe:1",
	}
}

// opusQueue bounds the Opus packets waiting for the transcoder (2 s):
// while it restarts, older ones are dropped.
const opusQueue = 100

// readAudio passes the Opus track to the stream's WebRTC viewers (the tap)
// and transcodes it to AAC into the hub through a supervised ffmpeg job:
// Ogg Opus in, ADTS AAC out. Each run's AAC frames count 1024 samples each
// from the arrival of the first Opus packet it got.
func (p *publisher) readAudio(track *webrtc.TrackRemote) error {
	tap, err := p.srv.taps.open(p.stream, p.pub.Stream().Done())
	if err != nil {
		return err
	}
	var pkts chan *rtp.Packet
	if p.srv.cfg.Transcoder != nil {
		pkts = make(chan *rtp.Packet, opusQueue)
		stop, err := p.srv.cfg.Transcoder.Run(p.ctx, Job{
			Name: "whip-audio " + p.stream,
			Args: aacArgs(),
			Attach: func(ctx context.Context, stdin io.WriteCloser, stdout io.Reader) error {
				return p.transcodeToAAC(ctx, pkts, stdin, stdout)
			},
		})
		if err != nil {
			return fmt.Errorf("start transcoder: %w", err)
		}
		defer stop()
	}
	for {
		pkt, _, err := track.ReadRTP()
		if err != nil {
			return nil // the session ended
		}
		if len(pkt.Payload) == 0 {
			continue
		}
		// WebRTC viewers get the Opus as it came.
		tap.write(pkt)
		if pkts == nil {
			continue // no transcoder: the hub gets video only
		}
		select {
		case pkts <- pkt:
		default: // the transcoder is behind or restarting: drop
		}
	}
}

// transcodeToAAC is one run of a WHIP audio transcoder.
func (p *publisher) transcodeToAAC(ctx context.Context, pkts <-chan *rtp.Packet, stdin io.WriteCloser, stdout io.Reader) error {
	var first *rtp.Packet
	select {
	case first = <-pkts:
	case <-ctx.Done():
		return nil
	}
	start := p.ms(time.Now())
	read := make(chan error, 1)
	go func() { read <- p.readAAC(stdout, start) }()
	ow, err := oggwriter.NewWith(stdin, opusRate, 2)
	if err != nil {
		return fmt.Errorf("ogg writer: %w", err)
	}
	for pkt := first; ; {
		if err := ow.WriteRTP(pkt); err != nil {
			return fmt.Errorf("write to transcoder: %w", err)
		}
		select {
		case pkt = <-pkts:
		case err := <-read:
			if err == nil {
				err = errors.New("transcoder output ended")
			}
			return err
		case <-ctx.Done():
			_ = stdin.Close()
			<-read
			return nil
		}
	}
}

// readAAC publishes the transcoder's AAC frames, a sequence header first.
func (p *publisher) readAAC(r io.Reader, start int64) error {
	ar := adts.NewReader(r)
	var n int64
	for {
		f, err := ar.ReadFrame()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return fmt.Errorf("transcoder output: %w", err)
		}
		rate := int64(f.Config.SampleRate())
		dts := start + n*1024*1000/rate
		if n == 0 {
			pkt, err := media.NewPacket(media.TagAudio, dts, append([]byte{0xaf, 0}, f.Config.AudioSpecificConfig()...))
			if err != nil {
				return err
			}
			if !p.send(pkt) {
				return nil
			}
		}
		n++
		pkt, err := media.NewPacket(media.TagAudio, dts, append([]byte{0xaf, 1}, f.Data...))
		if err != nil {
			return err
		}
		if !p.send(pkt) {
			return nil
		}
	}
}
