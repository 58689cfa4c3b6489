package webrtc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/webrtc/v4"

	"roomcast/internal/hub"
	"roomcast/internal/media"
	"roomcast/internal/protocol/rtph264"
	"roomcast/internal/protocol/sdpoffer"
)

// publisherProtocol names WHIP publishers in events and statistics.
const publisherProtocol = "webrtc"

// publisher is one WHIP session: a hub publisher fed by the browser's
// H.264 track (depacketized to AVCC access units) and its Opus track
// (transcoded to AAC).
type publisher struct {
	lifecycle
	srv    *Server
	id     string
	stream string
	log    *slog.Logger
	pc     *webrtc.PeerConnection
	pub    *hub.Publisher
	start  time.Time // the session's time zero: packet DTS are ms since

	pkts chan *media.Packet

	// readers counts the tracks' reader goroutines. A track can arrive
	// while the session ends: tracksMu orders onTrack's Add before the
	// ending's Wait, and no reader starts once tracksDone is set.
	tracksMu   sync.Mutex
	tracksDone bool
	readers    sync.WaitGroup
}

// startReader runs fn as a track's reader unless the session is ending.
func (p *publisher) startReader(fn func()) {
	p.tracksMu.Lock()
	defer p.tracksMu.Unlock()
	if p.tracksDone {
		return
	}
	p.readers.Add(1)
	go func() {
		defer p.readers.Done()
		fn()
	}()
}

// waitReaders stops new readers and waits for the running ones.
func (p *publisher) waitReaders() {
	p.tracksMu.Lock()
	p.tracksDone = true
	p.tracksMu.Unlock()
	p.readers.Wait()
}

func (p *publisher) close(reason error) {
	if p.stop(reason) {
		_ = p.pc.Close()
	}
}

// startWHIP makes req.Stream's publisher from the offer and returns the
// SDP answer and the session id.
func (s *Server) startWHIP(req Request, offer *sdpoffer.Offer, raw string) (string, string, error) {
	vsec, hasVideo := offer.Find("video")
	asec, hasAudio := offer.Find("audio")
	if hasVideo && (!vsec.Sends() || !vsec.H264Mode1) {
		return "", "", refuse(http.StatusUnsupportedMediaType, "unsupported_codec",
			"the offer's video section does not send H.264 in packetization-mode 1; roomcast passes video through and needs H.264")
	}
	if hasAudio && (!asec.Sends() || !asec.Has("opus")) {
		return "", "", refuse(http.StatusUnsupportedMediaType, "unsupported_codec", "the offer's audio section does not send Opus")
	}
	// A stream with a live publisher is refused before the costly
	// negotiation (Publish below decides, with takeover if configured).
	if st := s.hub.Stream(req.Stream); st != nil && st.Live() && !s.cfg.Takeover {
		return "", "", refuse(http.StatusConflict, "stream_busy", "stream %q is already being published", req.Stream)
	}
	pcConfig, err := s.certs.config()
	if err != nil {
		return "", "", err
	}
	pc, err := s.api.NewPeerConnection(pcConfig)
	if err != nil {
		return "", "", fmt.Errorf("new peer connection: %w", err)
	}
	p := &publisher{
		lifecycle: newLifecycle(s.ctx), srv: s, stream: req.Stream, pc: pc,
		pkts:  make(chan *media.Packet, 256),
		log:   s.log.With("stream", req.Stream, "role", "whip", "remote", req.RemoteAddr),
		start: time.Now(),
	}
	fail := func(err error) (string, string, error) {
		p.close(err)
		if p.pub != nil {
			p.pub.Close(err)
		}
		return "", "", err
	}
	recv := webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly}
	if hasVideo {
		if _, err := pc.AddTransceiverFromKind(webrtc.RTPCodecTypeVideo, recv); err != nil {
			return fail(fmt.Errorf("video transceiver: %w", err))
		}
	}
	if hasAudio {
		if _, err := pc.AddTransceiverFromKind(webrtc.RTPCodecTypeAudio, recv); err != nil {
			return fail(fmt.Errorf("audio transceiver: %w", err))
		}
	}
	pc.OnTrack(p.onTrack)
	p.watch(pc, p.close)
	ctx, cancel := context.WithTimeout(s.ctx, 10*time.Second)
	defer cancel()
	// Negotiate first: an offer that fails must not make the stream (and
	// its room) live for a moment.
	answer, err := negotiate(ctx, pc, raw)
	if err != nil {
		return fail(err)
	}
	pub, err := s.hub.Publish(req.Stream, hub.PublisherInfo{Protocol: publisherProtocol, RemoteAddr: req.RemoteAddr, Query: req.Query.Encode()})
	switch {
	case errors.Is(err, hub.ErrStreamBusy):
		return fail(refuse(http.StatusConflict, "stream_busy", "stream %q is already being published", req.Stream))
	case errors.Is(err, hub.ErrTooManyPublishers):
		return fail(refuse(http.StatusServiceUnavailable, "too_many_publishers", "the server has too many publishers; try again later"))
	case err != nil:
		return fail(fmt.Errorf("publish: %w", err))
	}
	p.pub = pub
	id, err := s.add(KindWHIP, req.Stream, p)
	if errors.Is(err, errTooManySessions) {
		return fail(refuse(http.StatusServiceUnavailable, "too_many_sessions", "the WebRTC session limit is reached; try again later"))
	}
	if err != nil {
		return fail(refuse(http.StatusServiceUnavailable, "shutting_down", "the server is shutting down"))
	}
	p.id = id
	p.log = p.log.With("session", id)
	p.log.Info("WHIP session started")
	go p.run()
	return answer, id, nil
}

