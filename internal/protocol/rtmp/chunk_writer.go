package rtmp

import (
	"encoding/binary"
	"fmt"
	"io"
	"slices"
)

// basicHeaderLen returns the size of the basic header for a chunk stream ID.
func basicHeaderLen(csid uint32) int {
	switch {
	case csid < 64:
		return 1
	case csid < 64+256:
		return 2
	default:
		return 3
	}
}

// appendBasicHeader appends a basic header. csid must be in 2..65599.
func appendBasicHeader(dst []byte, format byte, csid uint32) []byte {
	switch {
	case csid < 64:
		return append(dst, format<<6|byte(csid))
	case csid < 64+256:
		return append(dst, format<<6, byte(csid-64))
	default:
		v := csid - 64
		return append(dst, format<<6|1, byte(v), byte(v>>8))
	}
}

// ChunksLen returns how many bytes AppendChunks adds for m.
func ChunksLen(m *Message, chunkSize int) int {
	if chunkSize < 1 {
		chunkSize = DefaultChunkSize
	}
	csid := clampCSID(m.ChunkStreamID)
	ext := 0
	if m.Timestamp >= maxTimestampField {
		ext = 4
	}
	chunks := max(1, (len(m.Data)+chunkSize-1)/chunkSize)
	basic := basicHeaderLen(csid)
	return basic + 11 + ext + (chunks-1)*(basic+ext) + len(m.Data)
}

// clampCSID maps an out-of-range chunk stream ID to the nearest valid one,
// so that encoding never fails; callers pick IDs from the CSID constants.
func clampCSID(csid uint32) uint32 {
	return min(max(csid, MinChunkStreamID), MaxChunkStreamID)
}

// AppendChunks appends m to dst as RTMP chunks of at most chunkSize payload
// bytes and returns the extended slice. The first chunk has a type 0 header,
// so the encoded message depends on no earlier message and can be written to
// any connection at any point; continuation chunks have type 3 headers. A
// timestamp of 0xFFFFFF or more goes in an extended timestamp field, which
// continuation chunks repeat as FFmpeg and Flash expect.
//
// chunkSize below 1 means DefaultChunkSize; a chunk stream ID outside
// 2..65599 is clamped into it; the message length must fit in 24 bits (a
// longer Data is a caller bug and is truncated in the length field). It
// allocates nothing when dst has room for ChunksLen(m, chunkSize) bytes.
func AppendChunks(dst []byte, m *Message, chunkSize int) []byte {
	if chunkSize < 1 {
		chunkSize = DefaultChunkSize
	}
	csid := clampCSID(m.ChunkStreamID)
	dst = slices.Grow(dst, ChunksLen(m, chunkSize))

	ts := m.Timestamp
	extended := ts >= maxTimestampField
	field := ts
	if extended {
		field = maxTimestampField
	}
	n := len(m.Data)
	dst = appendBasicHeader(dst, 0, csid)
	dst = append(dst,
		byte(field>>16), byte(field>>8), byte(field),
		byte(n>>16), byte(n>>8), byte(n),
		m.Type)
	dst = binary.LittleEndian.AppendUint32(dst, m.StreamID)
	if extended {
		dst = binary.BigEndian.AppendUint32(dst, ts)
	}

	data := m.Data
	first := true
	for first || len(data) > 0 {
		if !first {
			dst = appendBasicHeader(dst, 3, csid)
			if extended {
				dst = binary.BigEndian.AppendUint32(dst, ts)
			}
		}
		first = false
		k := min(chunkSize, len(data))
		dst = append(dst, data[:k]...)
		data = data[k:]
	}
	return dst
}

// ChunkWriter writes whole messages as chunks to a connection. It is meant
// for a connection's own control and command messages; media shared between
// viewers is better encoded once with AppendChunks. It is not safe for
// concurrent use.
type ChunkWriter struct {
	w         io.Writer
	chunkSize int
	buf       []byte
}

// NewChunkWriter returns a ChunkWriter that writes to w with the given chunk
// size, which must be the size the peer currently expects (DefaultChunkSize
// on a new connection). A size below 1 means DefaultChunkSize.
func NewChunkWriter(w io.Writer, chunkSize int) *ChunkWriter {
	if chunkSize < 1 {
		chunkSize = DefaultChunkSize
	}
	return &ChunkWriter{w: w, chunkSize: chunkSize}
}

// ChunkSize returns the chunk size in use.
func (cw *ChunkWriter) ChunkSize() int { return cw.chunkSize }

// WriteMessage encodes m and writes it with a single Write call.
func (cw *ChunkWriter) WriteMessage(m *Message) error {
	cw.buf = AppendChunks(cw.buf[:0], m, cw.chunkSize)
	_, err := cw.w.Write(cw.buf)
	if cap(cw.buf) > 64<<10 {
		cw.buf = nil // do not keep a large message's buffer
	}
	if err != nil {
		return fmt.Errorf("write message type %d: %w", m.Type, err)
	}
	return nil
}

// SetChunkSize sends a Set Chunk Size message for n and then uses n for
// the messages that follow. n must be in 1..0x7FFFFFFF.
func (cw *ChunkWriter) SetChunkSize(n int) error {
	if n < 1 || n > MaxChunkSizeValue {
		return fmt.Errorf("%w: %d", ErrChunkSize, n)
	}
	if err := cw.WriteMessage(NewSetChunkSize(uint32(n))); err != nil {
		return err
	}
	cw.chunkSize = n
	return nil
}
