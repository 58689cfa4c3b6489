package hls

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"roomcast/internal/hub"
	"roomcast/internal/media"
	hlsproto "roomcast/internal/protocol/hls"
)

// errLogEvery limits how often a stream's packet errors are logged.
const errLogEvery = 10 * time.Second

// mux feeds one stream's frames to a segmenter until the stream ends or ctx
// is done, then ends the HLS state (dropped now or after KeepEndedFor).
func (s *Server) mux(ctx context.Context, ls *liveStream) {
	log := s.log.With("stream", ls.name)
	defer s.finish(ls)
	sub, err := s.hub.Subscribe(ls.name, "")
	if err != nil {
		log.Debug("hls muxer not started", "err", err)
		return
	}
	defer func() { sub.Close() }()
	ls.setStream(sub.Stream())
	log.Debug("hls muxer started", "token", ls.token)

	m := muxer{
		log: log,
		seg: hlsproto.NewSegmenter(ls.segmenterConfig(s.cfg), ls.add),
	}
	var frames []*hub.Frame
	for {
		wait, cancel := context.WithCancel(ctx)
		ls.setWake(cancel)
		frames, err = sub.Next(wait, frames)
		cancel()
		switch {
		case err == nil:
			m.write(frames)
			clear(frames) // let the hub's ring release old frames
		case ctx.Err() != nil:
			return
		case errors.Is(err, context.Canceled):
			// Woken up with every frame delivered: the publisher left.
			if ls.takeFlush() {
				m.check(m.seg.Flush())
			}
		case errors.Is(err, hub.ErrSlow):
			// Fell a whole queue behind (a stalled machine): start again at
			// the newest keyframe. The timeline goes on, so no
			// discontinuity; frames already muxed are skipped.
			m.slow.log(log, "hls muxer too slow, resubscribing at the newest keyframe", nil)
			sub.Close()
			if !m.backoff(ctx, s.cfg.TargetDuration) {
				return
			}
			next, err := s.hub.Subscribe(ls.name, "")
			if err != nil { // ended meanwhile
				m.check(m.seg.Flush())
				return
			}
			sub = next
			m.skip, m.skipTo = true, m.lastDTS
		default: // hub.ErrEnded
			m.check(m.seg.Flush())
			return
		}
	}
}

// finish ends a stream's HLS state when its muxer stops.
func (s *Server) finish(ls *liveStream) {
	ls.end()
	ls.cancel()
	if keep := s.cfg.KeepEndedFor; keep > 0 {
		time.AfterFunc(keep, func() { s.remove(ls) })
		return
	}
	s.remove(ls)
}

// muxer is the per-stream state of the mux loop.
type muxer struct {
	log *slog.Logger
	seg *hlsproto.Segmenter

	epoch     uint32
	haveMedia bool
	lastDTS   int64
	// After resubscribing, media up to skipTo was muxed already.
	skip   bool
	skipTo int64

	errs logLimiter // malformed packets
	slow logLimiter // resubscriptions

	resubAt time.Time     // last resubscription
	delay   time.Duration // before the next one
}

// Resubscription backoff: a muxer that keeps falling behind (a starved
// machine, a GOP larger than the hub's queue) must not spin.
const (
	minResubDelay = 50 * time.Millisecond
	resubCalm     = 5 * time.Second // without trouble this long: reset
)

// backoff waits before resubscribing, longer each time the muxer falls
// behind again soon, up to max. It reports false when ctx ended.
func (m *muxer) backoff(ctx context.Context, maxDelay time.Duration) bool {
	now := time.Now()
	if now.Sub(m.resubAt) > resubCalm {
		m.delay = 0
	}
	m.resubAt = now
	if m.delay == 0 {
		m.delay = minResubDelay
		return ctx.Err() == nil
	}
	t := time.NewTimer(m.delay)
	defer t.Stop()
	m.delay = min(2*m.delay, max(maxDelay, minResubDelay))
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// write feeds frames to the segmenter, marking a discontinuity where the
// publisher session (epoch) changes.
func (m *muxer) write(frames []*hub.Frame) {
	for _, f := range frames {
		pkt := f.Packet
		if (pkt.Type == media.TagVideo || pkt.Type == media.TagAudio) && !pkt.SeqHeader {
			// Sequence headers and metadata may be replayed from an earlier
			// session; media frames tell the session apart.
			if m.skip && pkt.DTS <= m.skipTo {
				continue
			}
			if m.haveMedia && f.Epoch != m.epoch {
				m.check(m.seg.Discontinuity())
			}
			m.epoch, m.haveMedia = f.Epoch, true
			m.lastDTS = max(m.lastDTS, pkt.DTS)
		}
		m.check(m.seg.WritePacket(pkt))
	}
}

// check logs segmenter errors (malformed packets).
func (m *muxer) check(err error) {
	if err != nil {
		m.errs.log(m.log, "hls: packet dropped", err)
	}
}

// logLimiter logs a recurring warning at most once per errLogEvery, with
// the number of occurrences since the last line.
type logLimiter struct {
	n    int
	last time.Time
}

func (l *logLimiter) log(log *slog.Logger, msg string, err error) {
	l.n++
	if now := time.Now(); now.Sub(l.last) >= errLogEvery {
		log.Warn(msg, "err", err, "count", l.n)
		l.last, l.n = now, 0
	}
}
