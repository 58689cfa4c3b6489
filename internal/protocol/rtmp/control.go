package rtmp

import (
	"encoding/binary"
	"fmt"
)

// Limit types of a Set Peer Bandwidth message.
const (
	LimitHard    uint8 = 0
	LimitSoft    uint8 = 1
	LimitDynamic uint8 = 2
)

// controlMessage returns a protocol control message (chunk stream 2,
// message stream 0) carrying one 32-bit value.
func controlMessage(typ uint8, v uint32) *Message {
	return &Message{
		Type:          typ,
		ChunkStreamID: CSIDControl,
		Data:          binary.BigEndian.AppendUint32(make([]byte, 0, 4), v),
	}
}

// NewSetChunkSize returns a Set Chunk Size message.
func NewSetChunkSize(size uint32) *Message { return controlMessage(TypeSetChunkSize, size) }

// NewAbort returns an Abort message for chunk stream csid.
func NewAbort(csid uint32) *Message { return controlMessage(TypeAbort, csid) }

// NewAck returns an Acknowledgement of sequence number seq (bytes received,
// modulo 2^32).
func NewAck(seq uint32) *Message { return controlMessage(TypeAck, seq) }

// NewWindowAckSize returns a Window Acknowledgement Size message.
func NewWindowAckSize(size uint32) *Message { return controlMessage(TypeWindowAckSize, size) }

// NewSetPeerBandwidth returns a Set Peer Bandwidth message; limit is
// LimitHard, LimitSoft or LimitDynamic.
func NewSetPeerBandwidth(size uint32, limit uint8) *Message {
	m := controlMessage(TypeSetPeerBandwidth, size)
	m.Data = append(m.Data, limit)
	return m
}

// NewUserControl returns a User Control message for event with its 32-bit
// values.
func NewUserControl(event uint16, values ...uint32) *Message {
	data := make([]byte, 0, 2+4*len(values))
	data = binary.BigEndian.AppendUint16(data, event)
	for _, v := range values {
		data = binary.BigEndian.AppendUint32(data, v)
	}
	return &Message{Type: TypeUserControl, ChunkStreamID: CSIDControl, Data: data}
}

// NewStreamBegin returns a Stream Begin event for message stream streamID.
func NewStreamBegin(streamID uint32) *Message { return NewUserControl(EventStreamBegin, streamID) }

// NewStreamEOF returns a Stream EOF event for message stream streamID.
func NewStreamEOF(streamID uint32) *Message { return NewUserControl(EventStreamEOF, streamID) }

// NewStreamDry returns a Stream Dry event for message stream streamID.
func NewStreamDry(streamID uint32) *Message { return NewUserControl(EventStreamDry, streamID) }

// NewSetBufferLength returns a Set Buffer Length event (sent by players).
func NewSetBufferLength(streamID, ms uint32) *Message {
	return NewUserControl(EventSetBufferLength, streamID, ms)
}

// NewStreamIsRecorded returns a Stream Is Recorded event for streamID.
func NewStreamIsRecorded(streamID uint32) *Message {
	return NewUserControl(EventStreamIsRecorded, streamID)
}

// NewPingRequest returns a Ping Request event carrying timestamp ts.
func NewPingRequest(ts uint32) *Message { return NewUserControl(EventPingRequest, ts) }

// NewPingResponse returns a Ping Response event echoing timestamp ts.
func NewPingResponse(ts uint32) *Message { return NewUserControl(EventPingResponse, ts) }

// ParseUint32 returns the 32-bit value at the start of a Set Chunk Size,
// Abort, Acknowledgement or Window Acknowledgement Size payload.
func ParseUint32(data []byte) (uint32, error) {
	if len(data) < 4 {
		return 0, fmt.Errorf("%w: control payload of %d bytes, want 4", ErrProtocol, len(data))
	}
	return binary.BigEndian.Uint32(data), nil
}

// ParseSetPeerBandwidth returns the window size and limit type of a Set Peer
// Bandwidth payload.
func ParseSetPeerBandwidth(data []byte) (size uint32, limit uint8, err error) {
	if len(data) < 5 {
		return 0, 0, fmt.Errorf("%w: set peer bandwidth payload of %d bytes, want 5", ErrProtocol, len(data))
	}
	return binary.BigEndian.Uint32(data), data[4], nil
}

// ParseUserControl returns the event type and 32-bit values of a User
// Control payload: one value for most events, two for Set Buffer Length.
// A known event without its values is an error; trailing bytes that do not
// make a whole value are ignored.
func ParseUserControl(data []byte) (event uint16, values []uint32, err error) {
	if len(data) < 2 {
		return 0, nil, fmt.Errorf("%w: user control payload of %d bytes", ErrProtocol, len(data))
	}
	event = binary.BigEndian.Uint16(data)
	want := 0 // other events (such as SWF verification) have their own layouts
	switch event {
	case EventStreamBegin, EventStreamEOF, EventStreamDry, EventStreamIsRecorded, EventPingRequest, EventPingResponse:
		want = 1
	case EventSetBufferLength:
		want = 2
	}
	rest := data[2:]
	if len(rest) < 4*want {
		return event, nil, fmt.Errorf("%w: user control event %d with %d value bytes, want %d", ErrProtocol, event, len(rest), 4*want)
	}
	values = make([]uint32, 0, len(rest)/4)
	for ; len(rest) >= 4; rest = rest[4:] {
		values = append(values, binary.BigEndian.Uint32(rest))
	}
	return event, values, nil
}
