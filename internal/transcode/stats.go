package transcode

import "time"

// KindStats are the figures of one job kind.
type KindStats struct {
	// Running is the number of processes of this kind running now.
	Running int
	// Restarts counts processes that died and were restarted.
	Restarts uint64
	// Refused counts starts refused by Config.MaxJobs.
	Refused uint64
	// CPU is the CPU time (user + system) used by processes of this kind:
	// those that exited, plus the running ones where the system tells.
	CPU time.Duration
}

type kindStats struct {
	running           int
	restarts, refused uint64
	cpu               time.Duration // of exited processes
}

// Stats returns the figures of every kind seen so far, by kind.
func (m *Manager) Stats() map[string]KindStats {
	m.mu.Lock()
	out := make(map[string]KindStats, len(m.kinds))
	for k, ks := range m.kinds {
		out[k] = KindStats{Running: ks.running, Restarts: ks.restarts, Refused: ks.refused, CPU: ks.cpu}
	}
	pids := make(map[int]string, len(m.procs))
	for p := range m.procs {
		pids[p.cmd.Process.Pid] = p.kind
	}
	m.mu.Unlock()
	for pid, kind := range pids {
		s := out[kind]
		s.CPU += runningCPU(pid)
		out[kind] = s
	}
	return out
}
