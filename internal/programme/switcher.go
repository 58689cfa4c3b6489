package programme

import (
	"context"
	"errors"
	"log/slog"

	"roomcast/internal/hub"
	"roomcast/internal/media"
)

// Sources of a programme.
const (
	srcHost = iota
	srcMix
)

// batch is what a source reader hands to the switcher.
type batch struct {
	src    int
	sub    *hub.Subscriber
	frames []*hub.Frame
	err    error
}

// initState is the configuration of a source in effect: what a viewer must
// get before the source's next keyframe.
type initState struct {
	meta, video, audio *media.Packet
}

// note records pkt if it is metadata or a sequence header.
func (st *initState) note(pkt *media.Packet) {
	switch {
	case pkt.Type == media.TagScript:
		st.meta = pkt
	case pkt.SeqHeader && pkt.Type == media.TagVideo:
		st.video = pkt
	case pkt.SeqHeader && pkt.Type == media.TagAudio:
		st.audio = pkt
	}
}

// switchPoint reports whether pkt of a source with configuration st is a
// place to start it: a video keyframe, or any audio frame of a source
// without video.
func (st *initState) switchPoint(pkt *media.Packet) bool {
	if pkt.SeqHeader || pkt.Type == media.TagScript {
		return false
	}
	if pkt.Type == media.TagVideo {
		return pkt.Keyframe && st.video != nil
	}
	return pkt.Type == media.TagAudio && st.video == nil && st.audio != nil
}

// switcher publishes a room's programme: the frames of the host's stream,
// or of the mix while the manager wants the mix and the mix runs. A switch
// happens at the new source's next keyframe and is, for viewers, a
// publisher reconnect: the programme's publisher is replaced (a new epoch),
// the new source's metadata and sequence headers go first, and the hub
// keeps the timestamps monotonic. The programme ends with the host's
// stream.
type switcher struct {
	h    *hub.Hub
	log  *slog.Logger
	name string // the programme
	host string
	mix  string
	want chan bool // the newest wish: the mix (true) or the host
	done chan struct{}
}

func newSwitcher(h *hub.Hub, log *slog.Logger, name, host, mix string) *switcher {
	return &switcher{h: h, log: log, name: name, host: host, mix: mix, want: make(chan bool, 1), done: make(chan struct{})}
}

// setMix asks for the mix (true) or the host alone. It never blocks: only
// the newest wish counts.
func (sw *switcher) setMix(on bool) {
	for {
		select {
		case sw.want <- on:
			return
		default:
		}
		select {
		case <-sw.want:
		default:
		}
	}
}

// read hands sub's frames to out until sub fails or ctx ends.
func read(ctx context.Context, src int, sub *hub.Subscriber, out chan<- batch) {
	defer sub.Close()
	for {
		frames, err := sub.Next(ctx, nil)
		select {
		case out <- batch{src: src, sub: sub, frames: frames, err: err}:
		case <-ctx.Done():
			return
		}
		if err != nil {
			return
		}
	}
}

// run publishes the programme until the host's stream ends or ctx is done.
func (sw *switcher) run(ctx context.Context) {
	defer close(sw.done)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	hostSub, err := sw.h.Subscribe(sw.host, "")
	if err != nil {
		sw.log.Info("programme not started: the host's stream is gone", "err", err)
		return
	}
	batches := make(chan batch, 8)
	go read(ctx, srcHost, hostSub, batches)
	pub, err := sw.h.Publish(sw.name, hub.PublisherInfo{Protocol: "programme", Internal: true})
	if err != nil {
		sw.log.Warn("programme not published", "err", err)
		return
	}
	defer func() {
		pub.Close(nil)
		if err := sw.h.End(sw.name); err != nil && !errors.Is(err, hub.ErrNotFound) {
			sw.log.Warn("programme not ended", "err", err)
		}
	}()
	var (
		mixSub         *hub.Subscriber
		active, target = srcHost, srcHost
		inits          [2]initState
		epochs         [2]uint32 // the sources' publisher sessions seen last
	)
	for {
		select {
		case <-ctx.Done():
			return
		case on := <-sw.want:
			target = srcHost
			if !on {
				continue
			}
			target = srcMix
			if mixSub == nil {
				if mixSub, err = sw.h.Subscribe(sw.mix, ""); err != nil {
					mixSub, target = nil, srcHost
					continue
				}
				inits[srcMix] = initState{}
				go read(ctx, srcMix, mixSub, batches)
			}
		case b := <-batches:
			if b.src == srcMix && b.sub != mixSub {
				continue // an earlier mix
			}
			if b.err != nil {
				if b.src == srcHost {
					return // the host's stream ended: so does the programme
				}
				mixSub, target = nil, srcHost
			}
			for _, f := range b.frames {
				pkt := f.Packet
				st := &inits[b.src]
				st.note(pkt)
				reconnected := epochs[b.src] != 0 && f.Epoch != epochs[b.src]
				epochs[b.src] = f.Epoch
				if b.src != active {
					if b.src != target || !st.switchPoint(pkt) {
						continue
					}
					if pub, err = sw.switchTo(pub, st, pkt); err != nil {
						sw.log.Warn("programme stopped: switch failed", "err", err)
						return
					}
					active = b.src
					sw.log.Info("programme switched", "source", sourceName(active))
					continue
				}
				if reconnected {
					// The source's publisher reconnected: so does the
					// programme's, so that replays and players see it.
					next, err := pub.Reconnect(hub.PublisherInfo{Protocol: "programme", Internal: true})
					if err != nil {
						sw.log.Warn("programme stopped", "err", err)
						return
					}
					pub = next
				}
				if err := pub.Write(shallow(pkt, pkt.DTS)); err != nil {
					sw.log.Warn("programme stopped", "err", err)
					return
				}
			}
		}
	}
}

// switchTo replaces the programme's publisher (viewers see a publisher
// reconnect) and starts it with the new source's configuration and its
// keyframe key.
func (sw *switcher) switchTo(old *hub.Publisher, st *initState, key *media.Packet) (*hub.Publisher, error) {
	pub, err := old.Reconnect(hub.PublisherInfo{Protocol: "programme", Internal: true})
	if err != nil {
		return old, err
	}
	for _, p := range []*media.Packet{st.meta, st.video, st.audio, key} {
		if p == nil {
			continue
		}
		if err := pub.Write(shallow(p, key.DTS)); err != nil {
			return pub, err
		}
	}
	return pub, nil
}

// shallow copies pkt with timestamp dts: the hub rewrites the timestamps of
// what it is given, and the source's packets are shared.
func shallow(pkt *media.Packet, dts int64) *media.Packet {
	cp := *pkt
	cp.DTS = dts
	return &cp
}

func sourceName(src int) string {
	if src == srcMix {
		return "mix"
	}
	return "host"
}
