//go:build unix

package chat

import (
	"errors"
	"syscall"
	"unsafe"
)

// writeNow makes one non-blocking write of b to the socket and returns how
// much the kernel took: less than len(b), and no error, when the socket
// buffer is full.
// A connection that is not a plain socket (TLS) reports unsupported, and
// its frames go through the writer goroutine.
func (c *client) writeNow(b []byte) (int, error) {
	if c.raw == nil {
		return 0, errUnsupported
	}
	n, werr := 0, error(nil)
	if len(b) == 0 {
		return 0, nil
	}
	if err := c.raw.Write(func(fd uintptr) bool {
		// A raw system call: the socket is non-blocking, so the write
		// never waits. Announced to the scheduler, the writes of a pass
		// over a room's clients (thousands back to back, each some
		// microseconds) let the system monitor hand the P to another
		// thread and the flusher win it back, with the thread switches
		// that costs, on every write that outlasts the monitor's tick.
		r, _, e := syscall.RawSyscall(syscall.SYS_WRITE, fd, uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)))
		n = int(r)
		if e != 0 {
			n, werr = 0, e
		}
		return true // one try: never wait for the socket here
	}); err != nil {
		return 0, err
	}
	if n < 0 {
		n = 0
	}
	if errors.Is(werr, syscall.EAGAIN) || errors.Is(werr, syscall.EINTR) {
		return n, nil
	}
	return n, werr
}
