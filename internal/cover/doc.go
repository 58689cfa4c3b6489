// Package cover makes the pictures viewers see before they click: the live
// cover of each stream (a JPEG of its latest keyframe, refreshed every
// interval while it is live), replay posters, and host-uploaded room
// covers, checked and re-encoded so that no user bytes are served as-is.
//
// Decoding is ffmpeg's job (through internal/transcode): for each grab, the
// stream's latest keyframe alone, with its parameter sets, is written as an
// Annex B elementary stream to a short ffmpeg that decodes that one picture
// and encodes a JPEG. Only one picture per interval is decoded; no process
// stays around between grabs.
package cover
