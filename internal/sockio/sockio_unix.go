//go:build linux || darwin || freebsd || netbsd || openbsd

package sockio

import (
	"errors"
	"net"
	"syscall"
	"unsafe"
)

// Conn writes to a socket without waiting for it. Its methods must not be
// called concurrently with each other; the socket's other users (a
// reader, a Close from another goroutine) are safe.
type Conn struct {
	raw  syscall.RawConn
	fn   func(uintptr) bool // the writev callback, made once
	iov  [maxIov]syscall.Iovec
	niov int
	n    int
	err  error
}

// New returns a Conn for nc, or nil when nc is not a plain socket (TLS, a
// pipe, a wrapper).
func New(nc net.Conn) *Conn {
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return nil
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	c := &Conn{raw: raw}
	c.fn = c.writev
	return c
}

func (c *Conn) writev(fd uintptr) bool {
	for {
		r, _, e := syscall.Syscall(syscall.SYS_WRITEV, fd, uintptr(unsafe.Pointer(&c.iov[0])), uintptr(c.niov))
		if e == syscall.EINTR {
			continue
		}
		if e != 0 {
			c.n, c.err = 0, e
		} else {
			c.n, c.err = int(r), nil
		}
		return true // one try: never wait for the socket here
	}
}

// TryWrite writes as much of bufs as the socket takes now, with writev,
// and returns how many bytes it took. A socket that is full takes less
// than all (possibly nothing) and no error is returned; an error means the
// connection failed (closed, reset, or its write deadline passed).
func (c *Conn) TryWrite(bufs [][]byte) (int, error) {
	total := 0
	for len(bufs) > 0 {
		c.niov = 0
		want := 0
		for len(bufs) > 0 && c.niov < maxIov {
			if b := bufs[0]; len(b) > 0 {
				c.iov[c.niov].Base = &b[0]
				c.iov[c.niov].SetLen(len(b))
				c.niov++
				want += len(b)
			}
			bufs = bufs[1:]
		}
		if c.niov == 0 {
			break
		}
		err := c.raw.Write(c.fn)
		clear(c.iov[:c.niov]) // keep no reference to the bytes
		if err == nil {
			err = c.err
		}
		if errors.Is(err, syscall.EAGAIN) {
			return total, nil
		}
		if err != nil {
			return total, err
		}
		total += c.n
		if c.n < want {
			return total, nil
		}
	}
	return total, nil
}
