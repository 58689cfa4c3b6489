package record

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"time"

	"roomcast/internal/auth"
	"roomcast/internal/hub"
	"roomcast/internal/media"
	hlsproto "roomcast/internal/protocol/hls"
	"roomcast/internal/store"
)

// idPrefix starts recording ids.
const idPrefix = "rec_"

// session is one recording in progress; only its goroutine touches it.
type session struct {
	r   *Recorder
	log *slog.Logger
	rec store.Recording
	dir string
	seg *hlsproto.Segmenter

	segments []hlsproto.SegmentInfo
	bytes    int64
	err      error // first write error: the recording stops

	epoch     uint32
	haveMedia bool
	handedOn  bool // Continue said no: the live goes on elsewhere
	lastDTS   int64
	skip      bool // after resubscribing: media up to lastDTS was written

	poster posterState
}

// record writes one live session until the stream ends, a write fails or
// ctx is done.
func (r *Recorder) record(ctx context.Context, sub *hub.Subscriber, roomID string, e hub.Event) {
	defer func() { sub.Close() }()
	log := r.log.With("stream", e.Stream, "room", roomID)
	id, err := auth.NewID(idPrefix)
	if err != nil {
		log.Error("recording not started", "err", err)
		return
	}
	s := &session{r: r, log: log.With("recording", id)}
	s.rec = store.Recording{ID: id, RoomID: roomID, Stream: e.Stream, Status: store.RecordingActive, StartedAt: r.cfg.Now().UTC()}
	s.dir, err = r.recordingDir(roomID, id)
	if err != nil {
		log.Error("recording not started", "err", err)
		return
	}
	if err := r.store.CreateRecording(ctx, &s.rec); err != nil {
		log.Error("recording not started", "err", err)
		return
	}
	if err := r.fs.MkdirAll(s.dir); err != nil {
		s.fail(fmt.Errorf("create directory: %w", err))
		return
	}
	s.log.Info("recording started")
	s.seg = hlsproto.NewSegmenter(hlsproto.SegmenterConfig{TargetDuration: r.cfg.TargetDuration}, s.write)

	var frames []*hub.Frame
	for s.err == nil {
		frames, err = sub.Next(ctx, frames)
		switch {
		case err == nil:
			s.feed(frames)
			clear(frames) // let the hub's ring release old frames
			if s.handedOn {
				s.log.Info("recording finished: the live moved to another node")
				s.finish(ctx)
				return
			}
		case ctx.Err() != nil:
			// Shutting down: the playlist on disk is a playable prefix;
			// Recover finalises it at the next start.
			return
		case errors.Is(err, hub.ErrSlow):
			// The disk kept us a whole queue behind: continue from the
			// newest keyframe after a gap, marked as a discontinuity.
			s.log.Warn("recorder too slow, resubscribing with a gap")
			sub.Close()
			s.check(s.seg.Discontinuity())
			next, serr := r.hub.Subscribe(s.rec.Stream, "")
			if serr != nil || next.Stream() != sub.Stream() {
				if serr == nil {
					next.Close() // a new live session: recorded on its own
				}
				s.finish(ctx)
				return
			}
			sub, s.skip = next, true
		default: // hub.ErrEnded
			s.finish(ctx)
			return
		}
	}
	s.fail(s.err)
}

// feed writes frames to the segmenter, marking a discontinuity where the
// publisher session (epoch) changes: a reconnect within the grace.
func (s *session) feed(frames []*hub.Frame) {
	for _, f := range frames {
		if s.err != nil {
			return
		}
		pkt := f.Packet
		if (pkt.Type == media.TagVideo || pkt.Type == media.TagAudio) && !pkt.SeqHeader {
			if s.skip && pkt.DTS <= s.lastDTS {
				continue
			}
			if s.haveMedia && f.Epoch != s.epoch {
				if c := s.r.cfg.Continue; c != nil && !c(s.rec.Stream) {
					s.handedOn = true
					return
				}
				s.check(s.seg.Discontinuity())
			}
			s.epoch, s.haveMedia = f.Epoch, true
			s.lastDTS = max(s.lastDTS, pkt.DTS)
		}
		s.posterFeed(pkt)
		s.check(s.seg.WritePacket(pkt))
	}
}

