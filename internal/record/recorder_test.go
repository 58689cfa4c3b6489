package record

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"roomcast/internal/hub"
	"roomcast/internal/store"
)

func TestRecordSession(t *testing.T) {
	e := newEnv(t, hub.Config{ReconnectGrace: -1}, nil)
	p := e.publish(t, "s1", 1)
	p.headers()
	p.media(6000, 2000)
	p.p.Close(nil)

	rec := waitRec(t, e.ready)
	if rec.Status != store.RecordingReady || rec.RoomID != "room1" || rec.Stream != "s1" || rec.EndedAt == nil {
		t.Fatalf("recording %+v", rec)
	}
	pl := readFile(t, e.rec, rec, playlistName)
	if !bytes.Contains(pl, []byte("#EXT-X-PLAYLIST-TYPE:VOD\n")) || !bytes.HasSuffix(pl, []byte("#EXT-X-ENDLIST\n")) {
		t.Fatalf("playlist:\n%s", pl)
	}
	segs := checkSegments(t, e.rec, rec)
	if len(segs) != 3 || rec.Segments != 3 {
		t.Fatalf("%d segments listed, %d stored, want 3:\n%s", len(segs), rec.Segments, pl)
	}
	var size int64
	for _, s := range segs {
		if s.disc {
			t.Errorf("unexpected discontinuity:\n%s", pl)
		}
		size += int64(len(readFile(t, e.rec, rec, segmentName(s.seq))))
	}
	if rec.Bytes != size {
		t.Errorf("bytes %d, files %d", rec.Bytes, size)
	}
	if rec.DurationMS < 5800 || rec.DurationMS > 6100 {
		t.Errorf("duration %d ms", rec.DurationMS)
	}
	if e.store.all()[0].Status != store.RecordingReady {
		t.Error("store not updated")
	}
	dir, _ := e.rec.recordingDir(rec.RoomID, rec.ID)
	for _, n := range listDir(t, dir) {
		if strings.HasSuffix(n, ".tmp") {
			t.Errorf("temporary file left: %s", n)
		}
	}
	if _, err := exec.LookPath("ffprobe"); err == nil {
		out, err := exec.Command("ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0",
			filepath.Join(dir, playlistName)).Output()
		if err != nil {
			t.Fatalf("ffprobe: %v", err)
		}
		d, err := strconv.ParseFloat(strings.TrimSpace(string(out)), 64)
		if err != nil || d < 5 || d > 7 {
			t.Errorf("ffprobe duration %q (%v), want 6 s ± 1", out, err)
		}
	}
}

func TestRecordReconnectWithinGrace(t *testing.T) {
	e := newEnv(t, hub.Config{ReconnectGrace: 5 * time.Second}, nil)
	p := e.publish(t, "s1", 1)
	p.headers()
	p.media(4000, 2000)
	p.p.Close(nil)

	p2, err := e.hub.Publish("s1", hub.PublisherInfo{Protocol: "test"})
	if err != nil {
		t.Fatal(err)
	}
	q := &publisher{t: t, p: p2}
	q.headers()
	q.media(4000, 2000)
	q.p.Close(nil)
	e.hub.Close() // ends the stream waiting in its grace

	rec := waitRec(t, e.ready)
	if n := len(e.store.all()); n != 1 {
		t.Fatalf("%d recordings, want 1", n)
	}
	segs := checkSegments(t, e.rec, rec)
	discs := 0
	for _, s := range segs {
		if s.disc {
			discs++
		}
	}
	if discs != 1 || len(segs) != 4 {
		t.Fatalf("segments %+v: want 4 with one discontinuity", segs)
	}
}

// A recording whose live moved to another node of a cluster finishes at
// the move (Continue says no), and Start records the stream anew.
func TestRecordHandedOn(t *testing.T) {
	e := newEnv(t, hub.Config{ReconnectGrace: 5 * time.Second}, nil)
	var asked atomic.Int32
	e.rec.cfg.Continue = func(stream string) bool {
		asked.Add(1)
		return stream != "s1"
	}
	p := e.publish(t, "s1", 1)
	p.headers()
	p.media(4000, 2000)
	p.p.Close(nil)

	p2, err := e.hub.Publish("s1", hub.PublisherInfo{Protocol: "relay"})
	if err != nil {
		t.Fatal(err)
	}
	q := &publisher{t: t, p: p2, dts: p.dts, audio: p.audio}
	q.headers()
	q.media(4000, 2000)
	rec := waitRec(t, e.ready) // before the stream ends
	if asked.Load() != 1 {
		t.Errorf("Continue asked %d times, want once", asked.Load())
	}
	if segs := checkSegments(t, e.rec, rec); len(segs) != 2 {
		t.Fatalf("segments %+v: want the 2 of the first publisher only", segs)
	}

	e.rec.Start(hub.Event{Stream: "s1", Publisher: hub.PublisherInfo{Protocol: "rtmp"}})
	deadline := time.Now().Add(5 * time.Second)
	for len(e.store.all()) < 2 {
		if time.Now().After(deadline) {
			t.Fatal("Start did not start a second recording")
		}
		time.Sleep(time.Millisecond)
	}
}

