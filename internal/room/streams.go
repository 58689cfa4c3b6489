package room

import "strings"

// Stream names of a room. Every stream of a room starts with the room's own
// stream name (Room.Stream, "s_" and 26 characters, never a '-'), so the
// room of any of them is found by the part before the first '-':
//
//	s_…              the host's stream: the host pushes it, as before co-hosts
//	s_…-user_…       a co-host's stream: MemberStream(room, user ID)
//	s_…-programme    the programme: what the room's play URLs carry, the
//	                 host alone or the mix; published inside the server only
//	s_…-mix          the mix of the live members, published by the mixer
//	                 (ffmpeg) and switched into the programme
//
// A co-host's stream name is fixed for the user in the room, so a co-host's
// push URL works again if it becomes a co-host again before the URL
// expires; its publish is refused whenever it is not a co-host.
const (
	programmeSuffix = "programme"
	mixSuffix       = "mix"
	userIDPrefix    = "user_"
)

// StreamKind says which of a room's streams a name is.
type StreamKind uint8

// Kinds of a room's streams.
const (
	// KindHost is the room's own stream, pushed by the host.
	KindHost StreamKind = iota + 1
	// KindCohost is a co-host's stream.
	KindCohost
	// KindProgramme is the programme the room's play URLs carry.
	KindProgramme
	// KindMix is the mixer's output.
	KindMix
)

// StreamRef is a stream name taken apart by ParseStream.
type StreamRef struct {
	// Room is the room's stream name (Room.Stream).
	Room string
	// Kind is which of the room's streams it is.
	Kind StreamKind
	// UserID is the co-host's user ID (KindCohost only).
	UserID string
}

// ParseStream takes a stream name apart. A name without a '-' is a host
// stream; ok is false for a name with an unknown suffix.
func ParseStream(name string) (ref StreamRef, ok bool) {
	base, suffix, found := strings.Cut(name, "-")
	switch {
	case base == "":
		return StreamRef{}, false
	case !found:
		return StreamRef{Room: base, Kind: KindHost}, true
	case suffix == programmeSuffix:
		return StreamRef{Room: base, Kind: KindProgramme}, true
	case suffix == mixSuffix:
		return StreamRef{Room: base, Kind: KindMix}, true
	case strings.HasPrefix(suffix, userIDPrefix) && len(suffix) > len(userIDPrefix) && !strings.Contains(suffix, "-"):
		return StreamRef{Room: base, Kind: KindCohost, UserID: suffix}, true
	}
	return StreamRef{}, false
}

// MemberStream returns the stream name of a co-host of the room whose
// stream is roomStream.
func MemberStream(roomStream, userID string) string { return roomStream + "-" + userID }

// ProgrammeStream returns the name of the programme of the room whose
// stream is roomStream: the stream its play URLs carry.
func ProgrammeStream(roomStream string) string { return roomStream + "-" + programmeSuffix }

// MixStream returns the name of the mixer's output of the room whose stream
// is roomStream.
func MixStream(roomStream string) string { return roomStream + "-" + mixSuffix }
