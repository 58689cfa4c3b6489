package bench

import (
	"errors"
	"os"
	"os/exec"
	"testing"
	"time"
)

func TestParseStatCPU(t *testing.T) {
	// A command name with spaces and parentheses; utime 250, stime 50.
	stat := "1234 (my (weird) name) S 1 1234 1234 0 -1 4194560 1000 0 0 0 250 50 0 0 20 0 12 0 100 1000000 500 18446744073709551615\n"
	got, err := parseStatCPU([]byte(stat))
	if err != nil || got != 3*time.Second {
		t.Fatalf("parseStatCPU = %v, %v; want 3s", got, err)
	}
	for _, bad := range []string{"1234 no paren", "1 (x) S 1 2", "1 (x) S 1 2 3 4 5 6 7 8 9 10 x 0"} {
		if _, err := parseStatCPU([]byte(bad)); !errors.Is(err, ErrProc) {
			t.Errorf("%q: err %v, want ErrProc", bad, err)
		}
	}
}

func TestParseStatusMem(t *testing.T) {
	status := "Name:\troomcast\nVmPeak:\t  900000 kB\nVmHWM:\t   52000 kB\nVmRSS:\t   48000 kB\nThreads:\t9\n"
	m, err := parseStatusMem([]byte(status))
	if err != nil || m.rss != 48000 || m.hwm != 52000 {
		t.Fatalf("parseStatusMem = %+v, %v", m, err)
	}
	if _, err := parseStatusMem([]byte("Name:\tkthreadd\n")); !errors.Is(err, ErrProc) {
		t.Fatalf("kernel thread: err %v", err)
	}
}

func TestReadOwnProcess(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("no /proc")
	}
	p, err := startProcSampler(os.Getpid(), 10*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	end := time.Now().Add(30 * time.Millisecond)
	for time.Now().Before(end) { // burn a little CPU
	}
	cpu, err := p.cpu()
	p.stop()
	p.stop()
	before, peak, hwm, serr := p.result()
	if err != nil || serr != nil || before <= 0 || peak < before || hwm < peak {
		t.Fatalf("cpu %v err %v; rss before %d peak %d hwm %d err %v", cpu, err, before, peak, hwm, serr)
	}
	if _, err := startProcSampler(1<<30, time.Second); !errors.Is(err, ErrProc) {
		t.Fatalf("missing pid: err %v", err)
	}
}

// TestReadTreeCPU: a busy child's CPU counts in its parent's tree.
func TestReadTreeCPU(t *testing.T) {
	cmd := exec.Command("sh", "-c", "while :; do :; done")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	deadline := time.Now().Add(20 * time.Second)
	for {
		own, err := readCPU(os.Getpid())
		if err != nil {
			t.Fatal(err)
		}
		tree, err := readTreeCPU(os.Getpid())
		if err != nil {
			t.Fatal(err)
		}
		if tree >= own+100*time.Millisecond {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("tree CPU %v, own %v: the busy child's CPU did not show", tree, own)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
