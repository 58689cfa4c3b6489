package chat

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// unsentLimit bounds the bytes a chat socket holds that were not sent yet
// (TCP_NOTSENT_LOWAT). The kernel would otherwise take up to megabytes for
// a client that does not read, seconds or minutes of a room's messages at
// chat's low byte rates, and the server would see nothing of it: with the
// limit, what does not fit waits in the client's queue, where falling
// behind is noticed and skipped (see overload.go).
const unsentLimit = 16 << 10

// limitUnsent applies unsentLimit to the socket; errors are ignored (the
// kernel's buffering then applies).
func limitUnsent(raw syscall.RawConn) {
	_ = raw.Control(func(fd uintptr) {
		_ = unix.SetsockoptInt(int(fd), unix.IPPROTO_TCP, unix.TCP_NOTSENT_LOWAT, unsentLimit)
	})
}
