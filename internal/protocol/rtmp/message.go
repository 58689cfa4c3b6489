// Package rtmp implements the RTMP wire format: the handshake, the chunk
// stream (reading and encoding), control and command messages, aggregate
// messages, and a small client for tests and load generation.
//
// The package never listens and knows nothing about streams or viewers; the
// RTMP server builds on it. It holds no package-level state.
package rtmp

import "errors"

// Message types.
const (
	TypeSetChunkSize     uint8 = 1
	TypeAbort            uint8 = 2
	TypeAck              uint8 = 3
	TypeUserControl      uint8 = 4
	TypeWindowAckSize    uint8 = 5
	TypeSetPeerBandwidth uint8 = 6
	TypeAudio            uint8 = 8
	TypeVideo            uint8 = 9
	TypeDataAMF3         uint8 = 15
	TypeSharedObjectAMF3 uint8 = 16
	TypeCommandAMF3      uint8 = 17
	TypeDataAMF0         uint8 = 18
	TypeSharedObjectAMF0 uint8 = 19
	TypeCommandAMF0      uint8 = 20
	TypeAggregate        uint8 = 22
)

// User control event types (the first two bytes of a TypeUserControl message).
const (
	EventStreamBegin      uint16 = 0
	EventStreamEOF        uint16 = 1
	EventStreamDry        uint16 = 2
	EventSetBufferLength  uint16 = 3
	EventStreamIsRecorded uint16 = 4
	EventPingRequest      uint16 = 6
	EventPingResponse     uint16 = 7
)

// Conventional chunk stream IDs. Any ID from 2 to 65599 is valid; these are
// the ones FFmpeg and Flash use, so traces look familiar.
const (
	CSIDControl uint32 = 2 // protocol control and user control messages
	CSIDCommand uint32 = 3 // NetConnection and NetStream commands
	CSIDAudio   uint32 = 4
	CSIDData    uint32 = 5
	CSIDVideo   uint32 = 6
)

// Chunk stream ID range.
const (
	MinChunkStreamID uint32 = 2
	MaxChunkStreamID uint32 = 65599
)

// DefaultChunkSize is the chunk size both sides use until a Set Chunk Size
// message changes it.
const DefaultChunkSize = 128

// MaxChunkSizeValue is the largest chunk size the protocol can express
// (the top bit of the 32-bit field must be zero).
const MaxChunkSizeValue = 0x7fffffff

// Errors returned (wrapped) by this package. Use errors.Is.
var (
	// ErrProtocol means the peer sent something the protocol does not allow.
	ErrProtocol = errors.New("rtmp: protocol error")
	// ErrHandshake means the handshake failed.
	ErrHandshake = errors.New("rtmp: handshake failed")
	// ErrMessageTooLarge means a message is longer than Limits.MaxMessageSize.
	ErrMessageTooLarge = errors.New("rtmp: message too large")
	// ErrChunkSize means a Set Chunk Size value is invalid or too large.
	ErrChunkSize = errors.New("rtmp: invalid chunk size")
	// ErrTooManyChunkStreams means the peer used more chunk streams than
	// Limits.MaxChunkStreams.
	ErrTooManyChunkStreams = errors.New("rtmp: too many chunk streams")
	// ErrPendingLimit means partial messages would buffer more than
	// Limits.MaxPendingBytes.
	ErrPendingLimit = errors.New("rtmp: too many bytes in partial messages")
)

// Message is one RTMP message.
type Message struct {
	Type          uint8
	ChunkStreamID uint32
	StreamID      uint32 // message stream ID
	Timestamp     uint32 // absolute timestamp in milliseconds; wraps at 2^32
	Data          []byte
}
