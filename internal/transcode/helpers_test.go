package transcode

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func testLogger(t *testing.T) *slog.Logger {
	t.Helper()
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// newManager returns a Manager closed at the end of the test.
func newManager(t *testing.T, cfg Config) *Manager {
	t.Helper()
	m := New(context.Background(), cfg, testLogger(t))
	t.Cleanup(m.Close)
	return m
}

// realManager returns a Manager on the installed ffmpeg; the test fails
// when there is none.
func realManager(t *testing.T, cfg Config) *Manager {
	t.Helper()
	m := newManager(t, cfg)
	if !m.Available() {
		t.Fatalf("ffmpeg is required for this test: %s", m.Version())
	}
	return m
}

// fakeFFmpeg writes a shell script that answers -version like ffmpeg and
// otherwise runs body, and returns its path.
func fakeFFmpeg(t *testing.T, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "ffmpeg")
	script := "#!/bin/sh\nfor a in \"$@\"; do [ \"$a\" = -version ] && { echo 'ffmpeg version 0.0-fake'; exit 0; }; done\n" + body + "\n"
	if err := os.WriteFile(path, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
