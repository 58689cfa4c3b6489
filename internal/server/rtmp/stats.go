package rtmp

// Connections returns the number of open connections, for metrics.
func (s *Server) Connections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}
