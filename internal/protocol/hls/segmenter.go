package hls

import (
	"bytes"
	"fmt"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/formats/mpegts"

	"roomcast/internal/media"
)

// DefaultTargetDuration is the segment duration used when none is set.
const DefaultTargetDuration = 2 * time.Second

const (
	// clockOffset (90 kHz) is added to every MPEG-TS timestamp so that audio
	// a little ahead of the first keyframe, negative composition offsets and
	// the PCR, which the writer puts 100 ms before the DTS, stay positive.
	clockOffset = 10 * 90000

	// probeMs is how much media (by DTS) is held while the set of tracks is
	// unknown, waiting for the other track's sequence header, before
	// segmenting starts with the tracks known so far. Publishers normally
	// send both sequence headers first, and the hub replays them to a late
	// subscriber, so this only delays an audio-only or video-only stream.
	probeMs = 1000
	// maxPending bounds the samples held while probing or while waiting
	// for a keyframe.
	maxPending = 1024

	// Consecutive AAC frames are packed into one PES packet, as ffmpeg
	// does, up to these bounds: a PES packet per 20 ms frame would cost a
	// padded TS packet each, and PAT/PMT each when audio carries the PCR.
	audioBatchFrames = 8
	audioBatchBytes  = 2930

	// A segment without a keyframe for this long (or this big) is cut
	// anyway, so that a publisher that stops sending keyframes cannot grow
	// one segment without bound.
	maxSegmentTargets = 20
	minMaxSegmentMs   = 60_000
	maxSegmentBytes   = 64 << 20
)

// SegmenterConfig configures a Segmenter.
type SegmenterConfig struct {
	// TargetDuration is how long a segment gets before it is cut at the
	// next video keyframe (audio-only streams: the next audio frame).
	// Zero means DefaultTargetDuration.
	TargetDuration time.Duration
	// FirstSeq is the sequence number of the first segment.
	FirstSeq uint64
	// PartTarget, with OnPart, makes the segmenter also cut each segment
	// into partial segments (Low-Latency HLS) of at most this duration.
	PartTarget time.Duration
	// OnPart receives each partial segment as soon as it is complete, in
	// order; a segment's last part comes just before the segment itself.
	// It is called synchronously like emit and must not call back.
	OnPart func(*Part)
}

// Segmenter cuts a stream of packets into MPEG-TS segments. It takes H.264
// or H.265 video in AVCC form and AAC audio, configured by their sequence
// header packets; other packets are ignored. Segments start at video
// keyframes and are cut at the first keyframe at which the segment has
// reached the target duration (with a tolerance of 5% for encoders whose
// keyframe spacing jitters around it); audio-only streams are cut at the
// first frame at or after the target duration. Only a segment that went
// maxSegmentTargets target durations (at least a minute) without a keyframe
// is cut elsewhere.
//
// The set of tracks is fixed when the first segment starts: once both
// sequence headers and a keyframe arrived, or after a second of media with
// the headers known by then. A changed sequence header (new resolution,
// sample rate, codec) ends the segment; the next one, with new PAT/PMT,
// follows a discontinuity. A header resent unchanged is ignored.
//
// A Segmenter is not safe for concurrent use; emit is called synchronously
// from WritePacket, Discontinuity and Flush and must not call back into the
// Segmenter.
type Segmenter struct {
	emit      func(*Segment)
	target    int64 // ms
	tolerance int64 // ms
	maxDur    int64 // ms

	video *videoConfig
	audio *audioConfig

	// w is the writer of the current track set; nil while the tracks are
	// being probed (at the start and after a codec change).
	w      *mpegts.Writer
	out    sink
	vt, at *mpegts.Track

	seq      uint64
	discSeq  uint64
	started  bool  // a segment was ever opened
	origin   int64 // DTS of the first sample ever written (ms)
	disc     bool  // the next segment follows a discontinuity
	open     bool  // a segment is being written
	cur      segState
	lastDTS  int64 // of the last video sample
	step     int64 // last video frame spacing (ms)
	haveLast bool
	pending  []sample // probing, or audio waiting for a keyframe
	batch    audioBatch

	parts partState
}

// segState is the open segment.
type segState struct {
	start, end int64 // ms
	disc       bool
	needTables bool // PAT/PMT not written yet
}

// sample is one access unit, converted once on input.
type sample struct {
	video, key bool
	dts, pts   int64    // ms
	nalus      [][]byte // video
	aac        []byte   // audio
}

