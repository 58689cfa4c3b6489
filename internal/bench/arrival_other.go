//go:build !linux

package bench

import (
	"fmt"
	"net"
)

// rxStamps would read kernel receive timestamps; this platform has none
// that the bench uses.
type rxStamps struct{}

// enableRxStamps reports that kernel receive timestamps are Linux-only.
func enableRxStamps(net.Conn) (*rxStamps, error) {
	return nil, fmt.Errorf("%w on this platform (Linux only)", errNoRxStamps)
}

func (*rxStamps) read([]byte) (int, int64, error) { return 0, 0, errNoRxStamps }