func TestRecordReconnectAfterGrace(t *testing.T) {
	e := newEnv(t, hub.Config{ReconnectGrace: 50 * time.Millisecond}, nil)
	p := e.publish(t, "s1", 1)
	p.headers()
	p.media(4000, 2000)
	p.p.Close(nil)
	first := waitRec(t, e.ready)
	waitGone(t, e.hub, "s1")

	q := e.publish(t, "s1", 2)
	q.headers()
	q.media(4000, 2000)
	q.p.Close(nil)
	second := waitRec(t, e.ready)
	if first.ID == second.ID || len(e.store.all()) != 2 {
		t.Fatalf("recordings %+v", e.store.all())
	}
	for _, rec := range []store.Recording{first, second} {
		if segs := checkSegments(t, e.rec, rec); len(segs) != 2 {
			t.Errorf("%s: %d segments, want 2", rec.ID, len(segs))
		}
	}
}

// failFS fails every write after the first n.
type failFS struct {
	osFS
	n atomic.Int32
}

var errDiskFull = errors.New("no space left on device")

func (f *failFS) WriteFile(name string, data []byte) error {
	if f.n.Add(-1) < 0 {
		return errDiskFull
	}
	return f.osFS.WriteFile(name, data)
}

func TestRecordWriteFailure(t *testing.T) {
	fsys := &failFS{}
	fsys.n.Store(2) // one segment and its playlist
	e := newEnv(t, hub.Config{ReconnectGrace: -1}, fsys)
	p := e.publish(t, "s1", 1)
	sub, err := e.hub.Subscribe("s1", "test") // a viewer
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	p.headers()
	p.media(6000, 2000) // the second segment is cut at 4 s and fails

	rec := waitRec(t, e.fail)
	if rec.Status != store.RecordingFailed || !strings.Contains(rec.Error, errDiskFull.Error()) || rec.Segments != 1 {
		t.Fatalf("recording %+v", rec)
	}
	// The live stream goes on and its viewer gets everything.
	p.media(2000, 2000)
	if !e.hub.Stream("s1").Live() {
		t.Fatal("stream no longer live")
	}
	p.p.Close(nil)
	var frames []*hub.Frame
	n := 0
	for {
		frames, err = sub.Next(t.Context(), frames)
		if err != nil {
			break
		}
		n += len(frames)
	}
	if !errors.Is(err, hub.ErrEnded) || n < 200 {
		t.Fatalf("viewer: %d frames, %v", n, err)
	}
	// What was written before the failure is a playable VOD prefix.
	fsys.n.Store(1 << 20)
	if segs := checkSegments(t, e.rec, rec); len(segs) != 1 {
		t.Fatalf("%d segments listed", len(segs))
	}
}

func TestRecover(t *testing.T) {
	e := newEnv(t, hub.Config{ReconnectGrace: -1}, nil)
	p := e.publish(t, "s1", 1)
	p.headers()
	p.media(6100, 2000) // three complete segments, a fourth open
	deadline := time.Now().Add(5 * time.Second)
	var rec store.Recording
	for {
		rec = e.store.all()[0]
		if p, _ := e.rec.Path(rec.RoomID, rec.ID, playlistName); p != "" {
			if b, _ := os.ReadFile(p); bytes.Count(b, []byte("#EXTINF")) == 3 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("segments not written")
		}
		time.Sleep(5 * time.Millisecond)
	}
	// A "crash": a second recorder on the same store and directory, and an
	// empty recording whose directory never got a playlist.
	empty := store.Recording{ID: "rec_empty", RoomID: "room1", Status: store.RecordingActive, StartedAt: time.Now()}
	if err := e.store.CreateRecording(t.Context(), &empty); err != nil {
		t.Fatal(err)
	}
	bad := store.Recording{ID: "../../etc", RoomID: "room1", Status: store.RecordingActive, StartedAt: time.Now()}
	if err := e.store.CreateRecording(t.Context(), &bad); err != nil {
		t.Fatal(err)
	}
	r2 := New(hub.New(hub.Config{}, nil), e.rec.cfg, e.store, nil)
	if err := r2.Recover(t.Context()); err != nil {
		t.Fatal(err)
	}
	got := e.store.all()
	if got[0].Status != store.RecordingReady || !got[0].Recovered || got[0].Segments != 3 || got[0].EndedAt == nil ||
		got[0].DurationMS != 6000 || got[0].Bytes == 0 {
		t.Fatalf("recovered %+v", got[0])
	}
	pl := readFile(t, r2, got[0], playlistName)
	if !bytes.HasSuffix(pl, []byte("#EXT-X-ENDLIST\n")) {
		t.Fatalf("playlist:\n%s", pl)
	}
	checkSegments(t, r2, got[0])
	for _, r := range got[1:] {
		if r.Status != store.RecordingFailed || !r.Recovered || r.Error == "" {
			t.Errorf("recovered %+v", r)
		}
	}
	// Recovered recordings are reported as any finished one: the webhook
	// record.ready (or the failure event) goes out.
	if ready := waitRec(t, e.ready); ready.ID != got[0].ID || !ready.Recovered || ready.Segments != 3 {
		t.Errorf("OnReady got %+v, want the recovered %s", ready, got[0].ID)
	}
	failed := map[string]bool{}
	for range got[1:] {
		r := waitRec(t, e.fail)
		failed[r.ID] = r.Status == store.RecordingFailed && r.Recovered
	}
	if !failed[empty.ID] || !failed[bad.ID] {
		t.Errorf("OnFailed got %v, want %s and %s", failed, empty.ID, bad.ID)
	}
}