// NewSegmenter returns a segmenter that passes each completed segment to
// emit.
func NewSegmenter(cfg SegmenterConfig, emit func(*Segment)) *Segmenter {
	target := cfg.TargetDuration
	if target <= 0 {
		target = DefaultTargetDuration
	}
	ms := target.Milliseconds()
	return &Segmenter{
		emit:      emit,
		target:    ms,
		tolerance: ms / 20,
		maxDur:    max(ms*maxSegmentTargets, minMaxSegmentMs),
		seq:       cfg.FirstSeq,
		parts:     newPartState(cfg),
	}
}

// WritePacket feeds one packet. Packets of a track must come in DTS order.
// An error means the packet was malformed or unsupported and was dropped;
// the segmenter stays usable.
func (s *Segmenter) WritePacket(pkt *media.Packet) error {
	switch {
	case pkt.Type == media.TagVideo && (pkt.Codec == media.CodecH264 || pkt.Codec == media.CodecH265):
		if pkt.SeqHeader {
			return s.setVideo(pkt)
		}
		return s.videoFrame(pkt)
	case pkt.Type == media.TagAudio && pkt.Codec == media.CodecAAC:
		if pkt.SeqHeader {
			return s.setAudio(pkt)
		}
		return s.audioFrame(pkt)
	}
	return nil
}

// Discontinuity ends the current segment and marks the next one as
// following a discontinuity (EXT-X-DISCONTINUITY): call it when the
// publisher reconnected or the timeline otherwise broke. The next segment
// starts at the next keyframe.
func (s *Segmenter) Discontinuity() error {
	err := s.cut(s.cur.end)
	s.pending = nil
	if s.started {
		s.disc = true
	}
	return err
}

// Flush ends the current segment and emits it; call it when the stream
// ends. Packets written afterwards start a new segment at the next
// keyframe.
func (s *Segmenter) Flush() error {
	err := s.cut(s.cur.end)
	s.pending = nil
	return err
}

func (s *Segmenter) setVideo(pkt *media.Packet) error {
	if v := s.video; v != nil && v.codec == pkt.Codec && bytes.Equal(v.raw, pkt.Payload()) {
		return nil // resent, unchanged
	}
	v, err := parseVideoConfig(pkt)
	if err != nil {
		if s.video != nil {
			s.video = nil
			s.reconfigure(true)
		}
		return fmt.Errorf("hls: %v sequence header: %w", pkt.Codec, err)
	}
	s.video = v
	s.reconfigure(true)
	return nil
}

func (s *Segmenter) setAudio(pkt *media.Packet) error {
	if a := s.audio; a != nil && bytes.Equal(a.raw, pkt.Payload()) {
		return nil
	}
	a, err := parseAudioConfig(pkt.Payload())
	if err != nil {
		if s.audio != nil {
			s.audio = nil
			s.reconfigure(false)
		}
		return fmt.Errorf("hls: AAC sequence header: %w", err)
	}
	s.audio = a
	s.reconfigure(false)
	return nil
}

// reconfigure handles a change of the video or audio configuration: the
// current segment ends, the tracks are probed again and the next segment is
// a discontinuity with a new writer. While still probing, only the held
// samples of the changed track are dropped.
func (s *Segmenter) reconfigure(video bool) {
	if s.w == nil {
		kept := s.pending[:0]
		for _, p := range s.pending {
			if p.video != video {
				kept = append(kept, p)
			}
		}
		clear(s.pending[len(kept):])
		s.pending = kept
		return
	}
	s.pending = nil
	_ = s.cut(s.cur.end) // audio frames were checked on input: cannot fail
	s.w, s.vt, s.at = nil, nil, nil
	if s.started {
		s.disc = true
	}
}

func (s *Segmenter) videoFrame(pkt *media.Packet) error {
	if s.video == nil || s.video.codec != pkt.Codec {
		return nil // no configuration yet: undecodable
	}
	nalus, err := media.SplitAVCC(pkt.Payload(), s.video.lengthSize)
	if err != nil {
		return fmt.Errorf("hls: %v frame at %d ms: %w", pkt.Codec, pkt.DTS, err)
	}
	if len(nalus) == 0 {
		return nil // end of sequence, empty frame
	}
	return s.push(sample{video: true, key: pkt.Keyframe, dts: pkt.DTS, pts: pkt.PTS(), nalus: nalus})
}

func (s *Segmenter) audioFrame(pkt *media.Packet) error {
	if s.audio == nil {
		return nil
	}
	au := pkt.Payload()
	switch {
	case len(au) == 0:
		return nil
	case len(au) > maxADTSPayload:
		return fmt.Errorf("hls: AAC frame of %d bytes at %d ms: %w", len(au), pkt.DTS, ErrUnsupported)
	}
	return s.push(sample{dts: pkt.DTS, pts: pkt.DTS, aac: au})
}

