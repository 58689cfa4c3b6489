package chat

import "sync/atomic"

// Stats are the chat server's figures for metrics.
type Stats struct {
	// Connections is the number of chat clients on this node now.
	Connections int
	// MessagesIn counts the chat messages accepted from this node's
	// clients (stored, then published).
	MessagesIn uint64
	// MessagesDelivered counts chat messages queued to this node's
	// clients: one per message and client, whichever node it came from.
	MessagesDelivered uint64
	// Skips counts the skipped notices sent to clients that fell behind;
	// SkippedMessages the chat messages those clients missed.
	Skips           uint64
	SkippedMessages uint64
	// SlowDisconnects counts clients closed as too slow: their send
	// queue was full, or they were skipped too often.
	SlowDisconnects uint64
}

// counters are the Server's monotonic counters.
type counters struct {
	messagesIn      atomic.Uint64
	delivered       atomic.Uint64
	skips           atomic.Uint64
	skippedMessages atomic.Uint64
	slowClosed      atomic.Uint64
}

// Stats returns the current figures.
func (s *Server) Stats() Stats {
	n := 0
	for _, ch := range s.channels.all() {
		ch.mu.Lock()
		n += len(ch.clients)
		ch.mu.Unlock()
	}
	return Stats{
		Connections:       n,
		MessagesIn:        s.counters.messagesIn.Load(),
		MessagesDelivered: s.counters.delivered.Load(),
		Skips:             s.counters.skips.Load(),
		SkippedMessages:   s.counters.skippedMessages.Load(),
		SlowDisconnects:   s.counters.slowClosed.Load(),
	}
}
