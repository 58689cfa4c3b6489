// Package sockio makes non-blocking vectored writes to sockets, for
// delivery loops that write to many peers from one goroutine and must never
// wait for any one of them.
package sockio

import (
	"net"
)

// maxIov is how many buffers one writev system call takes here; a longer
// batch goes out in several calls (live batches hold a few buffers).
const maxIov = 16

// Rest appends to dst what is left of head followed by bufs after their
// first n bytes: the slices themselves (trimmed), never copies of their
// bytes. head may be nil.
func Rest(dst [][]byte, head []byte, bufs [][]byte, n int) [][]byte {
	if len(head) > 0 {
		if n < len(head) {
			dst = append(dst, head[n:])
			n = 0
		} else {
			n -= len(head)
		}
	}
	for _, b := range bufs {
		switch {
		case n >= len(b):
			n -= len(b)
		case n > 0:
			dst = append(dst, b[n:])
			n = 0
		default:
			dst = append(dst, b)
		}
	}
	return dst
}

// Len returns the total length of bufs.
func Len(bufs [][]byte) int {
	n := 0
	for _, b := range bufs {
		n += len(b)
	}
	return n
}

// Supported reports whether nc takes non-blocking writes (a plain TCP or
// Unix socket; not TLS).
func Supported(nc net.Conn) bool { return New(nc) != nil }
