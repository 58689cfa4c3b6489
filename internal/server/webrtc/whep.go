package webrtc

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/pion/webrtc/v4"

	"roomcast/internal/hub"
	"roomcast/internal/media"
	"roomcast/internal/protocol/rtph264"
	"roomcast/internal/protocol/sdpoffer"
)

// viewerProtocol is how WHEP viewers are counted in the hub's statistics.
const viewerProtocol = "webrtc"

// viewer is one WHEP session: a hub subscriber whose H.264 video goes out
// on its own track (it starts at the GOP cache's keyframe) and whose audio
// comes from the stream's shared Opus track.
type viewer struct {
	lifecycle
	srv    *Server
	id     string
	stream string
	log    *slog.Logger
	pc     *webrtc.PeerConnection
	sub    *hub.Subscriber
	video  *webrtc.TrackLocalStaticRTP
	audio  func() // releases the shared audio track; nil without audio

	pk         rtph264.Packetizer
	sps, pps   []byte
	lengthSize int
}

func (v *viewer) close(reason error) {
	if v.stop(reason) {
		_ = v.pc.Close()
	}
}

// startWHEP creates a viewer of req.Stream and returns the SDP answer and
// the session id.
func (s *Server) startWHEP(req Request, offer *sdpoffer.Offer, raw string) (string, string, error) {
	st := s.hub.Stream(req.Stream)
	if st == nil {
		return "", "", refuse(http.StatusNotFound, "stream_not_found", "stream %q is not live", req.Stream)
	}
	stats := st.Stats()
	if stats.Video != nil && stats.Video.Codec != media.CodecH264.String() {
		return "", "", refuse(http.StatusUnsupportedMediaType, "unsupported_codec",
			"stream %q is %s video; WebRTC play carries H.264 only: play it over HTTP-FLV or HLS", req.Stream, stats.Video.Codec)
	}
	vsec, hasVideo := offer.Find("video")
	asec, hasAudio := offer.Find("audio")
	if hasVideo && (!vsec.Receives() || !vsec.H264Mode1) {
		return "", "", refuse(http.StatusUnsupportedMediaType, "unsupported_codec",
			"the offer's video section does not receive H.264 in packetization-mode 1 (the stream's codec)")
	}
	// A WHIP publisher's Opus goes to WebRTC viewers as it came; AAC is
	// transcoded.
	tap := s.taps.get(req.Stream)
	transcode := stats.Audio != nil && stats.Audio.Codec == media.CodecAAC.String() && s.cfg.Transcoder != nil
	wantAudio := hasAudio && asec.Receives() && asec.Has("opus") && (tap != nil || transcode)

	if !hasVideo && !wantAudio {
		return "", "", refuse(http.StatusUnsupportedMediaType, "unsupported_codec",
			"nothing to play: the offer receives neither H.264 video nor Opus audio (for a stream with AAC audio)")
	}
	sub, err := s.hub.Subscribe(req.Stream, viewerProtocol)
	switch {
	case errors.Is(err, hub.ErrNotFound):
		return "", "", refuse(http.StatusNotFound, "stream_not_found", "stream %q is not live", req.Stream)
	case errors.Is(err, hub.ErrTooManyViewers):
		return "", "", refuse(http.StatusServiceUnavailable, "too_many_viewers", "the viewer limit is reached; try again later")
	case err != nil:
		return "", "", fmt.Errorf("subscribe: %w", err)
	}
	pcConfig, err := s.certs.config()
	if err != nil {
		sub.Close()
		return "", "", err
	}
	pc, err := s.playAPI.NewPeerConnection(pcConfig)
	if err != nil {
		sub.Close()
		return "", "", fmt.Errorf("new peer connection: %w", err)
	}
	v := &viewer{lifecycle: newLifecycle(s.ctx), srv: s, stream: req.Stream, pc: pc, sub: sub}
	fail := func(err error) (string, string, error) {
		v.close(err)
		v.release()
		return "", "", err
	}
	if hasVideo {
		v.video, err = webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{
			MimeType: webrtc.MimeTypeH264, ClockRate: 90000, SDPFmtpLine: h264Fmtp(h264Profiles[0]),
		}, "video", "roomcast-"+req.Stream)
		if err != nil {
			return fail(fmt.Errorf("video track: %w", err))
		}
		tr, err := pc.AddTransceiverFromTrack(v.video, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly})
		if err != nil {
			return fail(fmt.Errorf("video transceiver: %w", err))
		}
		go drainRTCP(tr.Sender())
	}
	if wantAudio {
		var track webrtc.TrackLocal
		if tap != nil {
			track = tap.track
		} else {
			t, release, err := s.audio.acquire(req.Stream)
			if err != nil {
				return fail(fmt.Errorf("audio: %w", err))
			}
			track, v.audio = t, release
		}
		tr, err := pc.AddTransceiverFromTrack(track, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly})
		if err != nil {
			return fail(fmt.Errorf("audio transceiver: %w", err))
		}
		go drainRTCP(tr.Sender())
	}
	v.watch(pc, v.close)
	ctx, cancel := context.WithTimeout(s.ctx, 10*time.Second)
	defer cancel()
	answer, err := negotiate(ctx, pc, raw)
	if err != nil {
		return fail(err)
	}
	id, err := s.add(KindWHEP, req.Stream, v)
	if errors.Is(err, errTooManySessions) {
		return fail(refuse(http.StatusServiceUnavailable, "too_many_sessions", "the WebRTC session limit is reached; try again later"))
	}
	if err != nil {
		return fail(refuse(http.StatusServiceUnavailable, "shutting_down", "the server is shutting down"))
	}
	v.id = id
	v.log = s.log.With("stream", req.Stream, "session", id, "role", "whep", "remote", req.RemoteAddr)
	v.log.Info("WHEP session started", "audio", wantAudio, "opus_passthrough", wantAudio && tap != nil)
	go v.run()
	return answer, id, nil
}

