package hub

import (
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h265"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/mpeg4audio"

	"roomcast/internal/media"
)

// Stats is a snapshot of a stream for the API and metrics.
type Stats struct {
	Name string `json:"name"`
	// Live is true while a publisher is connected.
	Live      bool            `json:"live"`
	Publisher *PublisherStats `json:"publisher,omitempty"`
	Video     *VideoStats     `json:"video,omitempty"`
	Audio     *AudioStats     `json:"audio,omitempty"`
	// BitrateIn and BitrateOut are bits per second over the last second.
	BitrateIn  int64  `json:"bitrate_in"`
	BitrateOut int64  `json:"bitrate_out"`
	BytesIn    uint64 `json:"bytes_in"`
	BytesOut   uint64 `json:"bytes_out"`
	// Viewers is the total over all protocols.
	Viewers           int            `json:"viewers"`
	ViewersByProtocol map[string]int `json:"viewers_by_protocol"`
	DroppedFrames     uint64         `json:"dropped_frames"`
	SlowDisconnects   uint64         `json:"slow_disconnects"`
	// DeliveryLatency is the server-added latency of live frames, from
	// arrival to the end of the write to each viewer, since the stream began.
	DeliveryLatency LatencyStats `json:"delivery_latency"`
	Created         time.Time    `json:"created"`
	// Uptime is seconds since the stream was created.
	Uptime float64 `json:"uptime"`
}

// PublisherStats describes the current publisher.
type PublisherStats struct {
	Protocol   string    `json:"protocol"`
	RemoteAddr string    `json:"remote_addr"`
	Since      time.Time `json:"since"`
	// Internal marks the server's own publisher (a room's programme).
	Internal bool `json:"internal,omitempty"`
}

// VideoStats describes the video track.
type VideoStats struct {
	Codec  string  `json:"codec"`
	Width  int     `json:"width,omitempty"`
	Height int     `json:"height,omitempty"`
	FPS    float64 `json:"fps"`
}

// AudioStats describes the audio track.
type AudioStats struct {
	Codec      string `json:"codec"`
	SampleRate int    `json:"sample_rate,omitempty"`
	Channels   int    `json:"channels,omitempty"`
}

// trackInfo is what the codec configuration says about the tracks.
type trackInfo struct {
	video *VideoStats
	audio *AudioStats
}

func (t *trackInfo) videoConfig(pkt *media.Packet) {
	v := &VideoStats{Codec: pkt.Codec.String()}
	t.video = v
	switch pkt.Codec {
	case media.CodecH264:
		c, err := media.ParseAVCConfig(pkt.Payload())
		if err != nil {
			return
		}
		var sps h264.SPS
		if sps.Unmarshal(c.SPS[0]) == nil {
			v.Width, v.Height = sps.Width(), sps.Height()
		}
	case media.CodecH265:
		c, err := media.ParseHEVCConfig(pkt.Payload())
		if err != nil {
			return
		}
		var sps h265.SPS
		if sps.Unmarshal(c.SPS[0]) == nil {
			v.Width, v.Height = sps.Width(), sps.Height()
		}
	}
}

func (t *trackInfo) audioConfig(pkt *media.Packet) {
	a := &AudioStats{Codec: pkt.Codec.String()}
	t.audio = a
	if pkt.Codec != media.CodecAAC {
		return
	}
	var asc mpeg4audio.AudioSpecificConfig
	if asc.Unmarshal(pkt.Payload()) == nil {
		a.SampleRate = asc.SampleRate
		a.Channels = int(asc.ChannelConfig)
		if asc.ChannelConfig == 7 {
			a.Channels = 8
		}
	}
}

// rateMeter measures rates over one-second windows.
type rateMeter struct {
	start      time.Time
	bytesIn    uint64
	frames     int
	outStart   uint64
	lastIn     int64
	lastOut    int64
	lastFPS    float64
	lastUpdate time.Time
}

func (r *rateMeter) reset(now time.Time) {
	*r = rateMeter{start: now, lastUpdate: now}
}

// add counts a packet. mu held.
func (r *rateMeter) add(now time.Time, pkt *media.Packet, bytesOut uint64) {
	if r.start.IsZero() {
		r.reset(now)
		r.outStart = bytesOut
	}
	r.bytesIn += uint64(len(pkt.Data))
	if pkt.Type == media.TagVideo && !pkt.SeqHeader {
		r.frames++
	}
	el := now.Sub(r.start)
	if el < time.Second {
		return
	}
	sec := el.Seconds()
	r.lastIn = int64(float64(r.bytesIn*8) / sec)
	r.lastOut = int64(float64((bytesOut-r.outStart)*8) / sec)
	r.lastFPS = float64(r.frames) / sec
	r.lastUpdate = now
	r.start, r.bytesIn, r.frames, r.outStart = now, 0, 0, bytesOut
}

// Stats returns a snapshot of the stream.
func (s *Stream) Stats() Stats {
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	st := Stats{
		Name:              s.name,
		Live:              s.pub != nil,
		BytesIn:           s.bytesIn,
		BytesOut:          s.bytesOut.Load(),
		DroppedFrames:     s.dropped.Load(),
		SlowDisconnects:   s.slow.Load(),
		DeliveryLatency:   s.latency.stats(),
		Created:           s.created,
		Uptime:            now.Sub(s.created).Seconds(),
		ViewersByProtocol: make(map[string]int, len(s.viewers)+len(s.external)),
	}
	if p := s.pub; p != nil {
		st.Publisher = &PublisherStats{Protocol: p.info.Protocol, RemoteAddr: p.info.RemoteAddr, Since: p.since, Internal: p.info.Internal}
	}
	fresh := now.Sub(s.rate.lastUpdate) < 3*time.Second && st.Live
	if v := s.info.video; v != nil {
		vc := *v
		if fresh {
			vc.FPS = s.rate.lastFPS
		}
		st.Video = &vc
	}
	if a := s.info.audio; a != nil {
		ac := *a
		st.Audio = &ac
	}
	if fresh {
		st.BitrateIn, st.BitrateOut = s.rate.lastIn, s.rate.lastOut
	}
	for p, n := range s.viewers {
		st.ViewersByProtocol[p] += n
		st.Viewers += n
	}
	for p, n := range s.external {
		st.ViewersByProtocol[p] += n
		st.Viewers += n
	}
	return st
}

// viewerCountLocked returns the number of counted subscribers. mu held.
func (s *Stream) viewerCountLocked() int {
	n := 0
	for _, v := range s.viewers {
		n += v
	}
	return n
}
