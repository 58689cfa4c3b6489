package programme

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"roomcast/internal/hub"
)

// Layouts of the mix.
const (
	// LayoutPIP shows the host full frame and each co-host in a tile of a
	// quarter of its width and height, stacked up from the bottom right.
	LayoutPIP = "pip"
	// LayoutGrid shows every member in an equal tile, the host first.
	LayoutGrid = "grid"
)

// Defaults for a host whose picture size or frame rate is not known yet.
const (
	defaultWidth  = 1280
	defaultHeight = 720
	defaultFPS    = 30
)

// tile is where one input goes in the mix.
type tile struct {
	x, y, w, h int
}

// layout is the geometry of one mix: the programme's size and frame rate
// (the host's, so that players need no reset), where each input goes
// (tiles[0] is the host), and which inputs carry audio.
type layout struct {
	width, height int
	fps           int
	tiles         []tile
	audio         []bool
}

// even rounds n down to an even number of at least 2 (4:2:0 chroma).
func even(n int) int { return max(2, n&^1) }

// layoutFor computes the layout of the host roomStream with cohosts from
// their streams' statistics.
func layoutFor(h *hub.Hub, roomStream string, cohosts []string, kind string) layout {
	l := layout{width: defaultWidth, height: defaultHeight, fps: defaultFPS}
	hasAudio := func(name string) bool {
		s := h.Stream(name)
		return s == nil || s.Stats().Audio != nil
	}
	if s := h.Stream(roomStream); s != nil {
		if v := s.Stats().Video; v != nil && v.Width > 0 && v.Height > 0 {
			l.width, l.height = even(v.Width), even(v.Height)
			if v.FPS >= 1 {
				l.fps = int(math.Round(v.FPS))
			}
		}
	}
	l.audio = append(l.audio, hasAudio(roomStream))
	for _, c := range cohosts {
		l.audio = append(l.audio, hasAudio(c))
	}
	l.tiles = place(kind, l.width, l.height, 1+len(cohosts))
	return l
}

// place returns the tiles of n inputs (the host first) in a w×h picture.
func place(kind string, w, h, n int) []tile {
	if kind == LayoutGrid {
		cols := int(math.Ceil(math.Sqrt(float64(n))))
		rows := (n + cols - 1) / cols
		tw, th := even(w/cols), even(h/rows)
		out := make([]tile, n)
		for i := range out {
			out[i] = tile{x: (i % cols) * tw, y: (i / cols) * th, w: tw, h: th}
		}
		return out
	}
	margin := even(h / 40)
	tw, th := even(w/4), even(h/4)
	out := []tile{{0, 0, w, h}}
	for i := 1; i < n; i++ {
		out = append(out, tile{x: w - tw - margin, y: h - i*(th+margin), w: tw, h: th})
	}
	return out
}

// filterGraph is the ffmpeg filter graph of l: the host scaled to its tile
// (full frame in pip) and padded to the programme's size, each co-host
// scaled into its tile on top (a co-host whose input ends leaves the host
// alone: eof_action=pass), and the audio of every member that has some
// mixed. Outputs are [v] and, when some member has audio, [a].
func filterGraph(l layout) string {
	var b strings.Builder
	t0 := l.tiles[0]
	fmt.Fprintf(&b, "[0:v]fps=%d,scale=%d:%d,setsar=1,pad=%d:%d:%d:%d:black[b0]", l.fps, t0.w, t0.h, l.width, l.height, t0.x, t0.y)
	last := "b0"
	for i := 1; i < len(l.tiles); i++ {
		t := l.tiles[i]
		fmt.Fprintf(&b, ";[%d:v]scale=%d:%d,setsar=1[c%d]", i, t.w, t.h, i)
		fmt.Fprintf(&b, ";[%s][c%d]overlay=x=%d:y=%d:eof_action=pass:repeatlast=1[b%d]", last, i, t.x, t.y, i)
		last = "b" + strconv.Itoa(i)
	}
	fmt.Fprintf(&b, ";[%s]format=yuv420p[v]", last)
	var ins []string
	for i, a := range l.audio {
		if a {
			ins = append(ins, fmt.Sprintf("[%d:a]", i))
		}
	}
	switch len(ins) {
	case 0:
	case 1:
		fmt.Fprintf(&b, ";%sanull[a]", ins[0])
	default:
		fmt.Fprintf(&b, ";%samix=inputs=%d:duration=first:dropout_transition=0[a]", strings.Join(ins, ""), len(ins))
	}
	return b.String()
}

// inputPipe returns the pipe of input i: pipe:0, then pipe:3, pipe:4, …
func inputPipe(i int) string {
	if i == 0 {
		return "pipe:0"
	}
	return "pipe:" + strconv.Itoa(i+2)
}

// mixArgs returns ffmpeg's arguments for l: FLV inputs on pipes with
// little buffering, the input timestamps kept (feed puts them on one
// clock), H.264 with a keyframe every second (a switch to the mix waits
// for one) at the host's frame rate, AAC, FLV out on pipe:1.
func mixArgs(l layout) []string {
	var args []string
	for i := range l.tiles {
		args = append(args, "-fflags", "+nobuffer", "-analyzeduration", "1000000", "-probesize", "1000000", "-f", "flv", "-i", inputPipe(i))
	}
	args = append(args, "-copyts", "-filter_complex", filterGraph(l), "-map", "[v]")
	hasAudio := false
	for _, a := range l.audio {
		hasAudio = hasAudio || a
	}
	if hasAudio {
		args = append(args, "-map", "[a]")
	}
	args = append(args,
		"-c:v", "libx264", "-preset", "veryfast", "-tune", "zerolatency", "-profile:v", "high",
		"-r", strconv.Itoa(l.fps), "-g", strconv.Itoa(l.fps), "-keyint_min", strconv.Itoa(l.fps), "-sc_threshold", "0",
		"-b:v", strconv.Itoa(bitrate(l))+"k", "-maxrate", strconv.Itoa(bitrate(l))+"k", "-bufsize", strconv.Itoa(bitrate(l))+"k")
	if hasAudio {
		args = append(args, "-c:a", "aac", "-b:a", "128k", "-ar", "44100", "-ac", "2")
	} else {
		args = append(args, "-an")
	}
	return append(args, "-f", "flv", "-flvflags", "no_duration_filesize", "pipe:1")
}

// bitrate is the mix's video bitrate in kbit/s: about 0.1 bit per pixel
// per frame, 500 to 6000.
func bitrate(l layout) int {
	return min(6000, max(500, l.width*l.height*l.fps/10/1000))
}
