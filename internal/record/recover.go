package record

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	hlsproto "roomcast/internal/protocol/hls"
	"roomcast/internal/store"
)

// Recover finalises the recordings a crash (or a shutdown) left in status
// recording: it rewrites each one's playlist as VOD with EXT-X-ENDLIST from
// the segments the playlist lists and that are on disk, and marks it ready
// with Recovered set, its duration from the playlists' EXTINF and its size
// from the files; a recording with nothing playable is marked failed. Call
// it at start, before Run. Segments written after the last playlist rewrite
// are not listed and stay on disk unused. A recovered recording is reported
// like any other that ends: Config.OnReady when ready, Config.OnFailed when
// nothing was playable.
func (r *Recorder) Recover(ctx context.Context) error {
	recs, err := r.store.RecordingsByStatus(ctx, store.RecordingActive)
	if err != nil {
		return fmt.Errorf("record: recover: %w", err)
	}
	var errs []error
	for _, rec := range recs {
		if f := r.cfg.Recoverable; f != nil && !f(rec, r.lastWrite(rec)) {
			continue
		}
		if err := r.recoverOne(ctx, rec); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (r *Recorder) recoverOne(ctx context.Context, rec store.Recording) error {
	log := r.log.With("recording", rec.ID, "room", rec.RoomID)
	segs, bytes, ended, cause := r.salvage(rec)
	status := store.RecordingReady
	if cause != nil {
		status = store.RecordingFailed
	}
	if ended.IsZero() {
		ended = r.cfg.Now()
	}
	ended = ended.UTC()
	var dur time.Duration
	for _, si := range segs {
		dur += si.Duration
	}
	done, err := r.store.UpdateRecording(ctx, rec.ID, func(x *store.Recording) error {
		x.Status, x.EndedAt, x.Recovered = status, &ended, true
		x.DurationMS, x.Bytes, x.Segments = dur.Milliseconds(), bytes, len(segs)
		x.Error = ""
		if cause != nil {
			x.Error = "recovered after an unclean stop: " + cause.Error()
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("record: recover %s: %w", rec.ID, err)
	}
	log.Info("unfinished recording recovered", "status", status, "segments", len(segs), "err", cause)
	switch {
	case cause == nil && r.cfg.OnReady != nil:
		r.cfg.OnReady(*done)
	case cause != nil && r.cfg.OnFailed != nil:
		r.cfg.OnFailed(*done, cause)
	}
	return nil
}

// lastWrite returns when a recording's files last changed: its playlist,
// else its directory, else its start.
func (r *Recorder) lastWrite(rec store.Recording) time.Time {
	last := rec.StartedAt
	dir, err := r.recordingDir(rec.RoomID, rec.ID)
	if err != nil {
		return last
	}
	for _, name := range []string{filepath.Join(dir, playlistName), dir} {
		if fi, err := os.Stat(name); err == nil && fi.ModTime().After(last) {
			last = fi.ModTime()
		}
	}
	return last
}

// salvage rewrites a recording's playlist as VOD from what is on disk. It
// returns the segments kept, their size, the time of the last playlist
// write, and why nothing is playable, if so.
func (r *Recorder) salvage(rec store.Recording) (segs []hlsproto.SegmentInfo, size int64, last time.Time, cause error) {
	dir, err := r.recordingDir(rec.RoomID, rec.ID)
	if err != nil {
		return nil, 0, time.Time{}, err
	}
	name := filepath.Join(dir, playlistName)
	text, err := os.ReadFile(name)
	if err != nil {
		return nil, 0, time.Time{}, fmt.Errorf("read playlist: %w", err)
	}
	if fi, err := os.Stat(name); err == nil {
		last = fi.ModTime()
	}
	listed := parsePlaylist(string(text))
	disc := false
	for _, si := range listed {
		disc = disc || si.Discontinuity
		fi, err := os.Stat(filepath.Join(dir, segmentName(si.Seq)))
		if err != nil || fi.Size() == 0 {
			disc = true // a gap: what follows is a discontinuity
			continue
		}
		si.Discontinuity = disc && len(segs) > 0
		disc = false
		segs = append(segs, si)
		size += fi.Size()
	}
	if len(segs) == 0 {
		return nil, 0, last, errNoMedia
	}
	if err := writeAtomic(r.fs, name, renderPlaylist(hlsproto.PlaylistVOD, r.cfg.TargetDuration, segs)); err != nil {
		return nil, 0, last, err
	}
	return segs, size, last, nil
}

// parsePlaylist reads the segments of a playlist this package wrote: EXTINF
// durations, N.ts URIs and discontinuities. Anything else is skipped.
func parsePlaylist(text string) []hlsproto.SegmentInfo {
	var (
		segs []hlsproto.SegmentInfo
		dur  time.Duration
		disc bool
	)
	for line := range strings.Lines(text) {
		line = strings.TrimSpace(line)
		switch {
		case line == "#EXT-X-DISCONTINUITY":
			disc = true
		case strings.HasPrefix(line, "#EXTINF:"):
			v, _, _ := strings.Cut(strings.TrimPrefix(line, "#EXTINF:"), ",")
			f, err := strconv.ParseFloat(v, 64)
			if err == nil && f >= 0 && f < 24*3600 {
				dur = time.Duration(f * float64(time.Second)).Round(time.Millisecond)
			}
		case line != "" && !strings.HasPrefix(line, "#"):
			n, ok := strings.CutSuffix(line, ".ts")
			seq, err := strconv.ParseUint(n, 10, 64)
			if ok && err == nil && filePattern.MatchString(line) {
				segs = append(segs, hlsproto.SegmentInfo{Seq: seq, Discontinuity: disc, Duration: dur})
			}
			dur, disc = 0, false
		}
	}
	return segs
}
