package rtmp

import (
	"context"
	"fmt"
	"net"
	"sync"
	"time"

	"roomcast/internal/protocol/amf"
)

// clientChunkSize is the outgoing chunk size a Client sets after connect.
const clientChunkSize = 4096

// closeTimeout bounds the goodbye commands Close sends.
const closeTimeout = time.Second

// Client is a minimal RTMP client that publishes or plays one stream; tests
// and the load generator use it.
//
// One goroutine may read (ReadMessage) while another writes (WriteMedia,
// WriteMetadata); Publish and Play must not run concurrently with either.
// After any error other than a *StatusError the connection's state is
// unknown and the Client should be closed.
type Client struct {
	conn net.Conn
	url  *URL
	cr   *ChunkReader

	wmu sync.Mutex // serialises writes to conn through cw
	cw  *ChunkWriter

	nextTx     float64
	streamID   uint32
	publishing bool
	ackWindow  uint32     // from the server's Window Acknowledgement Size
	lastAck    uint64     // BytesRead at the last acknowledgement sent
	queue      []*Message // media and data that arrived while waiting for a reply
}

// Dial connects to an rtmp://host[:port]/app/stream?query URL: TCP, the
// handshake, and the connect command for app. ctx bounds all of it; its
// deadline and cancellation apply to the connection until Dial returns. A
// server that refuses the connection gives a *StatusError.
func Dial(ctx context.Context, rawURL string) (*Client, error) {
	u, err := ParseURL(rawURL)
	if err != nil {
		return nil, err
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", u.Host)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", u.Host, err)
	}
	c := &Client{
		conn:   conn,
		url:    u,
		cr:     NewChunkReader(conn, Limits{}),
		cw:     NewChunkWriter(conn, DefaultChunkSize),
		nextTx: 1,
	}
	err = c.withContext(ctx, func() error {
		if err := ClientHandshake(conn); err != nil {
			return err
		}
		return c.connect()
	})
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("rtmp connect to %s: %w", rawURL, err)
	}
	return c, nil
}

// StreamID returns the message stream ID from createStream (0 before
// Publish or Play).
func (c *Client) StreamID() uint32 { return c.streamID }

// SetDeadline sets the read and write deadlines of the connection, for
// callers of ReadMessage and WriteMedia.
func (c *Client) SetDeadline(t time.Time) error { return c.conn.SetDeadline(t) }

// withContext runs f with ctx's deadline and cancellation applied to the
// connection, then clears the deadline.
func (c *Client) withContext(ctx context.Context, f func() error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if dl, ok := ctx.Deadline(); ok {
		c.conn.SetDeadline(dl)
	}
	fired := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		c.conn.SetDeadline(time.Unix(1, 0)) // unblock reads and writes now
		close(fired)
	})
	err := f()
	if !stop() {
		<-fired
	}
	c.conn.SetDeadline(time.Time{})
	if err != nil && ctx.Err() != nil {
		return fmt.Errorf("%w: %w", ctx.Err(), err)
	}
	return err
}

// connect sends the connect command, waits for its result and raises the
// outgoing chunk size.
func (c *Client) connect() error {
	obj := amf.Object{
		{Key: "app", Value: c.url.App},
		{Key: "type", Value: "nonprivate"},
		{Key: "flashVer", Value: "FMLE/3.0 (compatible; roomcast)"},
		{Key: "tcUrl", Value: c.url.TCURL},
		{Key: "fpad", Value: false},
		{Key: "capabilities", Value: 15.0},
		{Key: "audioCodecs", Value: 3191.0},
		{Key: "videoCodecs", Value: 252.0},
		{Key: "videoFunction", Value: 1.0},
		{Key: "objectEncoding", Value: 0.0},
	}
	if _, err := c.call(&Command{Name: "connect", Object: obj}, 0); err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if err := c.cw.SetChunkSize(clientChunkSize); err != nil {
		return fmt.Errorf("set chunk size: %w", err)
	}
	return nil
}

// Publish creates a stream and publishes the URL's stream name as "live",
// returning when the server answers NetStream.Publish.Start. A refusal is a
// *StatusError such as NetStream.Publish.BadName. A publisher that runs for
// long should call ReadMessage in a goroutine of its own, so that the
// server's pings are answered and its acknowledgements drained.
func (c *Client) Publish(ctx context.Context) error {
	if c.url.Stream == "" {
		return fmt.Errorf("publish: URL has no stream name")
	}
	return c.withContext(ctx, func() error {
		name := c.url.Stream
		// releaseStream and FCPublish are sent as FFmpeg and OBS do; their
		// replies (if any) are not awaited.
		for _, cmd := range []string{"releaseStream", "FCPublish"} {
			if err := c.send(&Command{Name: cmd, TransactionID: c.tx(), Args: []any{name}}, 0); err != nil {
				return fmt.Errorf("publish: %w", err)
			}
		}
		if err := c.createStream(); err != nil {
			return fmt.Errorf("publish: %w", err)
		}
		cmd := &Command{Name: "publish", TransactionID: c.tx(), Args: []any{name, "live"}}
		if err := c.send(cmd, c.streamID); err != nil {
			return fmt.Errorf("publish: %w", err)
		}
		if err := c.waitStatus(CodePublishStart); err != nil {
			return fmt.Errorf("publish %q: %w", name, err)
		}
		c.publishing = true
		return nil
	})
}

