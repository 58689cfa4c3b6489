package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"
	"testing"
	"time"

	"roomcast/internal/app"
	"roomcast/internal/config"
)

// childConfigEnv carries a server configuration (JSON) to a child copy of
// the test binary, which then runs that server instead of the tests: the
// crash tests kill a server with SIGKILL, which an in-process server cannot
// survive.
const childConfigEnv = "ROOMCAST_E2E_CHILD_CONFIG"

// childReady starts the line a child server prints on stdout when it
// accepts connections: "roomcast-e2e-ready RTMP_ADDR HTTP_ADDR".
const childReady = "roomcast-e2e-ready"

// TestMain runs the tests, or a child server when childConfigEnv is set.
func TestMain(m *testing.M) {
	if raw := os.Getenv(childConfigEnv); raw != "" {
		if err := runChild(raw); err != nil {
			fmt.Fprintln(os.Stderr, "child server:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// runChild runs roomcast with the JSON configuration raw until SIGTERM or
// SIGINT, logging to stderr.
func runChild(raw string) error {
	var cfg config.Config
	if err := json.Unmarshal([]byte(raw), &cfg); err != nil {
		return fmt.Errorf("configuration: %w", err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	return app.Run(ctx, cfg, app.Options{
		Logs:          os.Stderr,
		ShutdownGrace: 5 * time.Second,
		OnReady: func(a app.Addrs) {
			fmt.Printf("%s %s %s\n", childReady, a.RTMP, a.HTTP)
		},
	})
}

// childServer is a roomcast running in a child process.
type childServer struct {
	*testServer
	cmd  *exec.Cmd
	done chan struct{} // closed when the process has exited
	err  error         // its exit error; valid once done is closed
}

// startChild runs roomcast with cfg in a child process until the test ends
// (or kill or stop is called). Its logs are printed if the test fails.
func startChild(t *testing.T, cfg config.Config) *childServer {
	t.Helper()
	if err := cfg.Validate(); err != nil {
		t.Fatalf("invalid test configuration: %v", err)
	}
	raw, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	cmd := exec.Command(exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), childConfigEnv+"="+string(raw))
	cmd.Stderr = logs
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start child server: %v", err)
	}
	c := &childServer{testServer: &testServer{logs: logs, cfg: cfg}, cmd: cmd, done: make(chan struct{})}
	ready := make(chan [2]string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			f := strings.Fields(sc.Text())
			if len(f) == 3 && f[0] == childReady {
				ready <- [2]string{f[1], f[2]}
			}
		}
		_, _ = io.Copy(io.Discard, stdout)
		c.err = cmd.Wait()
		close(c.done)
	}()
	c.stopFn = func() error { return c.terminate() }
	t.Cleanup(func() {
		if first, err := c.shutdown(); first && err != nil {
			t.Error(err)
		}
		if strings.Contains(logs.String(), "panic") {
			t.Errorf("the child server logged a panic")
		}
		if t.Failed() {
			t.Logf("child server logs (exit: %v):\n%s", c.err, logs)
		}
	})
	select {
	case a := <-ready:
		c.rtmpAddr, c.httpAddr = a[0], a[1]
		return c
	case <-c.done:
		t.Fatalf("child server exited during start: %v", c.err)
	case <-time.After(startTimeout):
		t.Fatalf("child server not ready within %v", startTimeout)
	}
	return nil
}

// terminate stops the child with SIGTERM, as an operator would, and
// waits for a clean exit.
func (c *childServer) terminate() error {
	select {
	case <-c.done:
		return nil // killed, or exited on its own (reported by the test)
	default:
	}
	if err := c.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return fmt.Errorf("signal child server: %w", err)
	}
	select {
	case <-c.done:
		if c.err != nil {
			return fmt.Errorf("child server stopped with an error: %w", c.err)
		}
		return nil
	case <-time.After(stopTimeout):
		_ = c.cmd.Process.Kill()
		<-c.done
		return fmt.Errorf("child server did not stop within %v of SIGTERM", stopTimeout)
	}
}

// kill ends the child with SIGKILL, as a crash or an OOM kill would: no
// shutdown code runs.
func (c *childServer) kill(t *testing.T) {
	t.Helper()
	if err := c.cmd.Process.Kill(); err != nil {
		t.Fatalf("kill child server: %v", err)
	}
	select {
	case <-c.done:
	case <-time.After(stopTimeout):
		t.Fatal("killed child server did not exit")
	}
	if ws, ok := c.cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("child server exit %v, want killed by SIGKILL", c.cmd.ProcessState)
	}
}
