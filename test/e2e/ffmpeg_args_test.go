package e2e

import (
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"roomcast/internal/config"
)

// TestFFmpegArgsNeverCarryUserStrings runs the server with -ffmpeg set to
// a wrapper that logs every argument of every ffmpeg it starts, and makes
// it start them all: a live cover, a quality-ladder rendition and a replay
// poster, for a room whose title and owner's name are hostile strings. No
// argument may contain the title, the name, the stream name or the push
// signature: media goes through pipes, never through a user-named path,
// URL or option.
func TestFFmpegArgsNeverCarryUserStrings(t *testing.T) {
	requireTool(t, "ffmpeg")
	real, err := exec.LookPath("ffmpeg")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	argLog := filepath.Join(dir, "args.log")
	wrapper := filepath.Join(dir, "ffmpeg-logged")
	script := "#!/bin/sh\nfor a in \"$@\"; do printf '%s\\n' \"$a\" >> '" + argLog + "'; done\nprintf -- '--\\n' >> '" + argLog + "'\nexec '" + real + "' \"$@\"\n"
	if err := os.WriteFile(wrapper, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	ctx := testContext(t)
	s := startServer(t, func(c *config.Config) {
		coverRules(c)
		c.Transcode.FFmpeg = wrapper
		c.Transcode.ABRLadder = []string{"360p"}
	})
	const hostileName = "mallory_pipe_0"
	const hostileTitle = `concat:/etc/passwd|x; $(id) -i http://evil.example/x.flv`
	owner := s.register(ctx, t, hostileName)
	rm := s.createRoom(ctx, t, owner, hostileTitle, false)
	push := s.pushURL(ctx, t, owner, rm.ID)
	p := startPublisher(t, push.URL)

	// A live cover and the rendition: both are ffmpeg runs.
	s.coverWaitRoom(ctx, t, "", rm.ID, "live with a rendition", 60*time.Second, func(r coverRoomJSON) bool {
		return r.Status == "live" && r.Play != nil && len(r.Play.Renditions) > 0
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		status, _, _ := coverFetch(ctx, t, s.httpURL("/live/"+rm.Stream+".jpg"))
		if status == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no live cover within 30s (last %d)", status)
		}
		time.Sleep(pollInterval)
	}
	// Three seconds in, the recording takes its poster: another run.
	time.Sleep(4 * time.Second)
	p.stop(t, 10*time.Second)
	s.waitReady(ctx, t, owner.Token, rm.ID, 1)

	b, err := os.ReadFile(argLog)
	if err != nil {
		t.Fatalf("the wrapper logged nothing: %v", err)
	}
	calls := strings.Count(string(b), "\n--\n")
	if calls < 3 {
		t.Fatalf("%d ffmpeg runs logged, want at least 3 (cover, rendition, poster):\n%s", calls, b)
	}
	_, secret, _ := strings.Cut(push.URL, "txSecret=")
	secret, _, _ = strings.Cut(secret, "&")
	forbidden := map[string]string{"room title": hostileTitle, "user name": hostileName, "stream name": rm.Stream, "push signature": secret,
		"a URL": "://", "a path": "/etc/"}
	for _, arg := range strings.Split(string(b), "\n") {
		for what, s := range forbidden {
			if s != "" && strings.Contains(arg, s) {
				t.Errorf("ffmpeg argument %q carries %s %q", arg, what, s)
			}
		}
	}
}
