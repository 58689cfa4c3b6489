//go:build unix

package chat

import (
	"errors"
	"syscall"
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
	if err := c.raw.Write(func(fd uintptr) bool {
		n, werr = syscall.Write(int(fd), b)
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
