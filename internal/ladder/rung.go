// Package ladder transcodes each live stream into lower renditions (the
// quality ladder of -abr-ladder): one supervised ffmpeg per rendition
// (internal/transcode) reads the stream from the hub as FLV on its stdin
// and writes H.264 + AAC FLV on its stdout, which is published back into
// the hub as the stream STREAM_RUNG ("room42_480p"), playable over RTMP,
// HTTP-FLV and HLS like any stream. Keyframes follow the source's
// (-force_key_frames source, timestamps copied as they are), so that players switch
// renditions at segment boundaries; a rendition is never taller than its
// source.
package ladder

import (
	"fmt"
	"strconv"
	"strings"
)

// Rung is one rendition of the ladder.
type Rung struct {
	// Name is the rung as configured ("480p"); the rendition of stream S is
	// the stream S_Name.
	Name string
	// Height is the picture height; the width follows the source's aspect
	// ratio (rounded to even).
	Height int
	// VideoKbps and AudioKbps are the target bitrates.
	VideoKbps, AudioKbps int
}

// Bandwidth is the peak bits per second announced in the multivariant
// playlist: the video's maximum rate and the audio, plus container
// overhead.
func (r Rung) Bandwidth() int { return (r.VideoKbps + r.AudioKbps) * 1000 * 11 / 10 }

// rungs are the renditions -abr-ladder accepts.
var rungs = map[string]Rung{
	"1080p": {"1080p", 1080, 4500, 128},
	"720p":  {"720p", 720, 2500, 128},
	"480p":  {"480p", 480, 1000, 96},
	"360p":  {"360p", 360, 600, 64},
	"240p":  {"240p", 240, 300, 64},
}

// ParseRungs returns the rungs named (any subset of 1080p, 720p, 480p,
// 360p, 240p), tallest first.
func ParseRungs(names []string) ([]Rung, error) {
	var out []Rung
	seen := map[string]bool{}
	for _, n := range names {
		r, ok := rungs[n]
		if !ok {
			return nil, fmt.Errorf("ladder: unknown rendition %q", n)
		}
		if seen[n] {
			return nil, fmt.Errorf("ladder: rendition %q listed twice", n)
		}
		seen[n] = true
		out = append(out, r)
	}
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j].Height > out[j-1].Height; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out, nil
}

// RenditionName returns the stream name of source's rendition r.
func RenditionName(source string, r Rung) string { return source + "_" + r.Name }

// args are ffmpeg's arguments for rung r: FLV in on stdin, FLV out on
// stdout. They hold only constants and r's numbers: no stream name, no
// path, no URL.
func args(r Rung) []string {
	k := func(n int) string { return strconv.Itoa(n) + "k" }
	return []string{
		"-f", "flv", "-analyzeduration", "2000000", "-i", "pipe:0",
		"-copyts",
		"-map", "0:v:0", "-map", "0:a:0?",
		"-vf", "scale=-2:" + strconv.Itoa(r.Height),
		"-c:v", "libx264", "-preset", "veryfast", "-tune", "zerolatency", "-profile:v", "main", "-pix_fmt", "yuv420p",
		"-b:v", k(r.VideoKbps), "-maxrate", k(r.VideoKbps), "-bufsize", k(2 * r.VideoKbps),
		"-force_key_frames", "source", "-g", "100000", "-sc_threshold", "0",
		// The source's timestamps, unchanged: no frame-rate grid.
		"-fps_mode", "passthrough", "-enc_time_base:v", "1:1000",
		"-c:a", "aac", "-b:a", k(r.AudioKbps),
		"-f", "flv", "-flvflags", "no_duration_filesize", "pipe:1",
	}
}

// codecsAVC returns the RFC 6381 codecs string of an H.264 SPS
// ("avc1.4d401e"), or "" if sps is too short.
func codecsAVC(sps []byte) string {
	if len(sps) < 4 {
		return ""
	}
	return fmt.Sprintf("avc1.%02x%02x%02x", sps[1], sps[2], sps[3])
}

// codecs joins a video and an audio codecs string for CODECS="…".
func codecs(video, audio string) string {
	var parts []string
	for _, c := range []string{video, audio} {
		if c != "" {
			parts = append(parts, c)
		}
	}
	return strings.Join(parts, ",")
}
