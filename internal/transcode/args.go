package transcode

import (
	"fmt"
	"strings"
)

// forbiddenOptions open or write files named in their value.
var forbiddenOptions = map[string]bool{
	"-filter_script": true, "-filter_complex_script": true, "-attach": true,
	"-dump_attachment": true, "-passlogfile": true, "-vstats_file": true,
	"-report": true, "-sdp_file": true, "-progress": true, "-stats_file": true,
	"-protocol_whitelist": true, "-protocol_blacklist": true, "-f_strict": true,
}

// forbiddenFilters read files or run commands named in their options.
var forbiddenFilters = []string{"movie", "amovie", "subtitles", "ass", "sendcmd", "asendcmd", "zmq", "azmq", "drawtext", "lut3d", "haldclut"}

// CheckArgs reports whether args are safe to hand to ffmpeg: built by
// roomcast, not taken from a user. Every input (-i) must be a pipe
// ("pipe:N" or "-"), the last argument (the output) must be a pipe, and no
// argument may be empty, contain a control character, be a URL ("://"),
// a path ("/…", "./…", "~…", "..") or a protocol prefix ("file:",
// "concat:", …), use an option that opens files (-filter_script, -attach,
// -progress, …), or name a filter that reads files or runs commands
// (movie, subtitles, sendcmd, …). The error wraps ErrBadArgs.
func CheckArgs(args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("%w: no arguments", ErrBadArgs)
	}
	inputs := 0
	for i, a := range args {
		if err := checkArg(a); err != "" {
			return fmt.Errorf("%w: argument %d %q: %s", ErrBadArgs, i, a, err)
		}
		if forbiddenOptions[a] {
			return fmt.Errorf("%w: option %s opens files", ErrBadArgs, a)
		}
		if a == "-i" {
			if i+1 >= len(args) || !isPipe(args[i+1]) {
				return fmt.Errorf("%w: input %d must be a pipe", ErrBadArgs, inputs)
			}
			inputs++
		}
		if strings.HasPrefix(a, "-filter") || a == "-vf" || a == "-af" || a == "-lavfi" {
			if i+1 < len(args) {
				if f := forbiddenFilter(args[i+1]); f != "" {
					return fmt.Errorf("%w: filter %s opens files", ErrBadArgs, f)
				}
			}
		}
	}
	if !isPipe(args[len(args)-1]) {
		return fmt.Errorf("%w: the output must be a pipe", ErrBadArgs)
	}
	return nil
}

func checkArg(a string) string {
	switch {
	case a == "":
		return "empty"
	case strings.Contains(a, "://"):
		return "a URL"
	case strings.HasPrefix(a, "/"), strings.HasPrefix(a, "./"), strings.HasPrefix(a, "~"), strings.Contains(a, ".."):
		return "a path"
	}
	for _, c := range a {
		if c < 0x20 || c == 0x7f {
			return "a control character"
		}
	}
	if proto, _, ok := strings.Cut(a, ":"); ok && !isPipe(a) {
		switch strings.ToLower(proto) {
		case "file", "concat", "concatf", "subfile", "crypto", "data", "cache", "async", "fd", "tee", "http", "https", "tcp", "udp", "rtmp", "rtp", "srt", "unix", "gopher", "ftp", "hls", "ipfs", "ipns", "smb", "sftp":
			return "a protocol"
		}
	}
	return ""
}

func isPipe(a string) bool {
	if a == "-" {
		return true
	}
	n, ok := strings.CutPrefix(a, "pipe:")
	if !ok || n == "" || len(n) > 2 {
		return false
	}
	for _, c := range n {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// forbiddenFilter returns the first forbidden filter named in a filter
// graph description, or "".
func forbiddenFilter(graph string) string {
	fields := strings.FieldsFunc(graph, func(r rune) bool {
		return r == ',' || r == ';' || r == '[' || r == ']' || r == ' '
	})
	for _, f := range fields {
		name, _, _ := strings.Cut(f, "=")
		name = strings.ToLower(name)
		for _, bad := range forbiddenFilters {
			if name == bad {
				return bad
			}
		}
	}
	return ""
}
