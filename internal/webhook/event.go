package webhook

import (
	"encoding/json"
	"fmt"
	"time"
)

// Event types. Later features add more; a receiver ignores types it does not
// know.
const (
	TypeStreamPublished   = "stream.published"   // a publisher started (or resumed) a stream
	TypeStreamUnpublished = "stream.unpublished" // a publisher stopped; data has duration_ms and bytes
	TypeRoomLive          = "room.live"          // a room's broadcast started
	TypeRoomEnded         = "room.ended"         // a room's broadcast ended; data has duration_ms and bytes
	TypeRecordReady       = "record.ready"       // a replay was finalised; data has recording, url, duration_ms and bytes
	TypeRecordFailed      = "record.failed"      // a recording stopped on an error (disk full, permission denied); data has recording, error, duration_ms and bytes
)

// maxTypeLen bounds the length of an event type.
const maxTypeLen = 64

// validType reports whether t can be an event type: it goes in a header.
func validType(t string) bool {
	if t == "" || len(t) > maxTypeLen {
		return false
	}
	for i := range len(t) {
		c := t[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// Request headers set on every delivery.
const (
	HeaderEvent     = "X-Roomcast-Event"     // the event type
	HeaderDelivery  = "X-Roomcast-Delivery"  // the event id, the same in every retry
	HeaderSignature = "X-Roomcast-Signature" // "sha256=<hex>", see auth.SignBody
	UserAgent       = "roomcast-webhook"     // the User-Agent header
)

// Event is what a component reports to Emit.
type Event struct {
	Type   string         // one of the Type constants: required, [a-z0-9._-]
	Room   string         // room id; "" for a stream without a room
	Stream string         // stream name
	Data   map[string]any // type-specific fields such as duration_ms, bytes, url; must marshal to JSON
	// Time is when the event happened; zero means when it is emitted.
	Time time.Time
}

// Payload is the JSON body of a webhook request (see the package comment). A
// receiver written in Go can decode a body into it; numbers in Data decode
// as float64.
type Payload struct {
	ID     string         `json:"id"`
	Type   string         `json:"type"`
	Time   time.Time      `json:"time"`
	Room   string         `json:"room"`
	Stream string         `json:"stream"`
	Data   map[string]any `json:"data"`
}

// encodeEvent returns the body of ev with the given id and time, which it
// makes UTC to the millisecond.
func encodeEvent(id string, at time.Time, ev Event) ([]byte, error) {
	if !validType(ev.Type) {
		return nil, fmt.Errorf("event type %q is not 1 to %d characters of [a-z0-9._-]", ev.Type, maxTypeLen)
	}
	data := ev.Data
	if data == nil {
		data = map[string]any{}
	}
	b, err := json.Marshal(Payload{
		ID:     id,
		Type:   ev.Type,
		Time:   at.UTC().Truncate(time.Millisecond),
		Room:   ev.Room,
		Stream: ev.Stream,
		Data:   data,
	})
	if err != nil {
		return nil, fmt.Errorf("event %s: %w", ev.Type, err)
	}
	return b, nil
}
