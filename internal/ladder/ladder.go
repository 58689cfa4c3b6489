package ladder

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"

	"roomcast/internal/hub"
	"roomcast/internal/media"
	"roomcast/internal/protocol/flv"
	"roomcast/internal/transcode"
)

// Runner starts supervised ffmpeg jobs (transcode.Manager).
type Runner interface {
	Available() bool
	Start(ctx context.Context, spec transcode.Spec) (*transcode.Job, error)
}

// Ladder runs the renditions of every live stream. It is safe for
// concurrent use; Handle is its hub event listener.
type Ladder struct {
	hub    *hub.Hub
	runner Runner
	rungs  []Rung
	log    *slog.Logger
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu      sync.Mutex
	sources map[string]*source
}

// source is a live stream with a ladder.
type source struct {
	stream     *hub.Stream
	mu         sync.Mutex
	video      string // codecs of the source ("avc1.64001f")
	audio      string // "mp4a.40.2", or "" without audio
	peak       int64  // highest input bitrate seen, bits per second
	renditions []*rendition
}

// rendition is one rung of a source, published as its own stream.
type rendition struct {
	rung Rung
	name string

	mu       sync.Mutex
	pub      *hub.Publisher
	video    string   // codecs of the output
	lastDTS  [2]int64 // newest output DTS per track (audio, video), for restarts
	haveLast [2]bool
}

// New returns a Ladder of the given rungs over h, running ffmpeg through
// runner. With no rungs it does nothing.
func New(h *hub.Hub, runner Runner, rungs []Rung, log *slog.Logger) *Ladder {
	ctx, cancel := context.WithCancel(context.Background())
	return &Ladder{hub: h, runner: runner, rungs: rungs, log: log, ctx: ctx, cancel: cancel, sources: make(map[string]*source)}
}

// Enabled reports whether the ladder has rungs and ffmpeg to run them.
func (l *Ladder) Enabled() bool { return len(l.rungs) > 0 && l.runner.Available() }

// SourceOf returns the source stream of a rendition name ("room_480p" →
// "room"), whether or not it is live. With -abr-ladder, such names are
// reserved: only the ladder publishes them.
func (l *Ladder) SourceOf(name string) (string, bool) {
	if len(l.rungs) == 0 {
		return "", false
	}
	for _, r := range l.rungs {
		if src, ok := strings.CutSuffix(name, "_"+r.Name); ok && media.ValidName(src) {
			return src, true
		}
	}
	return "", false
}

// IsRendition reports whether name is a rendition name (see SourceOf).
func (l *Ladder) IsRendition(name string) bool {
	_, ok := l.SourceOf(name)
	return ok
}

// RelayProtocol is the publisher protocol of a stream relayed from another
// node of a cluster (internal/cluster): the node where the stream is
// published runs its ladder, and the others relay its renditions like any
// stream, so a relayed stream gets no ladder of its own.
const RelayProtocol = "relay"

// Handle is a hub event listener (hub.Hub.OnEvent): a stream that starts
// (not a rendition, not a resumed one, not relayed from another node) gets
// its renditions. It never blocks.
func (l *Ladder) Handle(e hub.Event) {
	if e.Type != hub.EventPublished || e.Resumed || !l.Enabled() || l.IsRendition(e.Stream) || e.Publisher.Protocol == RelayProtocol {
		return
	}
	s := l.hub.Stream(e.Stream)
	if s == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.ctx.Err() != nil {
		return
	}
	if old := l.sources[e.Stream]; old != nil && old.stream == s {
		return
	}
	src := &source{stream: s}
	l.sources[e.Stream] = src
	l.wg.Add(1)
	go l.run(src)
}

// Close stops every rendition and waits for them.
func (l *Ladder) Close() {
	l.mu.Lock()
	l.cancel()
	l.mu.Unlock()
	l.wg.Wait()
}

// run starts the renditions of src once its video size is known, and
// ends them with it.
func (l *Ladder) run(src *source) {
	defer l.wg.Done()
	name := src.stream.Name()
	log := l.log.With("stream", name)
	defer func() {
		l.mu.Lock()
		if l.sources[name] == src {
			delete(l.sources, name)
		}
		l.mu.Unlock()
	}()
	v := l.waitVideo(src.stream)
	if v == nil {
		return
	}
	if v.Codec != media.CodecH264.String() {
		log.Info("no quality ladder: the source is not H.264", "codec", v.Codec)
		return
	}
	var jobs []*transcode.Job
	for _, rung := range l.rungs {
		if rung.Height > v.Height {
			continue // never upscale
		}
		rd := &rendition{rung: rung, name: RenditionName(name, rung)}
		job, err := l.runner.Start(l.ctx, transcode.Spec{
			Kind: transcode.KindRendition, Name: rd.name, Args: args(rung), Done: src.stream.Done(),
			Attach: func(ctx context.Context, p transcode.Pipes) error { return l.attach(ctx, p, src, rd) },
		})
		if err != nil {
			log.Warn("rendition not started", "rendition", rung.Name, "err", err)
			continue
		}
		src.mu.Lock()
		src.renditions = append(src.renditions, rd)
		src.mu.Unlock()
		jobs = append(jobs, job)
	}
	for _, j := range jobs {
		<-j.Done()
	}
	src.mu.Lock()
	rds := src.renditions
	src.mu.Unlock()
	for _, rd := range rds {
		rd.mu.Lock()
		if rd.pub != nil {
			rd.pub.Close(nil)
			rd.pub = nil
		}
		rd.mu.Unlock()
	}
}

