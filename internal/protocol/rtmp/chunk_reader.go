package rtmp

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Limits bound what a peer can make a ChunkReader buffer. Zero fields take
// the defaults.
type Limits struct {
	// MaxChunkSize is the largest chunk size the peer may set; a larger Set
	// Chunk Size fails with ErrChunkSize. Default 16 MiB.
	MaxChunkSize int
	// MaxMessageSize is the largest message accepted; a longer one fails with
	// ErrMessageTooLarge. Default 16 MiB.
	MaxMessageSize int
	// MaxChunkStreams is how many chunk stream IDs the peer may use; one more
	// fails with ErrTooManyChunkStreams. Default 64.
	MaxChunkStreams int
	// MaxPendingBytes bounds the total length of messages being reassembled
	// at once; more fails with ErrPendingLimit. Default 32 MiB.
	MaxPendingBytes int
}

// Default limits.
const (
	DefaultMaxChunkSize    = 16 << 20
	DefaultMaxMessageSize  = 16 << 20
	DefaultMaxChunkStreams = 64
	DefaultMaxPendingBytes = 32 << 20
)

func (l Limits) withDefaults() Limits {
	if l.MaxChunkSize <= 0 {
		l.MaxChunkSize = DefaultMaxChunkSize
	}
	l.MaxChunkSize = min(l.MaxChunkSize, MaxChunkSizeValue)
	if l.MaxMessageSize <= 0 {
		l.MaxMessageSize = DefaultMaxMessageSize
	}
	if l.MaxChunkStreams <= 0 {
		l.MaxChunkStreams = DefaultMaxChunkStreams
	}
	if l.MaxPendingBytes <= 0 {
		l.MaxPendingBytes = DefaultMaxPendingBytes
	}
	return l
}

// maxTimestampField is the value of the 3-byte timestamp field that says an
// extended timestamp follows.
const maxTimestampField = 0xffffff

// chunkStream is what a ChunkReader remembers about one chunk stream ID.
type chunkStream struct {
	timestamp uint32 // absolute timestamp of the current or last message
	delta     uint32 // timestamp field of the last header (a delta, or absolute for fmt 0)
	length    uint32
	typ       uint8
	streamID  uint32
	extended  bool   // the last header carried an extended timestamp
	extField  uint32 // the extended timestamp value of the last header
	buf       []byte // payload of the message being reassembled, nil if none
	filled    int    // bytes of buf received so far
}

// initialMessageCap is the first allocation for an incoming message; larger
// messages grow their buffer as their chunks arrive.
const initialMessageCap = 64 << 10

// ChunkReader reassembles RTMP messages from a chunk stream. It is not safe
// for concurrent use; one goroutine (the connection's reader) owns it.
type ChunkReader struct {
	r         *bufio.Reader
	lim       Limits
	chunkSize int
	streams   map[uint32]*chunkStream
	pending   int // total length of messages being reassembled
	bytesRead uint64
	hdr       [16]byte
}

// Buffered returns the number of bytes received and not yet read.
func (cr *ChunkReader) Buffered() int {
	if cr.r == nil {
		return 0
	}
	return cr.r.Buffered()
}

// Reader returns the buffered reader the chunks are read from.
func (cr *ChunkReader) Reader() *bufio.Reader { return cr.r }

// SetReader makes the reader read the chunks that follow from br, keeping
// the chunk streams' state. The reader in use must have nothing buffered
// (Buffered() == 0). A connection that waits long between messages (a
// player) can so give its buffer back while it waits, and take one again
// (SetReader(nil) until then: no read may happen without a reader).
func (cr *ChunkReader) SetReader(br *bufio.Reader) { cr.r = br }

// NewChunkReader returns a ChunkReader reading from r with chunk size 128.
// It buffers r unless r is already a *bufio.Reader.
func NewChunkReader(r io.Reader, lim Limits) *ChunkReader {
	br, ok := r.(*bufio.Reader)
	if !ok {
		br = bufio.NewReaderSize(r, 16<<10)
	}
	return &ChunkReader{
		r:         br,
		lim:       lim.withDefaults(),
		chunkSize: DefaultChunkSize,
		streams:   make(map[uint32]*chunkStream),
	}
}

