package webrtc

import (
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/media/oggwriter"

	"roomcast/internal/media"
	"roomcast/internal/protocol/adts"
)

// aacArgs are ffmpeg's arguments to turn Ogg Opus on stdin into ADTS AAC
// on stdout at 48 kHz, with no input buffering.
func aacArgs() []string {
	return []string{
		"-hide_banner", "-loglevel", "error",
		"-fflags", "nobuffer", "-probesize", "32", "-analyzeduration", "0",
		"-f", "ogg", "-i", "pipe:0",
		"-vn", "-c:a", "aac", "-b:a", "128k", "-ar", "48000", "-ac", "2",
		"-f", "adts", "-flush_packets", "1", "pipe:1",
	}
}

// readAudio transcodes the Opus track to AAC into the hub: Ogg Opus into
// ffmpeg, ADTS AAC out; the AAC frames' DTS count 1024 samples each from
// the arrival of the first Opus packet.
func (p *publisher) readAudio(track *webrtc.TrackRemote) error {
	if p.srv.cfg.Transcoder == nil {
		// Video only: drain the track so that its buffers do not fill.
		for {
			if _, _, err := track.ReadRTP(); err != nil {
				return nil
			}
		}
	}
	first, _, err := track.ReadRTP()
	if err != nil {
		return nil
	}
	start := p.ms(time.Now())
	proc, err := p.srv.cfg.Transcoder.Start(p.ctx, "whip-audio-"+p.stream, aacArgs())
	if err != nil {
		return fmt.Errorf("start transcoder: %w", err)
	}
	defer proc.Stop()
	done := make(chan error, 1)
	go func() { done <- p.readAAC(proc.Stdout(), start) }()
	ow, err := oggwriter.NewWith(proc.Stdin(), opusRate, 2)
	if err != nil {
		return fmt.Errorf("ogg writer: %w", err)
	}
	for pkt := first; ; {
		if len(pkt.Payload) > 0 {
			if err := ow.WriteRTP(pkt); err != nil {
				return fmt.Errorf("write to transcoder: %w", err)
			}
		}
		if pkt, _, err = track.ReadRTP(); err != nil {
			_ = proc.Stdin().Close()
			select {
			case <-done:
			case <-time.After(2 * time.Second):
			}
			return nil
		}
	}
}

// readAAC publishes the transcoder's AAC frames.
func (p *publisher) readAAC(r io.Reader, start int64) error {
	ar := adts.NewReader(r)
	var n int64
	for {
		f, err := ar.ReadFrame()
		if err != nil {
			if errors.Is(err, io.EOF) || p.ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("transcoder output: %w", err)
		}
		rate := int64(f.Config.SampleRate())
		dts := start + n*1024*1000/rate
		if n == 0 {
			pkt, err := media.NewPacket(media.TagAudio, dts, append([]byte{0xaf, 0}, f.Config.AudioSpecificConfig()...))
			if err != nil || !p.send(pkt) {
				return err
			}
		}
		n++
		pkt, err := media.NewPacket(media.TagAudio, dts, append([]byte{0xaf, 1}, f.Data...))
		if err != nil || !p.send(pkt) {
			return err
		}
	}
}
