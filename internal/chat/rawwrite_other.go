//go:build !unix

package chat

// writeNow is not available off Unix: frames go through the writer
// goroutine.
func (c *client) writeNow([]byte) (int, error) { return 0, errUnsupported }