// push routes a sample: to the probe buffer while the tracks are unknown,
// to the wait queue until a keyframe opens a segment, else to the writer,
// cutting a segment first when it is time.
func (s *Segmenter) push(smp sample) error {
	if s.w == nil {
		return s.probe(smp)
	}
	if !s.open {
		if s.vt != nil {
			if !smp.video {
				s.queue(smp)
				return nil
			}
			if !smp.key {
				return nil
			}
			s.openSegment(smp.dts)
			if err := s.writeVideo(smp); err != nil {
				return err
			}
			return s.writeQueued(smp.dts)
		}
		if smp.video {
			return nil
		}
		s.openSegment(smp.dts)
	} else if s.timeToCut(smp) {
		if err := s.cut(smp.dts); err != nil {
			return err
		}
		s.openSegment(smp.dts)
	} else if s.timeToCutPart(smp) {
		if err := s.cutPart(smp); err != nil {
			return err
		}
	}
	if smp.video {
		return s.writeVideo(smp)
	}
	return s.writeAudio(smp)
}

// probe holds samples until the track set is known: both configurations
// and a keyframe, or probeMs of media with what is known by then.
func (s *Segmenter) probe(smp sample) error {
	if smp.video && !smp.key && !s.pendingKey() {
		return nil
	}
	s.pending = append(s.pending, smp)
	ready := s.video != nil && s.audio != nil && s.pendingKey()
	if !ready && s.pendingSpan() < probeMs && len(s.pending) < maxPending {
		return nil
	}
	if err := s.newWriter(); err != nil {
		s.pending = nil
		return err
	}
	held := s.pending
	s.pending = nil
	for _, p := range held {
		if err := s.push(p); err != nil {
			return err
		}
	}
	return nil
}

func (s *Segmenter) pendingKey() bool {
	for _, p := range s.pending {
		if p.key {
			return true
		}
	}
	return false
}

func (s *Segmenter) pendingSpan() int64 {
	if len(s.pending) == 0 {
		return 0
	}
	return s.pending[len(s.pending)-1].dts - s.pending[0].dts
}

// queue holds an audio sample until a keyframe opens the next segment,
// keeping only the last probeMs.
func (s *Segmenter) queue(smp sample) {
	if s.at == nil {
		return
	}
	s.pending = append(s.pending, smp)
	drop := 0
	for drop < len(s.pending) && (len(s.pending)-drop > maxPending || smp.dts-s.pending[drop].dts > probeMs) {
		drop++
	}
	if drop > 0 {
		clear(s.pending[:drop])
		s.pending = append(s.pending[:0], s.pending[drop:]...)
	}
}

// writeQueued writes the queued audio that belongs after the keyframe at
// dts.
func (s *Segmenter) writeQueued(dts int64) error {
	held := s.pending
	s.pending = nil
	for _, p := range held {
		if p.dts >= dts {
			if err := s.writeAudio(p); err != nil {
				return err
			}
		}
	}
	return nil
}

// timeToCut reports whether smp starts a new segment.
func (s *Segmenter) timeToCut(smp sample) bool {
	dur := smp.dts - s.cur.start
	if s.vt == nil {
		return dur >= s.target // audio frames are regular: no tolerance
	}
	if !smp.video {
		return false
	}
	if smp.key && dur >= s.target-s.tolerance {
		return true
	}
	return dur >= s.maxDur || len(s.out.b) >= maxSegmentBytes
}

func (s *Segmenter) openSegment(dts int64) {
	if !s.started {
		s.started = true
		s.origin = dts
	}
	s.open = true
	s.cur = segState{start: dts, end: dts, disc: s.disc, needTables: true}
	s.parts.open(dts)
	if s.disc {
		s.discSeq++
		s.disc = false
	}
}

// cut ends the open segment at end (ms) and emits it.
func (s *Segmenter) cut(end int64) error {
	if !s.open {
		return nil
	}
	err := s.flushAudio()
	s.open = false
	s.emitPart(end)
	seg := &Segment{
		SegmentInfo: SegmentInfo{
			Seq:              s.seq,
			Discontinuity:    s.cur.disc,
			DiscontinuitySeq: s.discSeq,
			Duration:         time.Duration(max(end-s.cur.start, 0)) * time.Millisecond,
			Start:            time.Duration(s.cur.start) * time.Millisecond,
		},
		Data: s.out.take(),
	}
	s.seq++
	s.emit(seg)
	return err
}
