package hub

import "time"

// EventType says what happened to a stream.
type EventType uint8

// Event types.
const (
	// EventPublished: a publisher started (or resumed within the grace).
	EventPublished EventType = iota + 1
	// EventUnpublished: a publisher went away; the stream waits for the
	// reconnect grace.
	EventUnpublished
	// EventEnded: the stream ended for good and was removed.
	EventEnded
)

// String returns the event type's name.
func (t EventType) String() string {
	switch t {
	case EventPublished:
		return "published"
	case EventUnpublished:
		return "unpublished"
	case EventEnded:
		return "ended"
	default:
		return "unknown"
	}
}

// Event tells listeners about a stream's life.
type Event struct {
	Type   EventType
	Stream string
	Time   time.Time
	// Publisher is the publisher concerned (published, unpublished).
	Publisher PublisherInfo
	// Resumed is set on EventPublished when the publisher came back within
	// the reconnect grace, so the stream continued.
	Resumed bool
	// Duration and Bytes describe the publisher session that ended
	// (unpublished) or the whole stream (ended).
	Duration time.Duration
	Bytes    uint64
	// Reason says why a publisher session ended (unpublished).
	Reason string
}

// PublisherInfo describes a publisher for logs, events and statistics.
type PublisherInfo struct {
	// Protocol is how the stream arrives ("rtmp").
	Protocol string
	// RemoteAddr is the publisher's address.
	RemoteAddr string
	// Query is the query string the publisher used (signatures and so on).
	Query string
	// Internal marks a publisher inside the server (a room's programme,
	// a co-host mix): Config.MaxPublishers neither bounds nor counts it.
	Internal bool
}