// BytesRead returns how many bytes the reader has consumed, for
// acknowledgements.
func (cr *ChunkReader) BytesRead() uint64 { return cr.bytesRead }

// ChunkSize returns the peer's current chunk size.
func (cr *ChunkReader) ChunkSize() int { return cr.chunkSize }

// ReadMessage reads chunks until a message is complete and returns it. The
// Message and its Data are new and belong to the caller.
//
// Set Chunk Size and Abort messages are applied by the reader and also
// returned. At a clean message boundary with no more input it returns io.EOF;
// a stream cut inside a chunk gives io.ErrUnexpectedEOF. Malformed input gives
// an error wrapping ErrProtocol, ErrChunkSize, ErrMessageTooLarge,
// ErrTooManyChunkStreams or ErrPendingLimit; the connection should then be
// closed.
func (cr *ChunkReader) ReadMessage() (*Message, error) {
	for {
		m, err := cr.readChunk()
		if err != nil {
			return nil, err
		}
		if m == nil {
			continue
		}
		if err := cr.apply(m); err != nil {
			return nil, err
		}
		return m, nil
	}
}

// apply handles the protocol control messages that change how chunks are read.
func (cr *ChunkReader) apply(m *Message) error {
	switch m.Type {
	case TypeSetChunkSize:
		v, err := ParseUint32(m.Data)
		if err != nil {
			return fmt.Errorf("set chunk size: %w", err)
		}
		if v&0x80000000 != 0 || v == 0 || int64(v) > int64(cr.lim.MaxChunkSize) {
			return fmt.Errorf("%w: peer set %d (allowed 1..%d)", ErrChunkSize, v, cr.lim.MaxChunkSize)
		}
		cr.chunkSize = int(v)
	case TypeAbort:
		v, err := ParseUint32(m.Data)
		if err != nil {
			return fmt.Errorf("abort: %w", err)
		}
		if cs := cr.streams[v]; cs != nil && cs.buf != nil {
			cr.pending -= int(cs.length)
			cs.buf, cs.filled = nil, 0
		}
	}
	return nil
}

// read fills p, counting the bytes. An EOF after part of p is unexpected.
func (cr *ChunkReader) read(p []byte) error {
	n, err := io.ReadFull(cr.r, p)
	cr.bytesRead += uint64(n)
	if err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return fmt.Errorf("read chunk: %w", err)
	}
	return nil
}

// readChunk reads one chunk and returns the message it completes, if any.
func (cr *ChunkReader) readChunk() (*Message, error) {
	b0, err := cr.r.ReadByte()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, io.EOF // clean end between chunks
		}
		return nil, fmt.Errorf("read chunk: %w", err)
	}
	cr.bytesRead++
	format := b0 >> 6
	csid := uint32(b0 & 0x3f)
	switch csid {
	case 0:
		if err := cr.read(cr.hdr[:1]); err != nil {
			return nil, err
		}
		csid = 64 + uint32(cr.hdr[0])
	case 1:
		if err := cr.read(cr.hdr[:2]); err != nil {
			return nil, err
		}
		csid = 64 + uint32(cr.hdr[0]) + uint32(cr.hdr[1])<<8
	}

	cs := cr.streams[csid]
	if cs == nil {
		// A chunk stream must start with a type 0 header; librtmp sends
		// its pings with type 1 on a fresh stream, so that is accepted
		// (message stream 0).
		if format > 1 {
			return nil, fmt.Errorf("%w: chunk stream %d starts with a type %d header", ErrProtocol, csid, format)
		}
		if len(cr.streams) >= cr.lim.MaxChunkStreams {
			return nil, fmt.Errorf("%w: chunk stream %d would be number %d", ErrTooManyChunkStreams, csid, len(cr.streams)+1)
		}
		cs = &chunkStream{}
		cr.streams[csid] = cs
	}
	inMessage := cs.buf != nil
	if inMessage && format != 3 {
		return nil, fmt.Errorf("%w: type %d header on chunk stream %d inside a message", ErrProtocol, format, csid)
	}

	if err := cr.readHeader(cs, format, inMessage); err != nil {
		return nil, fmt.Errorf("chunk stream %d: %w", csid, err)
	}

	if !inMessage {
		if int64(cs.length) > int64(cr.lim.MaxMessageSize) {
			return nil, fmt.Errorf("%w: %d bytes on chunk stream %d (limit %d)", ErrMessageTooLarge, cs.length, csid, cr.lim.MaxMessageSize)
		}
		if cr.pending+int(cs.length) > cr.lim.MaxPendingBytes {
			return nil, fmt.Errorf("%w: %d bytes pending plus %d (limit %d)", ErrPendingLimit, cr.pending, cs.length, cr.lim.MaxPendingBytes)
		}
		// The buffer grows as bytes arrive, so announcing a large message
		// costs the peer as many bytes as it makes the server hold.
		cs.buf = make([]byte, 0, min(int(cs.length), initialMessageCap))
		cs.filled = 0
		cr.pending += int(cs.length)
	}

	n := min(cr.chunkSize, int(cs.length)-cs.filled)
	if need := cs.filled + n; need > cap(cs.buf) {
		grown := make([]byte, cs.filled, min(int(cs.length), max(2*cap(cs.buf), need)))
		copy(grown, cs.buf)
		cs.buf = grown
	}
	cs.buf = cs.buf[:cs.filled+n]
	if err := cr.read(cs.buf[cs.filled:]); err != nil {
		return nil, err
	}
	cs.filled += n
	if cs.filled < int(cs.length) {
		return nil, nil
	}
	m := &Message{
		Type:          cs.typ,
		ChunkStreamID: csid,
		StreamID:      cs.streamID,
		Timestamp:     cs.timestamp,
		Data:          cs.buf,
	}
	cr.pending -= int(cs.length)
	cs.buf, cs.filled = nil, 0
	return m, nil
}

