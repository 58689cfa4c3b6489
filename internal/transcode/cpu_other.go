//go:build !linux

package transcode

import "time"

// runningCPU is not known on this system: running processes count when
// they exit.
func runningCPU(pid int) time.Duration { return 0 }
