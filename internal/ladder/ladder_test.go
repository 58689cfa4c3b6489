package ladder

import (
	"context"
	"io"
	"log/slog"
	"slices"
	"strings"
	"testing"

	"roomcast/internal/hub"
	"roomcast/internal/transcode"
)

func TestParseRungs(t *testing.T) {
	rs, err := ParseRungs([]string{"360p", "720p", "480p"})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, r := range rs {
		names = append(names, r.Name)
	}
	if !slices.Equal(names, []string{"720p", "480p", "360p"}) {
		t.Fatalf("order %v, want tallest first", names)
	}
	for _, bad := range [][]string{{"999p"}, {"360p", "360p"}, {""}} {
		if _, err := ParseRungs(bad); err == nil {
			t.Errorf("ParseRungs(%q) accepted", bad)
		}
	}
}

// TestArgsHoldNoUserInput checks each rung's ffmpeg arguments pass
// transcode.CheckArgs and do not depend on any stream name.
func TestArgsHoldNoUserInput(t *testing.T) {
	for _, r := range rungs {
		a := args(r)
		if err := transcode.CheckArgs(a); err != nil {
			t.Fatalf("%s: %v", r.Name, err)
		}
		for _, s := range a {
			if strings.Contains(s, "live") || strings.Contains(s, "/") || strings.Contains(s, "room") {
				t.Fatalf("%s: argument %q looks like a name or path", r.Name, s)
			}
		}
	}
}

func TestSourceOf(t *testing.T) {
	rs, _ := ParseRungs([]string{"480p", "360p"})
	m := transcode.New(context.Background(), transcode.Config{}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	defer m.Close()
	l := New(hub.New(hub.Config{}, slog.New(slog.NewTextHandler(io.Discard, nil))), m, rs, slog.New(slog.NewTextHandler(io.Discard, nil)))
	defer l.Close()
	for _, tc := range []struct {
		name, src string
		ok        bool
	}{
		{"room_480p", "room", true},
		{"room_360p", "room", true},
		{"room_720p", "", false},
		{"room", "", false},
		{"_360p", "", false},
		{"a.b_360p", "", false},
	} {
		src, ok := l.SourceOf(tc.name)
		if src != tc.src || ok != tc.ok {
			t.Errorf("SourceOf(%q) = %q, %v; want %q, %v", tc.name, src, ok, tc.src, tc.ok)
		}
	}
	off := New(hub.New(hub.Config{}, slog.New(slog.NewTextHandler(io.Discard, nil))), m, nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if off.IsRendition("room_360p") || off.Enabled() {
		t.Fatal("a ladder without rungs claims renditions")
	}
	if l.Master("room", "") != nil {
		t.Fatal("a master playlist for a stream that is not live")
	}
}

func TestCodecsAVC(t *testing.T) {
	if got := codecsAVC([]byte{0x67, 0x4d, 0x40, 0x1e, 0xff}); got != "avc1.4d401e" {
		t.Fatalf("codecsAVC = %q", got)
	}
	if codecsAVC([]byte{0x67}) != "" {
		t.Fatal("short SPS")
	}
	if got := codecs("avc1.4d401e", ""); got != "avc1.4d401e" {
		t.Fatalf("codecs without audio = %q", got)
	}
}

// fakeRunner is available and refuses every job (the test looks at which
// streams get a ladder, not at ffmpeg).
type fakeRunner struct{}

func (fakeRunner) Available() bool { return true }
func (fakeRunner) Start(context.Context, transcode.Spec) (*transcode.Job, error) {
	return nil, transcode.ErrTooMany
}

func TestHandleSkipsRelaysAndRenditions(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	h := hub.New(hub.Config{ReconnectGrace: -1}, log)
	defer h.Close()
	rs, _ := ParseRungs([]string{"360p"})
	l := New(h, fakeRunner{}, rs, log)
	defer l.Close()
	h.OnEvent(l.Handle)
	for _, tc := range []struct {
		stream, protocol string
		ladder           bool
	}{
		{"local", "rtmp", true},
		{"relayed", RelayProtocol, false},
		{"local_360p", "transcode", false},
	} {
		if _, err := h.Publish(tc.stream, hub.PublisherInfo{Protocol: tc.protocol}); err != nil {
			t.Fatal(err)
		}
		l.mu.Lock()
		_, got := l.sources[tc.stream]
		l.mu.Unlock()
		if got != tc.ladder {
			t.Errorf("%s published over %s: ladder %v, want %v", tc.stream, tc.protocol, got, tc.ladder)
		}
	}
}
