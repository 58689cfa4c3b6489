package store

import "time"

// Recording statuses.
const (
	RecordingActive = "recording" // being written
	RecordingReady  = "ready"     // complete and playable
	RecordingFailed = "failed"    // stopped by an error; may hold a playable prefix
)

// ValidRecordingStatus reports whether s is a recording status the store
// accepts.
func ValidRecordingStatus(s string) bool {
	return s == RecordingActive || s == RecordingReady || s == RecordingFailed
}

// Recording is one recorded live session of a room, kept on disk as HLS VOD
// by the record package.
type Recording struct {
	ID         string
	RoomID     string
	Stream     string     // the stream name recorded
	Status     string     // RecordingActive, RecordingReady or RecordingFailed; empty means active on create
	StartedAt  time.Time  // zero means the current time on create
	EndedAt    *time.Time // nil while recording
	DurationMS int64      // sum of the segment durations
	Bytes      int64      // size of the segments on disk
	Segments   int        // number of segments
	Recovered  bool       // finalised at start after a crash, not by the recorder that wrote it
	Error      string     // why the recording failed, if it did
}
