package cover

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/color"
	"io"
	"log/slog"
	"os/exec"
	"testing"

	"roomcast/internal/media"
	"roomcast/internal/protocol/flv"
	"roomcast/internal/transcode"
)

func discardLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// ffmpegManager returns a transcode.Manager on the installed ffmpeg; the
// test fails without it.
func ffmpegManager(t *testing.T) *transcode.Manager {
	t.Helper()
	m := transcode.New(context.Background(), transcode.Config{}, discardLog())
	t.Cleanup(m.Close)
	if !m.Available() {
		t.Fatalf("ffmpeg is required: %s", m.Version())
	}
	return m
}

// encodeFLV makes an H.264 FLV of a test picture with ffmpeg and returns
// its video packets.
func encodeFLV(t *testing.T, size string, frames string) []*media.Packet {
	t.Helper()
	out, err := exec.Command("ffmpeg", "-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i", "testsrc=size="+size+":rate=10",
		"-frames:v", frames, "-c:v", "libx264", "-g", "5", "-pix_fmt", "yuv420p", "-f", "flv", "pipe:1").Output()
	if err != nil {
		t.Fatalf("ffmpeg: %v", err)
	}
	r := flv.NewReader(bytes.NewReader(out), 0)
	if _, _, err := r.ReadHeader(); err != nil {
		t.Fatal(err)
	}
	var pkts []*media.Packet
	for {
		tag, err := r.ReadTag()
		if errors.Is(err, io.EOF) {
			return pkts
		}
		if err != nil {
			t.Fatal(err)
		}
		if tag.Type != media.TagVideo {
			continue
		}
		p, err := media.NewPacket(tag.Type, int64(tag.Timestamp), tag.Data)
		if err != nil {
			t.Fatal(err)
		}
		if p.Keyframe && len(p.Payload()) == 0 {
			continue // the end of sequence: a hub would start its GOP there
		}
		pkts = append(pkts, p)
	}
}

// configAndKey returns the decoder configuration and the first keyframe.
func configAndKey(t *testing.T, pkts []*media.Packet) (conf, key *media.Packet) {
	t.Helper()
	for _, p := range pkts {
		switch {
		case p.SeqHeader && conf == nil:
			conf = p
		case p.Keyframe && !p.SeqHeader && key == nil:
			key = p
		}
	}
	if conf == nil || key == nil {
		t.Fatal("no decoder configuration or keyframe in the test FLV")
	}
	return conf, key
}

func gradient(w, h int) image.Image {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.RGBA{uint8(x), uint8(y), 200, 255})
		}
	}
	return img
}