// check logs a malformed packet; the segmenter dropped it.
func (s *session) check(err error) {
	if err != nil {
		s.log.Debug("record: packet dropped", "err", err)
	}
}

// write is the segmenter's emit: it stores the segment, then the playlist
// listing it. After the first error it does nothing.
func (s *session) write(seg *hlsproto.Segment) {
	if s.err != nil {
		return
	}
	if err := s.r.fs.WriteFile(filepath.Join(s.dir, segmentName(seg.Seq)), seg.Data); err != nil {
		s.err = fmt.Errorf("write segment %d: %w", seg.Seq, err)
		return
	}
	s.segments = append(s.segments, seg.SegmentInfo)
	s.bytes += int64(len(seg.Data))
	if err := s.writePlaylist(hlsproto.PlaylistEvent); err != nil {
		s.err = err
	}
}

// writePlaylist replaces index.m3u8 atomically.
func (s *session) writePlaylist(typ hlsproto.PlaylistType) error {
	return writeAtomic(s.r.fs, filepath.Join(s.dir, playlistName), renderPlaylist(typ, s.r.cfg.TargetDuration, s.segments))
}

// renderPlaylist renders a recording's playlist; VOD ends with
// EXT-X-ENDLIST.
func renderPlaylist(typ hlsproto.PlaylistType, target time.Duration, segs []hlsproto.SegmentInfo) []byte {
	pl := hlsproto.MediaPlaylist{
		Type:           typ,
		TargetDuration: target,
		Segments:       segs,
		URI:            func(si hlsproto.SegmentInfo) string { return segmentName(si.Seq) },
	}
	return pl.Render()
}

// totals copies the session's counters into rec.
func (s *session) totals(rec *store.Recording) {
	var d time.Duration
	for _, si := range s.segments {
		d += si.Duration
	}
	rec.DurationMS, rec.Bytes, rec.Segments = d.Milliseconds(), s.bytes, len(s.segments)
}

// finish completes the recording after the stream ended.
func (s *session) finish(ctx context.Context) {
	s.posterFinish()
	s.check(s.seg.Flush())
	if s.err != nil {
		s.fail(s.err)
		return
	}
	if len(s.segments) == 0 {
		s.fail(errNoMedia)
		return
	}
	if err := s.writePlaylist(hlsproto.PlaylistVOD); err != nil {
		s.fail(err)
		return
	}
	end := s.r.cfg.Now().UTC()
	rec, err := s.r.store.UpdateRecording(ctx, s.rec.ID, func(rec *store.Recording) error {
		rec.Status, rec.EndedAt, rec.Error = store.RecordingReady, &end, ""
		s.totals(rec)
		return nil
	})
	if err != nil {
		s.log.Error("recording complete but not stored as ready", "err", err)
		return
	}
	s.log.Info("recording ready", "segments", rec.Segments, "duration_ms", rec.DurationMS, "bytes", rec.Bytes)
	if s.r.cfg.OnReady != nil {
		s.r.cfg.OnReady(*rec)
	}
}

// fail stops the recording with status failed. The segments written so far
// stay on disk; an ended playlist is attempted so that the prefix stays
// playable. It uses a fresh context: a failure is recorded even while
// shutting down.
func (s *session) fail(cause error) {
	s.err = cause
	if s.poster.done != nil {
		<-s.poster.done
	}
	if len(s.segments) > 0 {
		_ = s.writePlaylist(hlsproto.PlaylistVOD) // best effort: the disk is in trouble
	}
	end := s.r.cfg.Now().UTC()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	rec, err := s.r.store.UpdateRecording(ctx, s.rec.ID, func(rec *store.Recording) error {
		rec.Status, rec.EndedAt, rec.Error = store.RecordingFailed, &end, cause.Error()
		s.totals(rec)
		return nil
	})
	if err != nil {
		s.log.Error("recording failed and not stored as failed", "cause", cause, "err", err)
		return
	}
	s.log.Warn("recording failed", "err", cause)
	if s.r.cfg.OnFailed != nil {
		s.r.cfg.OnFailed(*rec, cause)
	}
}
