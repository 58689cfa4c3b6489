package record

import (
	"context"
	"os"
	"path/filepath"
	"time"

	"roomcast/internal/media"
)

// PosterName is the file of a recording's poster (a JPEG).
const PosterName = "poster.jpg"

// posterAfter: a recording's poster is made from its first keyframe at
// least this far into it, past the black or still frames a live often
// starts with; a shorter recording takes its first keyframe.
const posterAfter = 3 * time.Second

// posterState follows a session's video for its poster. Only the
// session's goroutine touches it.
type posterState struct {
	conf, first *media.Packet // decoder configuration, first keyframe
	firstDTS    int64
	started     bool          // a poster is being or was made
	done        chan struct{} // closed when the poster goroutine ended
}

// posterFeed looks at one packet: it remembers the decoder configuration
// and the first keyframe, and starts the poster at the first keyframe
// posterAfter into the recording.
func (s *session) posterFeed(pkt *media.Packet) {
	p := &s.poster
	if s.r.cfg.Poster == nil || p.started || pkt.Type != media.TagVideo {
		return
	}
	switch {
	case pkt.SeqHeader:
		p.conf = pkt
	case pkt.Keyframe && len(pkt.Payload()) > 0 && p.conf != nil:
		if p.first == nil {
			p.first, p.firstDTS = pkt, pkt.DTS
		}
		if time.Duration(pkt.DTS-p.firstDTS)*time.Millisecond >= posterAfter {
			s.startPoster(p.conf, pkt)
		}
	}
}

// posterFinish makes the poster from the first keyframe if none was
// started, and waits for the poster to be written.
func (s *session) posterFinish() {
	p := &s.poster
	if !p.started && p.first != nil {
		s.startPoster(p.conf, p.first)
	}
	if p.done != nil {
		<-p.done
	}
}

// startPoster decodes key into the recording's poster.jpg on its own
// goroutine, so that the recording is not held up by ffmpeg.
func (s *session) startPoster(conf, key *media.Packet) {
	p := &s.poster
	p.started, p.done = true, make(chan struct{})
	name := filepath.Join(s.dir, PosterName)
	go func() {
		defer close(p.done)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		jpeg, err := s.r.cfg.Poster(ctx, conf, key)
		if err != nil {
			s.log.Warn("replay poster not made", "err", err)
			return
		}
		if err := writeAtomic(s.r.fs, name, jpeg); err != nil {
			s.log.Warn("replay poster not written", "err", err)
		}
	}()
}

// HasPoster reports whether a recording has its poster on disk.
func (r *Recorder) HasPoster(roomID, recordingID string) bool {
	dir, err := r.recordingDir(roomID, recordingID)
	if err != nil {
		return false
	}
	_, err = os.Stat(filepath.Join(dir, PosterName))
	return err == nil
}
