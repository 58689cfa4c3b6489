//go:build !(linux || darwin || freebsd || netbsd || openbsd)

package sockio

import (
	"errors"
	"net"
	"syscall"
)

// Conn writes to a socket without waiting for it; not available on this
// system.
type Conn struct{}

// New returns nil: no non-blocking writes on this system.
func New(net.Conn) *Conn { return nil }

// TryWrite is never called: New returns nil.
func (c *Conn) TryWrite([]byte, [][]byte) (int, error) { return 0, nil }

// Write is never called: New returns nil.
func (c *Conn) Write([]byte, [][]byte) (int, error) { return 0, nil }

// WaitReadable returns at once: no peeking at sockets on this system.
func WaitReadable(syscall.RawConn) (gone bool, err error) { return false, errors.ErrUnsupported }
