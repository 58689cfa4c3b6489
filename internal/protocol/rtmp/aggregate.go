package rtmp

import "fmt"

// aggregateTagHeader is the size of the FLV-style header of each
// sub-message of an aggregate message; each is followed by a 4-byte
// back pointer.
const aggregateTagHeader = 11

// SplitAggregate splits an aggregate message into its sub-messages. The
// body of an aggregate is a run of FLV tags: type (1 byte), size (3), time
// (3 + 1 extension byte), stream ID (3, ignored), body, and a 4-byte back
// pointer. The first sub-message takes the aggregate's timestamp; later ones
// keep their offset from the first. Sub-messages inherit the aggregate's
// chunk and message stream IDs.
//
// The Data of each sub-message aliases m.Data (with its capacity capped),
// so m.Data must not be modified afterwards. Sub-messages may only be
// audio, video or data; a nested aggregate, a tag overrunning the body or a
// truncated header is an error wrapping ErrProtocol. A missing back pointer
// after the last tag is tolerated.
func SplitAggregate(m *Message) ([]*Message, error) {
	if m.Type != TypeAggregate {
		return nil, fmt.Errorf("%w: message type %d is not an aggregate", ErrProtocol, m.Type)
	}
	var (
		out   []*Message
		first uint32
		data  = m.Data
		off   int
	)
	for len(data) > 0 {
		if len(data) < aggregateTagHeader {
			return nil, fmt.Errorf("%w: aggregate: %d bytes left at offset %d, short of a tag header", ErrProtocol, len(data), off)
		}
		typ := data[0]
		size := int(data[1])<<16 | int(data[2])<<8 | int(data[3])
		ts := uint32(data[7])<<24 | uint32(data[4])<<16 | uint32(data[5])<<8 | uint32(data[6])
		switch typ {
		case TypeAudio, TypeVideo, TypeDataAMF0, TypeDataAMF3:
		default:
			return nil, fmt.Errorf("%w: aggregate: sub-message type %d at offset %d", ErrProtocol, typ, off)
		}
		end := aggregateTagHeader + size
		if end > len(data) {
			return nil, fmt.Errorf("%w: aggregate: tag of %d bytes at offset %d overruns the body", ErrProtocol, size, off)
		}
		if out == nil {
			first = ts
		}
		out = append(out, &Message{
			Type:          typ,
			ChunkStreamID: m.ChunkStreamID,
			StreamID:      m.StreamID,
			Timestamp:     m.Timestamp + (ts - first),
			Data:          data[aggregateTagHeader:end:end],
		})
		// Skip the back pointer; the last one may be missing.
		end = min(end+4, len(data))
		data = data[end:]
		off += end
	}
	return out, nil
}