// readHeader reads the message header of a chunk of the given format and
// updates cs. For the first chunk of a message it also computes the
// message's timestamp.
func (cr *ChunkReader) readHeader(cs *chunkStream, format byte, inMessage bool) error {
	sizes := [4]int{11, 7, 3, 0}
	h := cr.hdr[:sizes[format]]
	if err := cr.read(h); err != nil {
		return err
	}
	if format <= 2 {
		cs.delta = uint32(h[0])<<16 | uint32(h[1])<<8 | uint32(h[2])
		cs.extended = cs.delta == maxTimestampField
	}
	if format <= 1 {
		cs.length = uint32(h[3])<<16 | uint32(h[4])<<8 | uint32(h[5])
		cs.typ = h[6]
	}
	if format == 0 {
		cs.streamID = binary.LittleEndian.Uint32(h[7:11])
	}

	if cs.extended {
		if format <= 2 {
			if err := cr.read(cr.hdr[:4]); err != nil {
				return err
			}
			cs.extField = binary.BigEndian.Uint32(cr.hdr[:4])
			cs.delta = cs.extField
		} else if err := cr.skipRepeatedExtended(cs); err != nil {
			return err
		}
	}

	if inMessage {
		return nil
	}
	if format == 0 {
		cs.timestamp = cs.delta
	} else {
		cs.timestamp += cs.delta
	}
	return nil
}

// skipRepeatedExtended consumes the extended timestamp that a type 3 chunk
// repeats when its stream's last header had one. The specification and
// FFmpeg repeat it; some encoders do not. The next bytes are taken to be the
// repeated field if they equal it; only as many bytes as the chunk's payload
// is sure to hold are inspected, so this never waits for data the peer may
// not send.
func (cr *ChunkReader) skipRepeatedExtended(cs *chunkStream) error {
	payload := int(cs.length) - cs.filled
	if cs.buf == nil {
		payload = int(cs.length)
	}
	n := min(4, min(cr.chunkSize, payload))
	var want [4]byte
	binary.BigEndian.PutUint32(want[:], cs.extField)
	if n == 0 {
		// An empty message: nothing follows for sure, so only take the
		// field if it is already buffered.
		if cr.r.Buffered() < 4 {
			return nil
		}
		n = 4
	}
	p, err := cr.r.Peek(n)
	if err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return fmt.Errorf("read chunk: %w", err)
	}
	if string(p) != string(want[:n]) {
		return nil // not repeated
	}
	return cr.read(cr.hdr[:4])
}
