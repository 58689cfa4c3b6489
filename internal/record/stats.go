package record

// Active returns the number of recordings in progress, for metrics.
func (r *Recorder) Active() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.active
}
