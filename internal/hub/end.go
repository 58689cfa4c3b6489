package hub

import "fmt"

// End ends the named stream at once, without a reconnect grace: its
// publisher is detached and its viewers get ErrEnded after the frames
// queued for them. A stream that another stream's life decides (a room's
// programme, which ends with the host's stream) is ended so. It returns
// ErrNotFound when there is no such stream.
func (h *Hub) End(name string) error {
	s := h.Stream(name)
	if s == nil {
		return fmt.Errorf("end %q: %w", name, ErrNotFound)
	}
	s.end()
	return nil
}
