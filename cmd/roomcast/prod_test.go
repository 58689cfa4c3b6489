package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"roomcast/internal/config"
)

func TestConfigExample(t *testing.T) {
	var out, errOut bytes.Buffer
	if err := run(context.Background(), []string{"config", "example"}, &out, &errOut, nil); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "http-addr: \":8080\"") {
		t.Fatalf("example without http-addr:\n%s", out.String())
	}
	if _, err := config.LoadFile(out.Bytes()); err != nil {
		t.Fatalf("example does not load: %v", err)
	}
	// config check accepts the example and names a bad key.
	dir := t.TempDir()
	good, bad := filepath.Join(dir, "good.yaml"), filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(good, out.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bad, []byte("hls-window: 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var checkOut bytes.Buffer
	if err := run(context.Background(), []string{"config", "check", "--config", good}, &checkOut, &errOut, nil); err != nil || !strings.Contains(checkOut.String(), "configuration ok ("+good+")") {
		t.Fatalf("check of the example: %v %q", err, checkOut.String())
	}
	if err := run(context.Background(), []string{"config", "check", "--config", bad}, &checkOut, &errOut, nil); err == nil || !strings.Contains(err.Error(), "hls-window") {
		t.Fatalf("check of a bad file: %v", err)
	}
	for _, args := range [][]string{{"config"}, {"config", "nope"}, {"config", "example", "x"}} {
		if err := run(context.Background(), args, &out, &errOut, nil); !errors.Is(err, errUsage) {
			t.Errorf("%v: %v, want usage error", args, err)
		}
	}
}

func TestVersion(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), []string{"version"}, &out, &out, nil); err != nil {
		t.Fatal(err)
	}
	if want := "roomcast " + version + " (commit " + commit + ", go"; !strings.HasPrefix(out.String(), want) {
		t.Fatalf("version %q, want prefix %q", out.String(), want)
	}
}

func TestWatchSignals(t *testing.T) {
	sigs := make(chan os.Signal, 2)
	cancelled := make(chan struct{})
	exited := make(chan int, 1)
	var errOut bytes.Buffer
	done := make(chan struct{})
	go func() {
		defer close(done)
		watchSignals(sigs, func() { close(cancelled) }, func(code int) { exited <- code }, &errOut)
	}()
	sigs <- syscall.SIGTERM
	select {
	case <-cancelled:
	case <-time.After(5 * time.Second):
		t.Fatal("first signal did not cancel")
	}
	select {
	case code := <-exited:
		t.Fatalf("exited (%d) after one signal", code)
	case <-time.After(50 * time.Millisecond):
	}
	sigs <- syscall.SIGINT
	select {
	case code := <-exited:
		if code != exitForced {
			t.Fatalf("exit code %d", code)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("second signal did not force exit")
	}
	<-done
	if !strings.Contains(errOut.String(), "forced exit") {
		t.Fatalf("stderr %q", errOut.String())
	}
}

func TestForwardReload(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	sigs := make(chan os.Signal)
	reload := make(chan struct{}, 1)
	done := make(chan struct{})
	go func() { defer close(done); forward(ctx, sigs, reload) }()
	for range 3 {
		sigs <- syscall.SIGHUP
		select {
		case <-reload:
		case <-time.After(5 * time.Second):
			t.Fatal("SIGHUP not forwarded")
		}
	}
	cancel()
	<-done
}