// In a cluster, Recover leaves alone the recordings Recoverable refuses,
// such as one another node is writing; it is told when their files changed.
func TestRecoverLeavesRecordingsInUse(t *testing.T) {
	e := newEnv(t, hub.Config{ReconnectGrace: -1}, nil)
	p := e.publish(t, "s1", 1)
	p.headers()
	p.media(4100, 2000)
	rec := e.store.all()[0]
	deadline := time.Now().Add(5 * time.Second)
	for {
		if pl, _ := e.rec.Path(rec.RoomID, rec.ID, playlistName); pl != "" {
			if b, _ := os.ReadFile(pl); bytes.Count(b, []byte("#EXTINF")) == 2 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("segments not written")
		}
		time.Sleep(5 * time.Millisecond)
	}
	cfg := e.rec.cfg
	var last time.Time
	cfg.Recoverable = func(r store.Recording, lastWrite time.Time) bool {
		if r.ID == rec.ID {
			last = lastWrite
		}
		return false
	}
	r2 := New(hub.New(hub.Config{}, nil), cfg, e.store, nil)
	if err := r2.Recover(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := e.store.all()[0]; got.Status != store.RecordingActive {
		t.Fatalf("recording in use was finished: %+v", got)
	}
	if last.Before(rec.StartedAt) || time.Since(last) > time.Minute {
		t.Errorf("last write %v, want after the start %v and recent", last, rec.StartedAt)
	}
}

func TestPath(t *testing.T) {
	r := New(hub.New(hub.Config{}, nil), Config{Dir: "/data/recordings"}, newMemStore(), nil)
	for _, tc := range []struct {
		room, rec, file string
		want            string // "" means refused
	}{
		{"room_a", "rec_b", "index.m3u8", "/data/recordings/room_a/rec_b/index.m3u8"},
		{"room_a", "rec_b", "12.ts", "/data/recordings/room_a/rec_b/12.ts"},
		{"room_a", "rec_b", "../x.ts", ""},
		{"room_a", "rec_b", "index.m3u8.tmp", ""},
		{"room_a", "rec_b", "a.ts", ""},
		{"room_a", "rec_b", "", ""},
		{"room_a", "..", "index.m3u8", ""},
		{"..", "rec_b", "index.m3u8", ""},
		{"room_a", ".", "index.m3u8", ""},
		{"room_a", "a/b", "index.m3u8", ""},
		{"room_a", `a\b`, "index.m3u8", ""},
		{"", "rec_b", "index.m3u8", ""},
		{"room_a", "rec\x00", "index.m3u8", ""},
		{"room_a", strings.Repeat("x", 65), "index.m3u8", ""},
		{"room_a", "rec_b", "/etc/passwd", ""},
	} {
		got, err := r.Path(tc.room, tc.rec, tc.file)
		if tc.want == "" {
			if !errors.Is(err, ErrBadPath) {
				t.Errorf("Path(%q, %q, %q) = %q, %v; want ErrBadPath", tc.room, tc.rec, tc.file, got, err)
			}
			continue
		}
		if err != nil || got != filepath.FromSlash(tc.want) {
			t.Errorf("Path(%q, %q, %q) = %q, %v; want %q", tc.room, tc.rec, tc.file, got, err, tc.want)
		}
	}
}
