//go:build !linux

package hls

import "errors"

// newMemBody reports that memory files are a Linux feature here: segments
// are then written from memory with write(2).
func newMemBody(string) (*memBody, error) {
	return nil, errors.New("hls: memory files need Linux")
}