// release frees the subscriber and the audio track.
func (v *viewer) release() {
	v.sub.Close()
	if v.audio != nil {
		v.audio()
		v.audio = nil
	}
}

func (v *viewer) run() {
	start := time.Now()
	defer func() {
		v.close(nil)
		v.release()
		v.srv.remove(v.id)
		v.log.Info("WHEP session ended", "reason", reasonText(v.why()), "duration", time.Since(start).Round(time.Millisecond))
		close(v.finished)
	}()
	select {
	case <-v.connected:
	case <-v.ctx.Done():
		return
	case <-time.After(v.srv.cfg.ConnectTimeout):
		v.stop(errNoConnect)
		return
	}
	var frames []*hub.Frame
	for {
		var err error
		frames, err = v.sub.Next(v.ctx, frames)
		if err != nil {
			if errors.Is(err, hub.ErrEnded) {
				err = errStreamEnded
			}
			v.stop(err)
			return
		}
		for _, f := range frames {
			if err := v.write(f.Packet); err != nil {
				v.stop(err)
				return
			}
		}
		clear(frames)
	}
}

// write sends one packet's video; audio goes through the shared track.
func (v *viewer) write(pkt *media.Packet) error {
	if pkt.Type != media.TagVideo || v.video == nil {
		return nil
	}
	if pkt.Codec != media.CodecH264 {
		return fmt.Errorf("the stream's video changed to %v: WebRTC play carries H.264 only", pkt.Codec)
	}
	if pkt.SeqHeader {
		c, err := media.ParseAVCConfig(pkt.Payload())
		if err != nil {
			return fmt.Errorf("stream's AVC configuration: %w", err)
		}
		v.sps, v.lengthSize = c.SPS[0], c.LengthSize
		v.pps = nil
		if len(c.PPS) > 0 {
			v.pps = c.PPS[0]
		}
		return nil
	}
	if v.lengthSize == 0 {
		return nil // no configuration yet
	}
	nalus, err := media.SplitAVCC(pkt.Payload(), v.lengthSize)
	if err != nil {
		return nil // a damaged frame: skip it
	}
	if pkt.Keyframe && v.sps != nil && v.pps != nil {
		nalus = append([][]byte{v.sps, v.pps}, nalus...)
	}
	n := 0
	for _, p := range v.pk.Packetize(nalus, uint32(pkt.PTS()*90)) {
		if err := v.video.WriteRTP(p); err != nil {
			return fmt.Errorf("write video: %w", err)
		}
		n += len(p.Payload) + 12
	}
	v.sub.Stream().AddBytesOut(n)
	return nil
}

func reasonText(err error) string {
	if err == nil {
		return "closed"
	}
	return err.Error()
}
