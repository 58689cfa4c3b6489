package hls

import (
	"fmt"
	"math"

	"github.com/bluenviron/mediacommon/v2/pkg/formats/mpegts"

	"roomcast/internal/media"
)

// audioBatch is AAC frames waiting to go out in one PES packet.
type audioBatch struct {
	start int64 // DTS of the first frame (ms)
	aus   [][]byte
	size  int
}

// sink collects the MPEG-TS bytes of the open segment.
type sink struct{ b []byte }

func (s *sink) Write(p []byte) (int, error) {
	s.b = append(s.b, p...)
	return len(p), nil
}

// take returns the bytes written so far and starts a new buffer sized for a
// segment like the last one.
func (s *sink) take() []byte {
	b := s.b
	s.b = make([]byte, 0, len(b)+len(b)/8)
	return b
}

// newWriter starts a writer for the configured tracks.
func (s *Segmenter) newWriter() error {
	var tracks []*mpegts.Track
	s.vt, s.at = nil, nil
	if s.video != nil {
		s.vt = s.video.track()
		tracks = append(tracks, s.vt)
	}
	if s.audio != nil {
		s.at = s.audio.track()
		tracks = append(tracks, s.at)
	}
	w := &mpegts.Writer{W: &s.out, Tracks: tracks}
	if err := w.Initialize(); err != nil {
		s.vt, s.at = nil, nil
		return fmt.Errorf("hls: mpegts writer: %w", err)
	}
	s.w = w
	return nil
}

// clock converts a stream timestamp (ms) to the 90 kHz MPEG-TS clock.
func (s *Segmenter) clock(ms int64) int64 {
	return (ms-s.origin)*90 + clockOffset
}

func (s *Segmenter) writeVideo(smp sample) error {
	au := smp.nalus
	if smp.key {
		au = s.video.withParams(au)
	}
	if s.cur.needTables {
		s.cur.needTables = false
		// The writer puts PAT/PMT before a random access picture itself.
		if !s.video.randomAccess(au) {
			if _, err := s.w.WriteTables(); err != nil {
				return fmt.Errorf("hls: PAT/PMT: %w", err)
			}
		}
	}
	pts, dts := s.clock(smp.pts), s.clock(smp.dts)
	var err error
	if s.video.codec == media.CodecH265 {
		err = s.w.WriteH265(s.vt, pts, dts, au)
	} else {
		err = s.w.WriteH264(s.vt, pts, dts, au)
	}
	if err != nil {
		return fmt.Errorf("hls: %v frame at %d ms: %w", s.video.codec, smp.dts, err)
	}
	if s.haveLast && smp.dts > s.lastDTS {
		s.step = smp.dts - s.lastDTS
	}
	s.lastDTS, s.haveLast = smp.dts, true
	s.cur.end = max(s.cur.end, smp.dts+s.step)
	return nil
}

// writeAudio adds an AAC frame to the batch, writing the batch first when
// the frame does not continue it.
func (s *Segmenter) writeAudio(smp sample) error {
	if s.at == nil {
		return nil
	}
	b := &s.batch
	if n := len(b.aus); n > 0 {
		expect := b.start + int64(math.Round(float64(n)*s.audio.frameMs))
		if n >= audioBatchFrames || b.size+len(smp.aac) > audioBatchBytes || smp.dts-expect > 1 || expect-smp.dts > 1 {
			if err := s.flushAudio(); err != nil {
				return err
			}
		}
	}
	if len(b.aus) == 0 {
		b.start = smp.dts
		if s.cur.needTables {
			s.cur.needTables = false
			if s.vt != nil { // audio carries no PCR here: no automatic tables
				if _, err := s.w.WriteTables(); err != nil {
					return fmt.Errorf("hls: PAT/PMT: %w", err)
				}
			}
		}
	}
	b.aus = append(b.aus, smp.aac)
	b.size += len(smp.aac)
	s.cur.end = max(s.cur.end, smp.dts+int64(math.Round(s.audio.frameMs)))
	return nil
}

// flushAudio writes the batched AAC frames as one PES packet.
func (s *Segmenter) flushAudio() error {
	b := &s.batch
	if len(b.aus) == 0 {
		return nil
	}
	err := s.w.WriteMPEG4Audio(s.at, s.clock(b.start), b.aus)
	clear(b.aus)
	b.aus, b.size = b.aus[:0], 0
	if err != nil {
		return fmt.Errorf("hls: AAC at %d ms: %w", b.start, err)
	}
	return nil
}