// waitVideo waits for the stream's video size; nil if it ends first.
func (l *Ladder) waitVideo(s *hub.Stream) *hub.VideoStats {
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		if v := s.Stats().Video; v != nil && v.Height > 0 {
			return v
		}
		select {
		case <-s.Done():
			return nil
		case <-l.ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// attach runs one ffmpeg process of rendition rd: it feeds the source to
// stdin and publishes stdout.
func (l *Ladder) attach(ctx context.Context, p transcode.Pipes, src *source, rd *rendition) error {
	sub, err := l.hub.Subscribe(src.stream.Name(), "")
	if err != nil || sub.Stream() != src.stream {
		if err == nil {
			sub.Close()
		}
		p.Stdin.Close()
		return nil // the source ended
	}
	fed := make(chan error, 1)
	go func() {
		fed <- l.feed(ctx, sub, p.Stdin, src)
		p.Stdin.Close()
	}()
	perr := l.publish(p.Stdout, rd)
	sub.Close()
	ferr := <-fed
	if perr != nil {
		return perr
	}
	if errors.Is(ferr, hub.ErrSlow) {
		// ffmpeg fell a whole queue behind (CPU starved): a death, so that
		// the job restarts from the newest keyframe instead of ending.
		return fmt.Errorf("rendition input: %w", ferr)
	}
	if ferr != nil && !errors.Is(ferr, hub.ErrEnded) && !errors.Is(ferr, context.Canceled) {
		l.log.Debug("rendition input stopped", "rendition", rd.name, "err", ferr)
	}
	return nil
}

// feed writes the source's frames to w as FLV until the stream ends.
func (l *Ladder) feed(ctx context.Context, sub *hub.Subscriber, w io.Writer, src *source) error {
	if _, err := w.Write(flv.AppendHeader(nil, true, true)); err != nil {
		return fmt.Errorf("write FLV header: %w", err)
	}
	var frames []*hub.Frame
	for {
		var err error
		frames, err = sub.Next(ctx, frames)
		for _, f := range frames {
			src.observe(f.Packet)
			if _, werr := w.Write(f.Bytes(hub.FormatFLV, flv.EncodeTag)); werr != nil {
				return fmt.Errorf("write to ffmpeg: %w", werr)
			}
		}
		clear(frames)
		if err != nil {
			return err
		}
	}
}

// observe notes the source's codecs and bitrate from its packets.
func (s *source) observe(p *media.Packet) {
	if !p.SeqHeader {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case p.Type == media.TagVideo && p.Codec == media.CodecH264:
		if c, err := media.ParseAVCConfig(p.Payload()); err == nil && len(c.SPS) > 0 {
			s.video = codecsAVC(c.SPS[0])
		}
	case p.Type == media.TagAudio && p.Codec == media.CodecAAC:
		s.audio = "mp4a.40.2"
		if pl := p.Payload(); len(pl) > 0 {
			s.audio = fmt.Sprintf("mp4a.40.%d", pl[0]>>3)
		}
	}
}

// publish reads ffmpeg's FLV output and publishes it as rd's stream. After
// a restart, packets already published (by timestamp) are skipped.
func (l *Ladder) publish(r io.Reader, rd *rendition) error {
	fr := flv.NewReader(r, 0)
	if _, _, err := fr.ReadHeader(); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil
		}
		return fmt.Errorf("read ffmpeg output: %w", err)
	}
	for {
		tag, err := fr.ReadTag()
		if err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				return nil
			}
			return fmt.Errorf("read ffmpeg output: %w", err)
		}
		pkt, err := media.NewPacket(tag.Type, int64(tag.Timestamp), tag.Data)
		if err != nil {
			continue
		}
		if err := rd.write(l.hub, pkt); err != nil {
			return err
		}
	}
}

// write publishes one output packet.
func (rd *rendition) write(h *hub.Hub, pkt *media.Packet) error {
	rd.mu.Lock()
	defer rd.mu.Unlock()
	track := -1
	switch pkt.Type {
	case media.TagAudio:
		track = 0
	case media.TagVideo:
		track = 1
	}
	if pkt.SeqHeader && pkt.Type == media.TagVideo {
		if c, err := media.ParseAVCConfig(pkt.Payload()); err == nil && len(c.SPS) > 0 {
			rd.video = codecsAVC(c.SPS[0])
		}
	}
	if track >= 0 && !pkt.SeqHeader {
		if rd.haveLast[track] && pkt.DTS <= rd.lastDTS[track] {
			return nil // already published before a restart
		}
		rd.lastDTS[track], rd.haveLast[track] = pkt.DTS, true
	}
	if rd.pub == nil {
		p, err := h.Publish(rd.name, hub.PublisherInfo{Protocol: "transcode", RemoteAddr: "ffmpeg"})
		if err != nil {
			return fmt.Errorf("publish rendition: %w", err)
		}
		rd.pub = p
	}
	if err := rd.pub.Write(pkt); err != nil {
		rd.pub = nil
		return fmt.Errorf("publish rendition: %w", err)
	}
	return nil
}
