//go:build linux

package bench

import (
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"os"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// rxOOBSize is the control buffer of a read: one SCM_TIMESTAMPING message
// (a header and three timespecs, 64 bytes on 64-bit systems) with room to
// spare.
const rxOOBSize = 128

// Field sizes of the kernel's cmsghdr length and timespec on this
// architecture (SO_TIMESTAMPING reports the native timespec).
const (
	cmsgLenSize  = unsafe.Sizeof(unix.Cmsghdr{}.Len)
	timespecWord = unsafe.Sizeof(unix.Timespec{}.Sec)
)

// rxStamps reads a TCP connection with recvmsg(2) and returns the kernel's
// software receive timestamp of each read. It reuses its message header
// and control buffer, and calls recvmsg directly (unix.Recvmsg allocates a
// source address per call): a read does not allocate. Only one goroutine
// may use it.
type rxStamps struct {
	rc  syscall.RawConn
	fn  func(fd uintptr) bool // r.recv, bound once
	msg unix.Msghdr           // points to iov and oob during a read
	iov unix.Iovec            // the buffer of the current read
	oob [rxOOBSize]byte
	n   int
	err error
}

// enableRxStamps turns on software receive timestamps on c, a TCP
// connection: SO_TIMESTAMPING with SOF_TIMESTAMPING_RX_SOFTWARE (generate)
// and SOF_TIMESTAMPING_SOFTWARE (report). TCP reports them with recvmsg as
// an SCM_TIMESTAMPING message. (SO_TIMESTAMPNS works for TCP too; without
// the report flag SO_TIMESTAMPING gives nothing. Kernels whose TCP reports
// no receive timestamps show up as reads without one.)
//
// The kernel switches timestamping on for the whole system lazily (a
// deferred static key), so the first few milliseconds of segments after
// the first socket asks for it may come without one.
func enableRxStamps(c net.Conn) (*rxStamps, error) {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return nil, fmt.Errorf("%T is not a socket: %w", c, errNoRxStamps)
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nil, fmt.Errorf("kernel receive timestamps: %w", err)
	}
	var serr error
	err = rc.Control(func(fd uintptr) {
		serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_TIMESTAMPING,
			unix.SOF_TIMESTAMPING_RX_SOFTWARE|unix.SOF_TIMESTAMPING_SOFTWARE)
	})
	if err == nil {
		err = serr
	}
	if err != nil {
		return nil, fmt.Errorf("setsockopt SO_TIMESTAMPING: %w", err)
	}
	r := &rxStamps{rc: rc}
	r.fn = r.recv
	return r, nil
}

// recv is the RawConn.Read callback: one recvmsg, or false on EAGAIN so
// that Go's poller waits for the socket to be readable.
func (r *rxStamps) recv(fd uintptr) bool {
	for {
		r.msg.SetControllen(len(r.oob))
		r.msg.Flags = 0
		n, _, errno := unix.Syscall(unix.SYS_RECVMSG, fd, uintptr(unsafe.Pointer(&r.msg)), 0)
		switch errno {
		case 0:
			r.n = int(n)
		case unix.EINTR:
			continue
		case unix.EAGAIN:
			return false
		default:
			r.err = errno
		}
		return true
	}
}

// read reads into p like net.Conn.Read (io.EOF at the end of the stream)
// and returns the receive timestamp of the last segment it consumed, as
// CLOCK_REALTIME nanoseconds, or 0 when the kernel gave none.
func (r *rxStamps) read(p []byte) (n int, ns int64, err error) {
	if len(p) == 0 {
		return 0, 0, nil // recvmsg would return 0, which reads as EOF
	}
	r.iov.Base = &p[0]
	r.iov.SetLen(len(p))
	r.msg.Iov = &r.iov
	r.msg.SetIovlen(1)
	r.msg.Control = &r.oob[0]
	r.n, r.err = 0, nil
	err = r.rc.Read(r.fn)
	r.iov.Base = nil // do not keep the caller's buffer
	if err != nil {
		return 0, 0, err // closed, or a deadline
	}
	if r.err != nil {
		return 0, 0, fmt.Errorf("read: %w", os.NewSyscallError("recvmsg", r.err))
	}
	if r.n == 0 {
		return 0, 0, io.EOF
	}
	return r.n, parseRxStamp(r.oob[:min(int(r.msg.Controllen), len(r.oob))]), nil
}

// parseRxStamp returns the software timestamp (the first of three
// timespecs) of the SCM_TIMESTAMPING message among the control messages
// in b, as nanoseconds, or 0 if there is none.
func parseRxStamp(b []byte) int64 {
	hdr := unix.CmsgLen(0) // the aligned header size
	for len(b) >= hdr {
		l := nativeInt(b, cmsgLenSize)
		level := int32(binary.NativeEndian.Uint32(b[cmsgLenSize:]))
		typ := int32(binary.NativeEndian.Uint32(b[cmsgLenSize+4:]))
		if l < int64(hdr) || l > int64(len(b)) {
			return 0
		}
		data := b[hdr:l]
		if level == unix.SOL_SOCKET && typ == unix.SCM_TIMESTAMPING && uintptr(len(data)) >= 2*timespecWord {
			sec := nativeInt(data, timespecWord)
			nsec := nativeInt(data[timespecWord:], timespecWord)
			return sec*1e9 + nsec
		}
		next := unix.CmsgSpace(int(l) - hdr)
		if next >= len(b) {
			return 0
		}
		b = b[next:]
	}
	return 0
}

// nativeInt decodes a native-endian signed integer of size 4 or 8.
func nativeInt(b []byte, size uintptr) int64 {
	if size == 8 {
		return int64(binary.NativeEndian.Uint64(b))
	}
	return int64(int32(binary.NativeEndian.Uint32(b)))
}
