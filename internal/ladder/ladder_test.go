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
