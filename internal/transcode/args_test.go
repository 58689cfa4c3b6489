package transcode

import (
	"errors"
	"testing"
)

func TestCheckArgs(t *testing.T) {
	ok := [][]string{
		{"-f", "flv", "-i", "pipe:0", "-frames:v", "1", "-c:v", "mjpeg", "-f", "image2pipe", "pipe:1"},
		{"-f", "flv", "-i", "-", "-vf", "scale=-2:360", "-c:v", "libx264", "-f", "flv", "-"},
		{"-i", "pipe:0", "-i", "pipe:3", "-filter_complex", "[0:v][1:v]hstack", "-f", "flv", "pipe:1"},
		{"-f", "flv", "-i", "pipe:0", "-r", "30000/1001", "-f", "flv", "pipe:1"},
	}
	for _, args := range ok {
		if err := CheckArgs(args); err != nil {
			t.Errorf("CheckArgs(%q) = %v, want nil", args, err)
		}
	}
	bad := []struct {
		name string
		args []string
	}{
		{"none", nil},
		{"input file", []string{"-i", "video.flv", "pipe:1"}},
		{"input absolute path", []string{"-i", "/etc/passwd", "pipe:1"}},
		{"input URL", []string{"-i", "rtmp://evil/live/x", "pipe:1"}},
		{"input missing", []string{"-f", "flv", "-i"}},
		{"output file", []string{"-i", "pipe:0", "out.jpg"}},
		{"output path", []string{"-i", "pipe:0", "/tmp/out.jpg"}},
		{"traversal", []string{"-i", "pipe:0", "-metadata", "title=../../x", "pipe:1"}},
		{"relative path", []string{"-i", "pipe:0", "-map", "./x", "pipe:1"}},
		{"home path", []string{"-i", "pipe:0", "-map", "~x", "pipe:1"}},
		{"url in value", []string{"-i", "pipe:0", "-metadata", "a=http://x", "pipe:1"}},
		{"file protocol", []string{"-i", "pipe:0", "-f", "flv", "file:out", "pipe:1"}},
		{"concat protocol", []string{"-i", "pipe:0", "concat:a|b", "pipe:1"}},
		{"control char", []string{"-i", "pipe:0", "-metadata", "a\nb", "pipe:1"}},
		{"empty", []string{"-i", "pipe:0", "", "pipe:1"}},
		{"filter script", []string{"-i", "pipe:0", "-filter_script", "x", "pipe:1"}},
		{"progress", []string{"-i", "pipe:0", "-progress", "pipe:2", "pipe:1"}},
		{"movie filter", []string{"-i", "pipe:0", "-vf", "movie=x[a];[in][a]overlay", "pipe:1"}},
		{"subtitles filter", []string{"-i", "pipe:0", "-filter_complex", "[0:v]subtitles=x", "pipe:1"}},
		{"drawtext filter", []string{"-i", "pipe:0", "-vf", "drawtext=textfile=x", "pipe:1"}},
		{"bad pipe", []string{"-i", "pipe:x", "pipe:1"}},
	}
	for _, tc := range bad {
		if err := CheckArgs(tc.args); !errors.Is(err, ErrBadArgs) {
			t.Errorf("%s: CheckArgs(%q) = %v, want ErrBadArgs", tc.name, tc.args, err)
		}
	}
}

// TestUserStringsNeverReachArgs feeds hostile strings of the kind a user
// could send (stream names are validated before, but a caller mistake must
// still be caught) where a caller might wrongly put them.
func TestUserStringsNeverReachArgs(t *testing.T) {
	hostile := []string{"../../etc/passwd", "/etc/passwd", "http://evil/x", "file:/etc/passwd", "concat:/a|/b", "x\ny"}
	for _, h := range hostile {
		for _, args := range [][]string{
			{"-i", h, "pipe:1"},
			{"-i", "pipe:0", h},
			{"-i", "pipe:0", "-metadata", h, "pipe:1"},
		} {
			if err := CheckArgs(args); err == nil {
				t.Errorf("CheckArgs(%q) accepted a hostile argument", args)
			}
		}
	}
}

func FuzzCheckArgs(f *testing.F) {
	f.Add("-i", "pipe:0", "pipe:1")
	f.Add("-i", "/etc/passwd", "pipe:1")
	f.Add("-vf", "movie=x", "-")
	f.Fuzz(func(t *testing.T, a, b, c string) {
		args := []string{a, b, c}
		if CheckArgs(args) != nil {
			return
		}
		// Accepted: the output is a pipe and so is any input.
		if !isPipe(c) {
			t.Fatalf("accepted non-pipe output %q", c)
		}
		if a == "-i" && !isPipe(b) || b == "-i" && !isPipe(c) {
			t.Fatalf("accepted non-pipe input in %q", args)
		}
		for _, s := range args {
			if checkArg(s) != "" {
				t.Fatalf("accepted bad argument %q", s)
			}
		}
	})
}
