package record

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/formats/mpegts"
	tscodecs "github.com/bluenviron/mediacommon/v2/pkg/formats/mpegts/codecs"

	"roomcast/internal/hub"
	"roomcast/internal/media"
	"roomcast/internal/store"
)

// Synthetic H.264 + AAC: a real SPS/PPS and AudioSpecificConfig, fake
// slices (the segmenter never decodes pictures).
var (
	testSPS = []byte{0x67, 0x64, 0x00, 0x0c, 0xac, 0x3b, 0x50, 0xb0, 0x4b, 0x42, 0x00, 0x00, 0x03, 0x00, 0x02, 0x00, 0x00, 0x03, 0x00, 0x3d, 0x08}
	testPPS = []byte{0x68, 0xee, 0x3c, 0x80}
	testIDR = []byte{0x65, 0x88, 0x84, 0x00, 0x33, 0xff}
	testP   = []byte{0x41, 0x9a, 0x21, 0x6c, 0x42}
	testASC = []byte{0x12, 0x10} // AAC-LC 44.1 kHz stereo
	testAAC = []byte{0x21, 0x10, 0x04, 0x60, 0x8c, 0x1c}
)

func avcSeqBody() []byte {
	b := []byte{0x17, 0, 0, 0, 0, 1, testSPS[1], testSPS[2], testSPS[3], 0xff, 0xe1, 0, byte(len(testSPS))}
	b = append(b, testSPS...)
	b = append(b, 1, 0, byte(len(testPPS)))
	return append(b, testPPS...)
}

func frameBody(key bool) []byte {
	nal := testP
	b := []byte{0x27, 1, 0, 0, 0}
	if key {
		nal, b[0] = testIDR, 0x17
	}
	b = append(b, 0, 0, 0, byte(len(nal)))
	return append(b, nal...)
}

// memStore is an in-memory Store.
type memStore struct {
	mu   sync.Mutex
	recs map[string]store.Recording
	ids  []string // in creation order
}

func newMemStore() *memStore { return &memStore{recs: map[string]store.Recording{}} }

func (m *memStore) CreateRecording(_ context.Context, r *store.Recording) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.recs[r.ID]; ok {
		return store.ErrConflict
	}
	m.recs[r.ID] = *r
	m.ids = append(m.ids, r.ID)
	return nil
}

func (m *memStore) UpdateRecording(_ context.Context, id string, fn func(*store.Recording) error) (*store.Recording, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, ok := m.recs[id]
	if !ok {
		return nil, store.ErrNotFound
	}
	if err := fn(&r); err != nil {
		return nil, err
	}
	m.recs[id] = r
	return &r, nil
}

func (m *memStore) RecordingsByStatus(_ context.Context, status string) ([]store.Recording, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []store.Recording
	for _, id := range m.ids {
		if r := m.recs[id]; r.Status == status {
			out = append(out, r)
		}
	}
	return out, nil
}

// all returns the recordings in creation order.
func (m *memStore) all() []store.Recording {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []store.Recording
	for _, id := range m.ids {
		out = append(out, m.recs[id])
	}
	return out
}

// testEnv is a hub with a running recorder that records every stream for
// room "room1".
type testEnv struct {
	hub   *hub.Hub
	rec   *Recorder
	store *memStore
	ready chan store.Recording
	fail  chan store.Recording
}

func newEnv(t *testing.T, hcfg hub.Config, fsys fileSystem) *testEnv {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if hcfg.QueueFrames == 0 {
		hcfg.QueueFrames = 1 << 15 // tests publish faster than real time
	}
	h := hub.New(hcfg, log)
	e := &testEnv{hub: h, store: newMemStore(), ready: make(chan store.Recording, 10), fail: make(chan store.Recording, 10)}
	e.rec = New(h, Config{
		Dir:            t.TempDir(),
		TargetDuration: 2 * time.Second,
		Enabled:        func(string) (string, bool) { return "room1", true },
		OnReady:        func(r store.Recording) { e.ready <- r },
		OnFailed:       func(r store.Recording, _ error) { e.fail <- r },
	}, e.store, log)
	if fsys != nil {
		e.rec.fs = fsys
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.rec.Run(ctx) }()
	t.Cleanup(func() {
		h.Close()
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(5 * time.Second):
			t.Error("Run did not return")
		}
	})
	return e
}

