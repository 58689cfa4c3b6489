package programme

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"roomcast/internal/hub"
	"roomcast/internal/media"
)

// avcConfig is a small AVC decoder configuration record; mark tells
// sources apart.
func avcConfig(mark byte) []byte {
	sps := []byte{0x67, 0x64, 0x00, 0x1f, mark}
	pps := []byte{0x68, 0xee, 0x3c, 0x80}
	b := []byte{0x17, 0, 0, 0, 0, 1, 0x64, 0x00, 0x1f, 0xff, 0xe1, 0, byte(len(sps))}
	b = append(b, sps...)
	b = append(b, 1, 0, byte(len(pps)))
	return append(b, pps...)
}

func mustPacket(t *testing.T, typ media.TagType, dts int64, data []byte) *media.Packet {
	t.Helper()
	p, err := media.NewPacket(typ, dts, data)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// frame returns a video frame of source mark: a keyframe or not.
func frame(t *testing.T, mark byte, dts int64, key bool) *media.Packet {
	head := byte(0x27)
	if key {
		head = 0x17
	}
	return mustPacket(t, media.TagVideo, dts, []byte{head, 1, 0, 0, 0, 0, 0, 0, 2, 0x65, mark})
}

// source publishes a stream of frames of mark, a keyframe every gop.
type source struct {
	t    *testing.T
	pub  *hub.Publisher
	mark byte
	dts  int64
	n    int
}

func newSource(t *testing.T, h *hub.Hub, name string, mark byte, dts int64) *source {
	t.Helper()
	pub, err := h.Publish(name, hub.PublisherInfo{Protocol: "test"})
	if err != nil {
		t.Fatal(err)
	}
	s := &source{t: t, pub: pub, mark: mark, dts: dts}
	if err := pub.Write(mustPacket(t, media.TagVideo, dts, avcConfig(mark))); err != nil {
		t.Fatal(err)
	}
	return s
}

func (s *source) write(n, gop int) {
	for range n {
		if err := s.pub.Write(frame(s.t, s.mark, s.dts, s.n%gop == 0)); err != nil {
			s.t.Fatal(err)
		}
		s.dts += 40
		s.n++
	}
}

// viewer reads the programme and reports each frame's source mark.
type viewer struct {
	sub    *hub.Subscriber
	frames []*hub.Frame
}

// next returns the next non-configuration frame, with the sequence header
// seen before it, if any.
func (v *viewer) next(t *testing.T) (mark byte, dts int64, seq *media.Packet, epoch uint32) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for {
		for len(v.frames) > 0 {
			f := v.frames[0]
			v.frames = v.frames[1:]
			p := f.Packet
			if p.SeqHeader {
				seq = p
				continue
			}
			if p.Type != media.TagVideo {
				continue
			}
			return p.Data[len(p.Data)-1], p.DTS, seq, f.Epoch
		}
		var err error
		if v.frames, err = v.sub.Next(ctx, nil); err != nil {
			t.Fatalf("programme viewer: %v", err)
		}
	}
}

func TestSwitcher(t *testing.T) {
	h := hub.New(hub.Config{FlushInterval: -1, ReconnectGrace: time.Minute}, slog.New(slog.DiscardHandler))
	defer h.Close()
	host := newSource(t, h, "s_r", 'H', 5000)
	host.write(5, 5)
	sw := newSwitcher(h, slog.New(slog.DiscardHandler), "s_r-programme", "s_r", "s_r-mix")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go sw.run(ctx)
	waitFor(t, "the programme", func() bool { s := h.Stream("s_r-programme"); return s != nil && s.Live() })
	sub, err := h.Subscribe("s_r-programme", "flv")
	if err != nil {
		t.Fatal(err)
	}
	v := &viewer{sub: sub}
	mark, last, seq, epoch := v.next(t)
	if mark != 'H' || seq == nil {
		t.Fatalf("first frame from %c, seq %v", mark, seq)
	}
	host.write(3, 5)

	// The mix publishes; the programme switches at its keyframe.
	mix := newSource(t, h, "s_r-mix", 'M', 200)
	mix.write(1, 100)
	sw.setMix(true)
	deadline := time.Now().Add(5 * time.Second)
	for {
		host.write(1, 5)
		mix.write(1, 3)
		m, dts, s, ep := v.next(t)
		if dts < last {
			t.Fatalf("timestamps went back from %d to %d", last, dts)
		}
		last = dts
		if m == 'M' {
			if s == nil || s.Data[len(s.Data)-8] != 'M' || ep == epoch {
				t.Fatalf("switch to the mix without its sequence header or a new epoch: seq %v epoch %d→%d", s, epoch, ep)
			}
			epoch = ep
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the programme never switched to the mix")
		}
	}
	// Back to the host when the mix goes.
	sw.setMix(false)
	for {
		host.write(1, 5)
		mix.write(1, 3)
		m, dts, s, ep := v.next(t)
		if dts < last {
			t.Fatalf("timestamps went back from %d to %d", last, dts)
		}
		last = dts
		if m == 'H' {
			if s == nil || s.Data[len(s.Data)-8] != 'H' || ep == epoch {
				t.Fatalf("switch back without the host's sequence header or a new epoch")
			}
			break
		}
	}
	// The programme ends with the host's stream.
	if err := h.End("s_r"); err != nil {
		t.Fatal(err)
	}
	select {
	case <-sw.done:
	case <-time.After(5 * time.Second):
		t.Fatal("the switcher did not stop after the host ended")
	}
	for {
		if _, err := sub.Next(context.Background(), nil); errors.Is(err, hub.ErrEnded) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
	}
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
