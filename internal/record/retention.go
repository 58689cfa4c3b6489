package record

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"roomcast/internal/store"
)

// Remove deletes the files of a recording (its directory). The ids are
// checked first (ErrBadPath); a directory already gone is not an error. The
// caller deletes the row; Remove refuses nothing else, so the caller also
// decides whether a recording still in progress may go.
func (r *Recorder) Remove(rec store.Recording) error {
	dir, err := r.recordingDir(rec.RoomID, rec.ID)
	if err != nil {
		return err
	}
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("record: remove %s: %w", rec.ID, err)
	}
	return nil
}

// RemoveRoom deletes the files of every recording of a room (the store
// deletes their rows with the room). A recording still being written when
// its room goes may leave its last files behind.
func (r *Recorder) RemoveRoom(roomID string) error {
	if !idPattern.MatchString(roomID) {
		return fmt.Errorf("%w: room %q", ErrBadPath, roomID)
	}
	if err := os.RemoveAll(filepath.Join(r.cfg.Dir, roomID)); err != nil {
		return fmt.Errorf("record: remove room %s: %w", roomID, err)
	}
	return nil
}

// RetentionStore is what the retention sweeper needs of the store.
type RetentionStore interface {
	RecordingsByStatus(ctx context.Context, status string) ([]store.Recording, error)
	DeleteRecording(ctx context.Context, id string) error
}

// Retention bounds the recordings kept: by age and by total size. Zero
// means no bound.
type Retention struct {
	MaxAge   time.Duration
	MaxBytes int64
}

// Sweep deletes finished recordings (files, then row), oldest first: those
// that started before now-MaxAge, then as many as it takes to bring the
// total size (recordings in progress included) down to MaxBytes. Recordings
// in progress are never deleted. It returns the recordings deleted.
func (r *Recorder) Sweep(ctx context.Context, st RetentionStore, ret Retention, now time.Time) ([]store.Recording, error) {
	if ret.MaxAge <= 0 && ret.MaxBytes <= 0 {
		return nil, nil
	}
	var done []store.Recording
	var total int64
	for _, status := range []string{store.RecordingReady, store.RecordingFailed, store.RecordingActive} {
		recs, err := st.RecordingsByStatus(ctx, status)
		if err != nil {
			return nil, fmt.Errorf("record: sweep: %w", err)
		}
		for _, rec := range recs {
			total += rec.Bytes
			if status != store.RecordingActive {
				done = append(done, rec)
			}
		}
	}
	slices.SortFunc(done, func(a, b store.Recording) int {
		if c := a.StartedAt.Compare(b.StartedAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	var deleted []store.Recording
	var errs []error
	for _, rec := range done {
		old := ret.MaxAge > 0 && rec.StartedAt.Before(now.Add(-ret.MaxAge))
		over := ret.MaxBytes > 0 && total > ret.MaxBytes
		if !old && !over {
			break // the rest are newer and fit
		}
		if err := r.Remove(rec); err != nil {
			errs = append(errs, err)
			continue
		}
		if err := st.DeleteRecording(ctx, rec.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
			errs = append(errs, fmt.Errorf("record: sweep %s: %w", rec.ID, err))
			continue
		}
		total -= rec.Bytes
		deleted = append(deleted, rec)
		r.log.Info("replay deleted by retention", "recording", rec.ID, "room", rec.RoomID, "old", old, "bytes", rec.Bytes)
	}
	return deleted, errors.Join(errs...)
}

// SweepEvery runs Sweep at once, then every interval, until ctx is done.
// Failures are logged; the next sweep tries again. Without a bound it only
// waits for ctx.
func (r *Recorder) SweepEvery(ctx context.Context, st RetentionStore, ret Retention, interval time.Duration) error {
	if ret.MaxAge <= 0 && ret.MaxBytes <= 0 {
		<-ctx.Done()
		return nil
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if _, err := r.Sweep(ctx, st, ret, r.cfg.Now()); err != nil && ctx.Err() == nil {
			r.log.Warn("retention sweep failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}
