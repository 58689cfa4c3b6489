//go:build linux || darwin || freebsd || netbsd || openbsd

package sockio

import (
	"net"
	"syscall"
	"unsafe"
)

// Conn writes to a socket with writev, without the per-connection iovec
// cache of the net package. Its methods must not be called concurrently
// with each other; the socket's other users (a reader, a Close from
// another goroutine) are safe.
type Conn struct {
	raw  syscall.RawConn
	try  func(uintptr) bool // the writev callbacks, made once
	wait func(uintptr) bool
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
	c.try = func(fd uintptr) bool { return c.writev(fd, false) }
	c.wait = func(fd uintptr) bool { return c.writev(fd, true) }
	return c
}

func (c *Conn) writev(fd uintptr, wait bool) bool {
	for {
		// A raw system call: the socket is non-blocking, so writev never
		// waits. Announced to the scheduler, the fan-out's writes (one per
		// viewer, back to back) let the system monitor hand the P to
		// another thread whenever one outlasts its tick, and the writer
		// win it back: thread switches on a busy core (vs-floor at 500
		// viewers: HTTP-FLV 1.04 → 0.95–0.97× the floor).
		r, _, e := syscall.RawSyscall(syscall.SYS_WRITEV, fd, uintptr(unsafe.Pointer(&c.iov[0])), uintptr(c.niov))
		switch e {
		case 0:
			c.n, c.err = int(r), nil
		case syscall.EINTR:
			continue
		case syscall.EAGAIN:
			if wait {
				return false // the poller waits until the socket takes more
			}
			c.n, c.err = 0, nil // full: nothing taken
		default:
			c.n, c.err = 0, e
		}
		return true
	}
}

// TryWrite writes as much of head followed by bufs as the socket takes
// now, and returns how many bytes it took. A socket that is full takes
// less than all (possibly nothing) and no error is returned; an error means
// the connection failed (closed, reset, or its write deadline passed).
// head may be nil.
func (c *Conn) TryWrite(head []byte, bufs [][]byte) (int, error) {
	return c.write(head, bufs, false)
}

// Write writes head followed by bufs, waiting for the socket as long as
// the connection's write deadline allows.
func (c *Conn) Write(head []byte, bufs [][]byte) (int, error) {
	return c.write(head, bufs, true)
}

func (c *Conn) write(head []byte, bufs [][]byte, wait bool) (int, error) {
	total := 0
	for len(head) > 0 || len(bufs) > 0 {
		c.niov = 0
		want := 0
		if len(head) > 0 {
			c.iov[0].Base = &head[0]
			c.iov[0].SetLen(len(head))
			c.niov, want = 1, len(head)
		}
		used := 0
		for used < len(bufs) && c.niov < maxIov {
			if b := bufs[used]; len(b) > 0 {
				c.iov[c.niov].Base = &b[0]
				c.iov[c.niov].SetLen(len(b))
				c.niov++
				want += len(b)
			}
			used++
		}
		if c.niov == 0 {
			break
		}
		fn := c.try
		if wait {
			fn = c.wait
		}
		err := c.raw.Write(fn)
		clear(c.iov[:c.niov]) // keep no reference to the bytes
		if err == nil {
			err = c.err
		}
		if err != nil {
			return total, err
		}
		total += c.n
		if c.n < want {
			if !wait {
				return total, nil
			}
			// A short write: go on from where it stopped.
			rest := Rest(nil, head, bufs[:used], c.n)
			head, bufs = nil, append(rest, bufs[used:]...)
			continue
		}
		head, bufs = nil, bufs[used:]
	}
	return total, nil
}

// WaitReadable waits, without reading, until the socket has data, its peer
// closed it, or it failed (gone reports the last two). err is the wait's
// own failure: the read deadline passed, or the socket was closed here.
func WaitReadable(raw syscall.RawConn) (gone bool, err error) {
	var peek [1]byte
	err = raw.Read(func(fd uintptr) bool {
		n, _, e := syscall.Recvfrom(int(fd), peek[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		switch {
		case e == syscall.EAGAIN || e == syscall.EINTR:
			return false // the poller waits
		case e != nil || n == 0:
			gone = true
		}
		return true
	})
	return gone && err == nil, err
}
