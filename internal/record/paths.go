package record

import (
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
)

// ErrBadPath is returned (wrapped) for an id or file name that may not reach
// the filesystem.
var ErrBadPath = errors.New("record: invalid id or file name")

var (
	// idPattern is what room and recording ids must match before they become
	// path elements: no dots, no separators, bounded length.
	idPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)
	// filePattern is the files a recording directory holds.
	filePattern = regexp.MustCompile(`^(index\.m3u8|[0-9]{1,10}\.ts|poster\.jpg)$`)
)

// playlistName is a recording's playlist.
const playlistName = "index.m3u8"

// segmentName returns the file name of segment seq.
func segmentName(seq uint64) string { return fmt.Sprintf("%d.ts", seq) }

// recordingDir returns Dir/ROOM/RECORDING after checking both ids.
func (r *Recorder) recordingDir(roomID, recordingID string) (string, error) {
	if !idPattern.MatchString(roomID) || !idPattern.MatchString(recordingID) {
		return "", fmt.Errorf("%w: room %q, recording %q", ErrBadPath, roomID, recordingID)
	}
	return filepath.Join(r.cfg.Dir, roomID, recordingID), nil
}

// Path returns the path of a file of a recording ("index.m3u8", "N.ts" or
// "poster.jpg"),
// for the VOD handler. It refuses, with ErrBadPath, ids and names that do
// not match the strict patterns above, so the result is always inside the
// recordings directory. The caller looks the recording up first (for its
// RoomID and to check who may watch it); Path does not check the file exists.
func (r *Recorder) Path(roomID, recordingID, file string) (string, error) {
	dir, err := r.recordingDir(roomID, recordingID)
	if err != nil {
		return "", err
	}
	if !filePattern.MatchString(file) {
		return "", fmt.Errorf("%w: file %q", ErrBadPath, file)
	}
	return filepath.Join(dir, file), nil
}
