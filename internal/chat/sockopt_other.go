//go:build !linux

package chat

import "syscall"

// limitUnsent does nothing off Linux: the kernel's buffering applies.
func limitUnsent(syscall.RawConn) {}
