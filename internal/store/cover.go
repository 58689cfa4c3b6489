package store

import "time"

// Room cover sources. A room keeps at most one cover of each; an uploaded
// cover is shown in preference to the last live one.
const (
	CoverUpload = "upload" // set by the host (PUT /rooms/{id}/cover)
	CoverLive   = "live"   // the last live cover, kept when a live ended
)

// RoomCover is a room's cover picture: a JPEG made by the server (never
// the bytes a user sent).
type RoomCover struct {
	RoomID        string
	Source        string // CoverUpload or CoverLive
	JPEG          []byte // omitted by the metadata-only lookups
	Width, Height int
	UpdatedAt     time.Time // zero means the current time on put
}
