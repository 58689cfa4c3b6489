package bench

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"sync"
	"time"
)

// clockTicks is USER_HZ, the unit of utime and stime in /proc/PID/stat. It
// is 100 on every Linux architecture Go supports (sysconf(_SC_CLK_TCK)
// would need cgo).
const clockTicks = 100

// ErrProc reports that the measured process could not be read.
var ErrProc = errors.New("bench: cannot read the measured process")

// readCPU returns utime+stime of process pid from /proc/pid/stat.
func readCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, fmt.Errorf("%w: %w", ErrProc, err)
	}
	return parseStatCPU(b)
}

// parseStatCPU extracts utime+stime from the content of /proc/PID/stat.
// The command name (field 2) is in parentheses and may contain spaces and
// parentheses, so fields are counted from the last ')'.
func parseStatCPU(b []byte) (time.Duration, error) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, fmt.Errorf("%w: stat without ')'", ErrProc)
	}
	// After ") ": field 3 (state) is index 0, so utime (14) is index 11 and
	// stime (15) index 12.
	f := bytes.Fields(b[i+1:])
	if len(f) < 13 {
		return 0, fmt.Errorf("%w: stat has %d fields after the name", ErrProc, len(f))
	}
	ut, err1 := strconv.ParseUint(string(f[11]), 10, 64)
	st, err2 := strconv.ParseUint(string(f[12]), 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, fmt.Errorf("%w: stat utime/stime: %w", ErrProc, err)
	}
	return time.Duration(ut+st) * time.Second / clockTicks, nil
}

// memInfo is the memory of a process in KiB.
type memInfo struct {
	rss, hwm int64 // VmRSS, VmHWM
}

// readMem returns VmRSS and VmHWM of process pid from /proc/pid/status.
func readMem(pid int) (memInfo, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return memInfo{}, fmt.Errorf("%w: %w", ErrProc, err)
	}
	return parseStatusMem(b)
}

// parseStatusMem extracts VmRSS and VmHWM (kB) from /proc/PID/status.
func parseStatusMem(b []byte) (memInfo, error) {
	var m memInfo
	found := 0
	for line := range bytes.Lines(b) {
		var dst *int64
		switch {
		case bytes.HasPrefix(line, []byte("VmRSS:")):
			dst = &m.rss
		case bytes.HasPrefix(line, []byte("VmHWM:")):
			dst = &m.hwm
		default:
			continue
		}
		f := bytes.Fields(line)
		if len(f) < 2 {
			return m, fmt.Errorf("%w: status line %q", ErrProc, line)
		}
		v, err := strconv.ParseInt(string(f[1]), 10, 64)
		if err != nil {
			return m, fmt.Errorf("%w: status line %q", ErrProc, line)
		}
		*dst = v
		found++
	}
	if found < 2 {
		return m, fmt.Errorf("%w: no VmRSS/VmHWM in status (kernel thread or zombie?)", ErrProc)
	}
	return m, nil
}

// procSampler samples the RSS of a process periodically, keeping the peak.
type procSampler struct {
	pid int
	// children adds the CPU of the process's descendants (Config.Children).
	children bool
	before   memInfo
	done     chan struct{}
	once     sync.Once
	wg       sync.WaitGroup

	mu   sync.Mutex
	peak int64 // highest VmRSS sampled, KiB
	last memInfo
	err  error // first sampling error
}

// startProcSampler reads the process once (failing if it cannot) and then
// samples its RSS every interval until stop.
func startProcSampler(pid int, interval time.Duration) (*procSampler, error) {
	m, err := readMem(pid)
	if err != nil {
		return nil, fmt.Errorf("pid %d: %w", pid, err)
	}
	if _, err := readCPU(pid); err != nil {
		return nil, fmt.Errorf("pid %d: %w", pid, err)
	}
	p := &procSampler{pid: pid, before: m, peak: m.rss, last: m, done: make(chan struct{})}
	p.wg.Add(1)
	go p.loop(interval)
	return p, nil
}

func (p *procSampler) loop(interval time.Duration) {
	defer p.wg.Done()
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-p.done:
			return
		case <-t.C:
			p.sample()
		}
	}
}

func (p *procSampler) sample() {
	m, err := readMem(p.pid)
	p.mu.Lock()
	defer p.mu.Unlock()
	if err != nil {
		if p.err == nil {
			p.err = err
		}
		return
	}
	p.last = m
	p.peak = max(p.peak, m.rss)
}

// cpu returns the process's CPU time so far.
func (p *procSampler) cpu() (time.Duration, error) {
	if p.children {
		return readTreeCPU(p.pid)
	}
	return readCPU(p.pid)
}

// readTreeCPU is readCPU of pid plus that of its descendants now running
// (a server's supervised ffmpeg transcoders). A child that exits takes its
// CPU time with it, so a window over which children come and go undercounts.
func readTreeCPU(pid int) (time.Duration, error) {
	total, err := readCPU(pid)
	if err != nil {
		return 0, err
	}
	tasks, err := os.ReadDir("/proc/" + strconv.Itoa(pid) + "/task")
	if err != nil {
		return 0, fmt.Errorf("%w: %w", ErrProc, err)
	}
	for _, task := range tasks {
		b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/task/" + task.Name() + "/children")
		if err != nil {
			continue // the thread ended
		}
		for _, f := range bytes.Fields(b) {
			child, err := strconv.Atoi(string(f))
			if err != nil {
				continue
			}
			if d, err := readTreeCPU(child); err == nil {
				total += d
			}
		}
	}
	return total, nil
}

// stop takes a last sample and stops sampling; it may be called repeatedly.
func (p *procSampler) stop() {
	p.once.Do(func() {
		close(p.done)
		p.wg.Wait()
		p.sample()
	})
}

// result returns the RSS before the run, the peak, the last VmHWM and the
// first sampling error.
func (p *procSampler) result() (before, peak, hwm int64, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.before.rss, p.peak, p.last.hwm, p.err
}
