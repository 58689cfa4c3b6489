package rtmp

import (
	"fmt"

	"roomcast/internal/protocol/amf"
)

// Command is an RTMP command message: a procedure name, a transaction ID, a
// command object (often nil) and arguments.
type Command struct {
	Name          string
	TransactionID float64
	Object        any // command object, or nil
	Args          []any
}

// ParseCommand decodes a command message of type TypeCommandAMF0 or
// TypeCommandAMF3. The AMF3 form starts with a format byte 0x00 followed by
// AMF0 values that may switch to AMF3 with the avmplus marker.
func ParseCommand(m *Message) (*Command, error) {
	if m.Type != TypeCommandAMF0 && m.Type != TypeCommandAMF3 {
		return nil, fmt.Errorf("%w: message type %d is not a command", ErrProtocol, m.Type)
	}
	vals, err := amf.Decode(amfBody(m))
	if err != nil {
		return nil, fmt.Errorf("decode command: %w", err)
	}
	if len(vals) == 0 {
		return nil, fmt.Errorf("%w: empty command", ErrProtocol)
	}
	name, ok := vals[0].(string)
	if !ok {
		return nil, fmt.Errorf("%w: command name is %T, not a string", ErrProtocol, vals[0])
	}
	c := &Command{Name: name}
	if len(vals) > 1 {
		c.TransactionID, _ = vals[1].(float64)
	}
	if len(vals) > 2 {
		c.Object = vals[2]
	}
	if len(vals) > 3 {
		c.Args = vals[3:]
	}
	return c, nil
}

// amfBody returns the AMF0 values of a command or data message, skipping
// the format byte of the AMF3 message types. A body that starts with the
// AMF0 string marker instead is taken as it is, as some peers send.
func amfBody(m *Message) []byte {
	if (m.Type == TypeCommandAMF3 || m.Type == TypeDataAMF3) && len(m.Data) > 0 && m.Data[0] == 0 {
		return m.Data[1:]
	}
	return m.Data
}

// Message encodes c as an AMF0 command message (TypeCommandAMF0) on chunk
// stream csid and message stream streamID.
func (c *Command) Message(csid, streamID uint32) (*Message, error) {
	data, err := amf.Append(nil, c.Name, c.TransactionID, c.Object)
	if err == nil {
		data, err = amf.Append(data, c.Args...)
	}
	if err != nil {
		return nil, fmt.Errorf("encode command %q: %w", c.Name, err)
	}
	return &Message{Type: TypeCommandAMF0, ChunkStreamID: csid, StreamID: streamID, Data: data}, nil
}

// ParseData decodes the values of a data message of type TypeDataAMF0 or
// TypeDataAMF3 (such as @setDataFrame or onMetaData).
func ParseData(m *Message) ([]any, error) {
	if m.Type != TypeDataAMF0 && m.Type != TypeDataAMF3 {
		return nil, fmt.Errorf("%w: message type %d is not data", ErrProtocol, m.Type)
	}
	vals, err := amf.Decode(amfBody(m))
	if err != nil {
		return nil, fmt.Errorf("decode data message: %w", err)
	}
	return vals, nil
}
