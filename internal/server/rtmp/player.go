package rtmp

import (
	"context"
	"errors"
	"net"
	"time"

	"roomcast/internal/hub"
	"roomcast/internal/media"
	"roomcast/internal/protocol/rtmp"
	"roomcast/internal/sockio"
)

// player delivers a stream to an RTMP viewer: through the stream's
// delivery loop on a plain socket, else from a goroutine of its own.
type player struct {
	stop func() // ends delivery and waits until it has stopped
}

// sharedStreamID is the message stream id of the shared RTMP encoding: the
// first stream a client creates, as every common player does.
const sharedStreamID = 1

// encodeRTMP returns the encoder of play messages for the given message
// stream and chunk size.
func encodeRTMP(streamID uint32, chunkSize int) func(*media.Packet) []byte {
	return func(p *media.Packet) []byte {
		csid := uint32(csidData)
		switch p.Type {
		case media.TagAudio:
			csid = csidAudio
		case media.TagVideo:
			csid = csidVideo
		}
		m := rtmp.Message{Type: uint8(p.Type), ChunkStreamID: csid, StreamID: streamID, Timestamp: uint32(p.DTS), Data: p.Data}
		n := len(p.Data)
		return rtmp.AppendChunks(make([]byte, 0, 18+n+n/chunkSize*5), &m, chunkSize)
	}
}

func (c *conn) startPlayer(sub *hub.Subscriber, streamID uint32) *player {
	format := hub.FormatRTMP
	encode := c.srv.encode
	if streamID != sharedStreamID {
		format, encode = hub.FormatUncached, encodeRTMP(streamID, c.srv.cfg.ChunkSize)
	}
	done := make(chan struct{})
	if sock := sockio.New(c.nc); sock != nil {
		sub.Deliver(hub.Delivery{
			Writer: &connWriter{c: c, sock: sock},
			Format: format,
			Encode: encode,
			Done: func(err error) {
				defer close(done)
				defer sub.Close()
				c.playEnded(err, streamID, errors.Is(err, hub.ErrClosed))
			},
		})
		return &player{stop: func() { sub.Close(); <-done }}
	}
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		defer close(done)
		defer sub.Close()
		err := sub.Pump(ctx, &connWriter{c: c}, format, encode, nil)
		c.playEnded(err, streamID, ctx.Err() != nil)
	}()
	return &player{stop: func() { cancel(); <-done }}
}

// playEnded tells the client why playing stopped and closes the connection
// when it should. stopped: by the client (deleteStream) or the
// connection's end.
func (c *conn) playEnded(err error, streamID uint32, stopped bool) {
	switch {
	case errors.Is(err, hub.ErrEnded):
		c.log.Info("stream ended")
		_ = c.write(rtmp.NewStreamEOF(streamID))
		_ = c.onStatus(streamID, "status", codeUnpublishNotify, "The stream has ended.")
		_ = c.onStatus(streamID, "status", codePlayStop, "Stopped playing.")
		c.nc.Close()
	case errors.Is(err, hub.ErrSlow):
		c.log.Warn("viewer too slow, disconnecting")
		c.nc.Close()
	case stopped:
	case err != nil:
		c.log.Info("play write failed", "err", err)
		c.nc.Close()
	}
}

// connWriter writes shared chunk bytes with writev, holding the
// connection's write lock so that command replies never split a message.
// With sock (a plain socket) it is a hub.DirectWriter too.
type connWriter struct {
	c    *conn
	sock *sockio.Conn
	bufs net.Buffers
}

// WriteBatch implements hub.BatchWriter: what TryWriteBatch kept, then b,
// waiting for the socket.
func (w *connWriter) WriteBatch(b [][]byte) (int, error) {
	c := w.c
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if err := c.renewDeadlineLocked(); err != nil {
		return 0, err
	}
	if w.sock == nil {
		w.bufs = b
		n, err := w.bufs.WriteTo(c.nc)
		return int(n), err
	}
	n := 0
	if len(c.kept) > 0 {
		m, err := w.sock.Write(nil, c.kept)
		clear(c.kept)
		c.kept = c.kept[:0]
		if n += m; err != nil {
			return n, err
		}
	}
	m, err := w.sock.Write(nil, b)
	return n + m, err
}

// TryWriteBatch implements hub.DirectWriter: b written without waiting;
// what the socket does not take is kept and goes out before any other
// message. A connection busy with a command reply takes nothing.
func (w *connWriter) TryWriteBatch(b [][]byte) (int, bool, error) {
	c := w.c
	if !c.wmu.TryLock() {
		return 0, false, nil
	}
	defer c.wmu.Unlock()
	if len(c.kept) > 0 {
		return 0, false, nil
	}
	if !c.wdeadline.IsZero() {
		// A write that never waits needs none, and a past one fails it.
		c.wdeadline = time.Time{}
		if err := c.nc.SetWriteDeadline(c.wdeadline); err != nil {
			return 0, true, err
		}
	}
	n, err := w.sock.TryWrite(nil, b)
	if err == nil && n < sockio.Len(b) {
		c.kept = sockio.Rest(c.kept[:0], nil, b, n)
	}
	return n, true, err
}