// run writes the tracks' packets to the hub from one goroutine, until the
// session ends or the publisher is detached (kicked, taken over).
func (p *publisher) run() {
	defer func() {
		p.close(nil)
		p.waitReaders()
		reason := p.why()
		if errors.Is(reason, errDeleted) || errors.Is(reason, errPeerClosed) {
			reason = nil // the client ended the session: a normal unpublish
		}
		p.pub.Close(reason)
		p.srv.remove(p.id)
		p.log.Info("WHIP session ended", "reason", reasonText(p.why()), "duration", time.Since(p.start).Round(time.Millisecond))
		close(p.finished)
	}()
	select {
	case <-p.connected:
	case <-p.ctx.Done():
		return
	case <-time.After(p.srv.cfg.ConnectTimeout):
		p.stop(errNoConnect)
		return
	}
	for {
		select {
		case <-p.ctx.Done():
			return
		case pkt := <-p.pkts:
			if err := p.pub.Write(pkt); err != nil {
				p.stop(err)
				return
			}
		}
	}
}

// send queues a packet for the hub; it gives up when the session ends.
func (p *publisher) send(pkt *media.Packet) bool {
	select {
	case p.pkts <- pkt:
		return true
	case <-p.ctx.Done():
		return false
	}
}

// ms returns the DTS of something that arrived at t.
func (p *publisher) ms(t time.Time) int64 { return t.Sub(p.start).Milliseconds() }

func (p *publisher) onTrack(track *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
	mime := strings.ToLower(track.Codec().MimeType)
	p.startReader(func() {
		var err error
		switch mime {
		case strings.ToLower(webrtc.MimeTypeH264):
			err = p.readVideo(track)
		case strings.ToLower(webrtc.MimeTypeOpus):
			err = p.readAudio(track)
		default:
			err = fmt.Errorf("unexpected codec %s", mime)
		}
		if err != nil && p.ctx.Err() == nil {
			p.log.Warn("WHIP track ended", "codec", mime, "err", err)
			p.close(err)
		}
	})
}

// keyframes asks the browser for a keyframe now and every
// KeyframeInterval, and whenever a loss is signalled on lost.
func (p *publisher) keyframes(ssrc uint32, lost <-chan struct{}) {
	pli := func() {
		_ = p.pc.WriteRTCP([]rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: ssrc}})
	}
	pli()
	t := time.NewTicker(p.srv.cfg.KeyframeInterval)
	defer t.Stop()
	for {
		select {
		case <-p.ctx.Done():
			return
		case <-t.C:
			pli()
		case <-lost:
			pli()
		}
	}
}

// readVideo depacketizes the H.264 track into the hub: a sequence header
// whenever the SPS or PPS change, then AVCC frames.
func (p *publisher) readVideo(track *webrtc.TrackRemote) error {
	lost := make(chan struct{}, 1)
	go p.keyframes(uint32(track.SSRC()), lost)
	var (
		d        rtph264.Depacketizer
		unwrap   rtpClock
		sps, pps []byte
		haveCfg  bool
		base     int64 = -1
	)
	for {
		pkt, _, err := track.ReadRTP()
		if err != nil {
			return nil // the session ended
		}
		aus, err := d.Push(pkt)
		if err != nil {
			p.log.Debug("video data dropped; asking for a keyframe", "err", err)
			select {
			case lost <- struct{}{}:
			default:
			}
		}
		for _, au := range aus {
			ts := unwrap.unwrap(au.Timestamp)
			if base < 0 {
				base = p.ms(time.Now()) - ts/90
			}
			dts := base + ts/90
			nalus := au.NALUs[:0:0]
			var nsps, npps []byte
			for _, n := range au.NALUs {
				switch n[0] & 0x1f {
				case rtph264.NALTypeSPS:
					nsps = n
				case rtph264.NALTypePPS:
					npps = n
				case rtph264.NALTypeAUD, rtph264.NALTypeFiller:
				default:
					nalus = append(nalus, n)
				}
			}
			if nsps != nil && npps != nil && (!bytes.Equal(nsps, sps) || !bytes.Equal(npps, pps)) {
				rec, err := rtph264.ConfigRecord(nsps, npps)
				if err != nil {
					return fmt.Errorf("H.264 parameter sets: %w", err)
				}
				sps, pps, haveCfg = nsps, npps, true
				pkt, err := media.NewPacket(media.TagVideo, dts, append([]byte{0x17, 0, 0, 0, 0}, rec...))
				if err != nil {
					return err
				}
				if !p.send(pkt) {
					return nil
				}
			}
			if !haveCfg || len(nalus) == 0 {
				continue
			}
			head := byte(0x27)
			if au.Keyframe {
				head = 0x17
			}
			body := rtph264.AppendAVCC(append(make([]byte, 0, 5+4*len(nalus)+auSize(nalus)), head, 1, 0, 0, 0), nalus)
			pkt, err := media.NewPacket(media.TagVideo, dts, body)
			if err != nil {
				return err
			}
			if !p.send(pkt) {
				return nil
			}
		}
	}
}

func auSize(nalus [][]byte) int {
	n := 0
	for _, x := range nalus {
		n += len(x)
	}
	return n
}

// rtpClock unwraps 32-bit RTP timestamps into a 64-bit count from the
// first one.
type rtpClock struct {
	started bool
	first   uint32
	last    uint32
	wraps   int64
}

func (c *rtpClock) unwrap(ts uint32) int64 {
	if !c.started {
		c.started, c.first, c.last = true, ts, ts
	}
	if ts < c.last && c.last-ts > 1<<31 {
		c.wraps++
	} else if ts > c.last && ts-c.last > 1<<31 {
		// A late packet from before the last wrap.
		return (c.wraps-1)<<32 + int64(ts) - int64(c.first)
	}
	c.last = ts
	return c.wraps<<32 + int64(ts) - int64(c.first)
}
