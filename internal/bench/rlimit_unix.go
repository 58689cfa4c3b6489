//go:build unix

package bench

import "syscall"

// raiseNoFileLimit raises the soft RLIMIT_NOFILE to the hard limit, since
// thousands of viewers need as many descriptors, and returns the new limit.
func raiseNoFileLimit() (uint64, error) {
	var l syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		return 0, err
	}
	if l.Cur < l.Max {
		l.Cur = l.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
			return 0, err
		}
	}
	return uint64(l.Cur), nil
}