// Play creates a stream and plays the URL's stream name, returning when the
// server answers NetStream.Play.Start. Media may then be read with
// ReadMessage. A refusal is a *StatusError such as
// NetStream.Play.StreamNotFound.
func (c *Client) Play(ctx context.Context) error {
	if c.url.Stream == "" {
		return fmt.Errorf("play: URL has no stream name")
	}
	return c.withContext(ctx, func() error {
		name := c.url.Stream
		if err := c.createStream(); err != nil {
			return fmt.Errorf("play: %w", err)
		}
		cmd := &Command{Name: "play", TransactionID: c.tx(), Args: []any{name, -2.0}}
		if err := c.send(cmd, c.streamID); err != nil {
			return fmt.Errorf("play: %w", err)
		}
		if err := c.write(NewSetBufferLength(c.streamID, 3000)); err != nil {
			return fmt.Errorf("play: %w", err)
		}
		if err := c.waitStatus(CodePlayStart); err != nil {
			return fmt.Errorf("play %q: %w", name, err)
		}
		return nil
	})
}

// createStream calls createStream and records the new message stream ID.
func (c *Client) createStream() error {
	res, err := c.call(&Command{Name: "createStream"}, 0)
	if err != nil {
		return fmt.Errorf("createStream: %w", err)
	}
	if len(res.Args) == 0 {
		return fmt.Errorf("%w: createStream result without a stream ID", ErrProtocol)
	}
	id, ok := res.Args[0].(float64)
	if !ok || id < 0 || id > float64(^uint32(0)) {
		return fmt.Errorf("%w: createStream result %v is not a stream ID", ErrProtocol, res.Args[0])
	}
	c.streamID = uint32(id)
	return nil
}

// WriteMedia sends an audio, video or data message on the published stream.
func (c *Client) WriteMedia(typ uint8, ts uint32, data []byte) error {
	csid := CSIDData
	switch typ {
	case TypeAudio:
		csid = CSIDAudio
	case TypeVideo:
		csid = CSIDVideo
	}
	m := &Message{Type: typ, ChunkStreamID: csid, StreamID: c.streamID, Timestamp: ts, Data: data}
	return c.write(m)
}

// WriteMetadata sends @setDataFrame("onMetaData", meta) on the published
// stream; meta is usually an amf.ECMAArray.
func (c *Client) WriteMetadata(meta any) error {
	data, err := amf.Append(nil, "@setDataFrame", "onMetaData", meta)
	if err != nil {
		return fmt.Errorf("encode metadata: %w", err)
	}
	return c.WriteMedia(TypeDataAMF0, 0, data)
}

// ReadMessage returns the next audio, video or data message, splitting
// aggregates and handling control messages (acknowledgements, pings, chunk
// size) itself. An onStatus with level "error" is returned as a
// *StatusError; other commands are skipped.
func (c *Client) ReadMessage() (*Message, error) {
	for {
		if len(c.queue) > 0 {
			m := c.queue[0]
			c.queue[0] = nil
			c.queue = c.queue[1:]
			return m, nil
		}
		m, err := c.readRaw()
		if err != nil {
			return nil, err
		}
		if m.Type == TypeCommandAMF0 || m.Type == TypeCommandAMF3 {
			cmd, err := ParseCommand(m)
			if err != nil {
				return nil, err
			}
			if level, code, desc := statusInfo(cmd); cmd.Name == "onStatus" && level == LevelError {
				return nil, &StatusError{Code: code, Description: desc}
			}
			continue
		}
		if err := c.enqueue(m); err != nil {
			return nil, err
		}
	}
}

// Buffered reports whether received data is waiting to be read:
// ReadMessage may then return without waiting for the network (unless
// what waits is only part of a message). A relay uses it to forward the
// messages that arrived together as one batch.
func (c *Client) Buffered() bool { return len(c.queue) > 0 || c.cr.Buffered() > 0 }

// Close sends deleteStream for a published or played stream (best effort,
// bounded by a short deadline) and closes the connection.
func (c *Client) Close() error {
	if c.streamID != 0 {
		c.conn.SetWriteDeadline(time.Now().Add(closeTimeout))
		if c.publishing {
			c.send(&Command{Name: "FCUnpublish", Args: []any{c.url.Stream}}, 0)
		}
		c.send(&Command{Name: "deleteStream", Args: []any{float64(c.streamID)}}, 0)
	}
	return c.conn.Close()
}