// publisher writes a synthetic 25 fps H.264 + 44.1 kHz AAC stream.
type publisher struct {
	t     *testing.T
	p     *hub.Publisher
	dts   int64 // next video frame
	audio int   // AAC frames written
}

// publish starts a publisher and waits until the recorder has recordings
// recordings (the one this publisher starts included, if any).
func (e *testEnv) publish(t *testing.T, name string, recordings int) *publisher {
	t.Helper()
	p, err := e.hub.Publish(name, hub.PublisherInfo{Protocol: "test"})
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for len(e.store.all()) < recordings {
		if time.Now().After(deadline) {
			t.Fatalf("no recording for %s", name)
		}
		time.Sleep(time.Millisecond)
	}
	return &publisher{t: t, p: p}
}

func (p *publisher) write(typ media.TagType, dts int64, body []byte) {
	p.t.Helper()
	pkt, err := media.NewPacket(typ, dts, body)
	if err != nil {
		p.t.Fatal(err)
	}
	if err := p.p.Write(pkt); err != nil {
		p.t.Fatalf("write: %v", err)
	}
}

func (p *publisher) headers() {
	p.write(media.TagVideo, p.dts, avcSeqBody())
	p.write(media.TagAudio, p.dts, append([]byte{0xaf, 0}, testASC...))
}

// media writes ms milliseconds of media with a keyframe every gop ms,
// the first frame being a keyframe.
func (p *publisher) media(ms, gop int64) {
	p.t.Helper()
	end := p.dts + ms
	start := p.dts
	for ; p.dts < end; p.dts += 40 {
		p.write(media.TagVideo, p.dts, frameBody((p.dts-start)%gop == 0))
		for {
			adts := int64(p.audio) * 1024 * 1000 / 44100
			if adts > p.dts {
				break
			}
			p.write(media.TagAudio, adts, append([]byte{0xaf, 1}, testAAC...))
			p.audio++
		}
	}
}

// waitRec waits for a recording to be reported ready or failed.
func waitRec(t *testing.T, ch chan store.Recording) store.Recording {
	t.Helper()
	select {
	case r := <-ch:
		return r
	case <-time.After(10 * time.Second):
		t.Fatal("no recording reported")
		return store.Recording{}
	}
}

// waitGone waits until the hub has removed the stream.
func waitGone(t *testing.T, h *hub.Hub, name string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for h.Stream(name) != nil {
		if time.Now().After(deadline) {
			t.Fatalf("stream %s never ended", name)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// readFile reads a file of a recording.
func readFile(t *testing.T, r *Recorder, rec store.Recording, file string) []byte {
	t.Helper()
	p, err := r.Path(rec.RoomID, rec.ID, file)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// checkSegments decodes every listed segment and returns the playlist.
func checkSegments(t *testing.T, r *Recorder, rec store.Recording) []segLine {
	t.Helper()
	pl := readFile(t, r, rec, playlistName)
	var out []segLine
	for _, si := range parsePlaylist(string(pl)) {
		data := readFile(t, r, rec, segmentName(si.Seq))
		decodeTS(t, data)
		out = append(out, segLine{seq: si.Seq, disc: si.Discontinuity, dur: si.Duration})
	}
	return out
}

type segLine struct {
	seq  uint64
	disc bool
	dur  time.Duration
}

// decodeTS checks that a segment is MPEG-TS with H.264 and AAC tracks.
func decodeTS(t *testing.T, data []byte) {
	t.Helper()
	r := &mpegts.Reader{R: bytes.NewReader(data)}
	if err := r.Initialize(); err != nil {
		t.Fatalf("segment: %v", err)
	}
	var video, audio bool
	frames := 0
	for _, tr := range r.Tracks() {
		switch tr.Codec.(type) {
		case *tscodecs.H264:
			video = true
			r.OnDataH264(tr, func(_, _ int64, _ [][]byte) error { frames++; return nil })
		case *tscodecs.MPEG4Audio:
			audio = true
		}
	}
	if !video || !audio {
		t.Fatalf("tracks: video %v, audio %v", video, audio)
	}
	for {
		if err := r.Read(); err != nil {
			if !errors.Is(err, io.EOF) {
				t.Fatal(err)
			}
			break
		}
	}
	if frames == 0 {
		t.Fatal("segment without video frames")
	}
}

// listDir returns the names in dir, sorted.
func listDir(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	slices.Sort(names)
	return names
}
