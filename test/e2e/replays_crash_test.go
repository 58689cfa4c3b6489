package e2e

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"roomcast/internal/webhook"
)

// vodPlaylist is what a recording's playlist lists.
type vodPlaylist struct {
	segments      int
	duration      time.Duration // sum of the EXTINF durations
	ended         bool          // ends with EXT-X-ENDLIST
	discontinuity int           // EXT-X-DISCONTINUITY tags
}

// parseVOD reads a recording's playlist.
func parseVOD(t *testing.T, body []byte) vodPlaylist {
	t.Helper()
	var p vodPlaylist
	for _, line := range strings.Split(string(body), "\n") {
		line = strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(line, "#EXTINF:"):
			v, _, _ := strings.Cut(strings.TrimPrefix(line, "#EXTINF:"), ",")
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("playlist line %q: %v", line, err)
			}
			p.segments++
			p.duration += time.Duration(f * float64(time.Second))
		case line == "#EXT-X-DISCONTINUITY":
			p.discontinuity++
		}
	}
	p.ended = strings.HasSuffix(strings.TrimSpace(string(body)), "#EXT-X-ENDLIST")
	return p
}

// waitRecordingOnDisk waits until the room's only replay is recording and
// its playlist on disk lists at least n segments, and returns it.
func (s *testServer) waitRecordingOnDisk(ctx context.Context, t *testing.T, token, roomID string, n int, timeout time.Duration) replayJSON {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		if l := s.replays(ctx, t, token, roomID); len(l) == 1 && l[0].Status == "recording" {
			b, err := os.ReadFile(filepath.Join(s.cfg.DataDir, "recordings", roomID, l[0].ID, "index.m3u8"))
			if err == nil && parseVOD(t, b).segments >= n {
				return l[0]
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no recording with %d segments on disk within %v: %+v", n, timeout, s.replays(ctx, t, token, roomID))
		}
		time.Sleep(pollInterval)
	}
}

// TestReplayCrashRecovery kills the server with SIGKILL in the middle of a
// recording and starts it again on the same data directory: the recording
// is finalised (ready, recovered, EXT-X-ENDLIST) with exactly the segments
// its playlist listed at the crash, plays to the end of the last complete
// segment, and record.ready goes out.
func TestReplayCrashRecovery(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*testTimeout)
	defer cancel()
	hooks := startHookReceiver(t)
	cfg := testConfig(t, replayRules, sendHooksTo(hooks))
	s := startChild(t, cfg)
	owner := s.register(ctx, t, "crashowner")
	rm := s.createRoom(ctx, t, owner, "crash", false)
	push := s.pushURL(ctx, t, owner, rm.ID)
	p := startPublisher(t, push.URL)
	s.waitRoom(t, owner.Token, rm.ID, "live", 20*time.Second, func(r roomJSON) bool { return r.Status == "live" })

	// Wait for a recording with a few segments on disk, then crash.
	rec := s.waitRecordingOnDisk(ctx, t, owner.Token, rm.ID, 3, 30*time.Second)
	// Let a segment be in the making when the server dies.
	time.Sleep(1500 * time.Millisecond)
	s.kill(t)
	p.kill()

	dir := filepath.Join(cfg.DataDir, "recordings", rm.ID, rec.ID)
	b, err := os.ReadFile(filepath.Join(dir, "index.m3u8"))
	if err != nil {
		t.Fatal(err)
	}
	atCrash := parseVOD(t, b)
	if atCrash.ended || atCrash.segments < 3 {
		t.Fatalf("playlist at the crash: %+v\n%s", atCrash, b)
	}

	// Restart on the same data directory: the recording is finalised.
	s = startChild(t, cfg)
	got := s.waitReady(ctx, t, owner.Token, rm.ID, 1)
	if got.ID != rec.ID || !got.Recovered || got.EndedAt == nil || got.Bytes == 0 {
		t.Fatalf("after restart: %+v, want %s ready and recovered", got, rec.ID)
	}
	if got.Segments != atCrash.segments {
		t.Errorf("recovered %d segments, the playlist listed %d at the crash", got.Segments, atCrash.segments)
	}
	if api := time.Duration(got.DurationMS) * time.Millisecond; (api - atCrash.duration).Abs() > 10*time.Millisecond {
		t.Errorf("recovered duration %v, the playlist listed %v", api, atCrash.duration)
	}

	resp, body := get(ctx, t, got.URL)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("playlist after recovery: %s\n%s", resp.Status, body)
	}
	final := parseVOD(t, body)
	if !final.ended || final.segments != atCrash.segments {
		t.Fatalf("playlist after recovery: %+v\n%s", final, body)
	}
	if d := probeDuration(ctx, t, got.URL); (d - atCrash.duration).Abs() > 500*time.Millisecond {
		t.Errorf("ffprobe duration %v, the playlist listed %v at the crash", d, atCrash.duration)
	}
	decodeAll(ctx, t, got.URL)

	// The room the crash left live ends; the replay is announced.
	s.waitRoom(t, owner.Token, rm.ID, "ended", roomEndTimeout, func(r roomJSON) bool { return r.Status == "ended" })
	hooks.wait(t, "record.ready for the recovered replay", 15*time.Second, func(rs []hookRequest) bool {
		for _, r := range rs {
			if r.Payload.Type == webhook.TypeRecordReady && r.Payload.Data["recording"] == got.ID &&
				r.Payload.Data["url"] == got.URL && number(t, r.Payload, "duration_ms") == float64(got.DurationMS) {
				return true
			}
		}
		return false
	})
}

