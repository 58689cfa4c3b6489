package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os/exec"
	"testing"
	"time"
)

// cohostMember is one entry of a room's members.
type cohostMember struct {
	User struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	} `json:"user"`
	Role   string `json:"role"`
	Stream string `json:"stream"`
	Live   bool   `json:"live"`
	Play   *struct {
		RTMP  string `json:"rtmp"`
		FLV   string `json:"flv"`
		WSFLV string `json:"ws_flv"`
		HLS   string `json:"hls"`
		WHEP  string `json:"whep"`
	} `json:"play"`
}

// cohostRoom is a room with its members.
type cohostRoom struct {
	roomJSON
	Members []cohostMember `json:"members"`
}

// cohostGetRoom reads the room with its members.
func (s *testServer) cohostGetRoom(ctx context.Context, t *testing.T, token, id string) cohostRoom {
	t.Helper()
	var r cohostRoom
	s.mustCall(ctx, t, http.MethodGet, "/api/v1/rooms/"+id, token, nil, http.StatusOK, &r)
	return r
}

// cohostWaitRoom polls the room until cond holds.
func (s *testServer) cohostWaitRoom(ctx context.Context, t *testing.T, token, id, what string, timeout time.Duration, cond func(cohostRoom) bool) cohostRoom {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		r := s.cohostGetRoom(ctx, t, token, id)
		if cond(r) {
			return r
		}
		if time.Now().After(deadline) {
			b, _ := json.Marshal(r)
			t.Fatalf("room %s not %s within %v: %s", id, what, timeout, b)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// cohostAdd makes userID a co-host of the room as who.
func (s *testServer) cohostAdd(ctx context.Context, t *testing.T, who account, roomID, userID string) cohostRoom {
	t.Helper()
	var r cohostRoom
	s.mustCall(ctx, t, http.MethodPost, "/api/v1/rooms/"+roomID+"/cohosts", who.Token, map[string]string{"user_id": userID}, http.StatusCreated, &r)
	return r
}

// cohostPublish starts ffmpeg publishing a plain colour picture (640x360 at
// 25 fps, a keyframe every second) with a tone to url; it runs until
// killed or the server drops it.
func cohostPublish(t *testing.T, url, color string, hz int) *publisher {
	t.Helper()
	ffmpeg := requireTool(t, "ffmpeg")
	ctx, cancel := context.WithCancel(context.Background())
	p := &publisher{url: url, cancel: cancel, stderr: &syncBuffer{}, done: make(chan struct{})}
	p.cmd = exec.CommandContext(ctx, ffmpeg,
		"-hide_banner", "-nostdin", "-nostats", "-loglevel", "warning",
		"-re", "-f", "lavfi", "-i", fmt.Sprintf("color=c=%s:size=640x360:rate=25", color),
		"-f", "lavfi", "-i", fmt.Sprintf("sine=frequency=%d:sample_rate=44100", hz),
		"-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency", "-g", "25", "-pix_fmt", "yuv420p",
		"-c:a", "aac", "-b:a", "64k", "-f", "flv", url)
	p.cmd.Stderr = p.stderr
	p.cmd.WaitDelay = 5 * time.Second
	if err := p.cmd.Start(); err != nil {
		cancel()
		t.Fatalf("start ffmpeg publisher: %v", err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.kill()
		if t.Failed() {
			t.Logf("ffmpeg %s publisher to %s (exit: %v), stderr:\n%s", color, url, p.err, p.stderr)
		}
	})
	return p
}

// cohostColours counts the clearly blue and clearly red pixels of one frame
// of url (decoded by ffmpeg to 64x36 RGB).
func cohostColours(ctx context.Context, t *testing.T, url string) (blue, red int, err error) {
	t.Helper()
	bin := requireTool(t, "ffmpeg")
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	// The second decoded frame: the first may be the GOP cache's.
	cmd := exec.CommandContext(ctx, bin, "-hide_banner", "-nostdin", "-v", "error", "-rw_timeout", ioTimeout,
		"-i", url, "-vf", "select=gte(n\\,1),scale=64:36:flags=neighbor", "-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1")
	var stderr syncBuffer
	cmd.Stderr = &stderr
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.Output()
	if err != nil {
		return 0, 0, fmt.Errorf("grab a frame of %s: %w: %s", url, err, stderr.String())
	}
	if len(out) != 64*36*3 {
		return 0, 0, fmt.Errorf("grab a frame of %s: %d bytes, want %d", url, len(out), 64*36*3)
	}
	for i := 0; i+2 < len(out); i += 3 {
		r, g, b := int(out[i]), int(out[i+1]), int(out[i+2])
		switch {
		case b > 150 && r < 80 && g < 80:
			blue++
		case r > 150 && b < 80 && g < 80:
			red++
		}
	}
	return blue, red, nil
}

// cohostWaitColours grabs frames of url until ok holds for the counts.
func cohostWaitColours(ctx context.Context, t *testing.T, url, what string, timeout time.Duration, ok func(blue, red int) bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		blue, red, err := cohostColours(ctx, t, url)
		if err == nil && ok(blue, red) {
			t.Logf("programme %s: %d blue and %d red pixels of 2304", what, blue, red)
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("programme never %s within %v: last %d blue, %d red pixels, err %v", what, timeout, blue, red, err)
		}
		time.Sleep(500 * time.Millisecond)
	}
}
