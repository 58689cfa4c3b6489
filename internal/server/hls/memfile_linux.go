package hls

import (
	"fmt"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// newMemBody creates an empty memory file (memfd_create(2)) named name.
func newMemBody(name string) (*memBody, error) {
	fd, err := unix.MemfdCreate(name, unix.MFD_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("hls: memfd_create: %w", err)
	}
	return &memBody{f: os.NewFile(uintptr(fd), name), path: "/proc/self/fd/" + strconv.Itoa(fd)}, nil
}