// TestReplayDiskFailure breaks a recording's directory in the middle of a
// live (it becomes a file: every write fails, even as root): the recording
// stops with status failed and record.failed goes out, while the live
// stream and its viewer carry on.
func TestReplayDiskFailure(t *testing.T) {
	ctx := testContext(t)
	hooks := startHookReceiver(t)
	s := startServer(t, replayRules, sendHooksTo(hooks))
	owner := s.register(ctx, t, "diskowner")
	rm := s.createRoom(ctx, t, owner, "disk", false)
	push := s.pushURL(ctx, t, owner, rm.ID)
	startPublisher(t, push.URL)
	s.waitRoom(t, owner.Token, rm.ID, "live", 20*time.Second, func(r roomJSON) bool { return r.Status == "live" })
	viewer := startFLVViewer(t, s.flvURL(rm.Stream))
	defer viewer.close()

	rec := s.waitRecordingOnDisk(ctx, t, owner.Token, rm.ID, 1, 20*time.Second)
	dir := filepath.Join(s.cfg.DataDir, "recordings", rm.ID, rec.ID)
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dir, []byte("not a directory"), 0o644); err != nil {
		t.Fatal(err)
	}
	broken := time.Now()

	var failed replayJSON
	deadline := time.Now().Add(20 * time.Second)
	for {
		if l := s.replays(ctx, t, owner.Token, rm.ID); len(l) == 1 && l[0].Status == "failed" {
			failed = l[0]
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("recording not failed within 20s of its directory breaking: %+v", s.replays(ctx, t, owner.Token, rm.ID))
		}
		time.Sleep(pollInterval)
	}
	if failed.ID != rec.ID || failed.EndedAt == nil {
		t.Errorf("failed replay %+v", failed)
	}
	hooks.wait(t, "record.failed", 15*time.Second, func(rs []hookRequest) bool {
		for _, r := range rs {
			if r.Payload.Type == webhook.TypeRecordFailed && r.Payload.Data["recording"] == rec.ID && r.Payload.Room == rm.ID {
				e, _ := r.Payload.Data["error"].(string)
				return strings.Contains(e, "not a directory")
			}
		}
		return false
	})

	// The live goes on: the room stays live and the viewer keeps getting
	// frames, without a gap, after the failure.
	since := time.Now()
	viewer.waitFrames(t, since, 50, 10*time.Second)
	if ended, err := viewer.ended(); ended {
		t.Fatalf("viewer disconnected: %v", err)
	}
	if gap := viewer.maxGap(broken, time.Now()); gap > time.Second {
		t.Errorf("viewer went %v without data after the recording failed", gap)
	}
	if r := s.waitRoom(t, owner.Token, rm.ID, "live", 5*time.Second, func(r roomJSON) bool { return true }); r.Status != "live" {
		t.Errorf("room %s after the recording failed", r.Status)
	}
}
