package rtmp

import (
	"context"
	"errors"
	"net"
	"time"

	"roomcast/internal/hub"
	"roomcast/internal/media"
	"roomcast/internal/protocol/rtmp"
)

// player pumps a stream to an RTMP viewer from its own goroutine.
type player struct {
	cancel context.CancelFunc
	done   chan struct{}
}

func (p *player) stop() {
	p.cancel()
	<-p.done
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
	ctx, cancel := context.WithCancel(context.Background())
	p := &player{cancel: cancel, done: make(chan struct{})}
	format := hub.FormatRTMP
	encode := c.srv.encode
	if streamID != sharedStreamID {
		format, encode = hub.FormatUncached, encodeRTMP(streamID, c.srv.cfg.ChunkSize)
	}
	go func() {
		defer close(p.done)
		defer sub.Close()
		err := sub.Pump(ctx, &connWriter{c: c}, format, encode, nil)
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
		case ctx.Err() != nil:
			// Stopped by the client (deleteStream) or the connection's end.
		case err != nil:
			c.log.Info("play write failed", "err", err)
			c.nc.Close()
		}
	}()
	return p
}

// connWriter writes shared chunk bytes with writev, holding the
// connection's write lock so that command replies never split a message.
type connWriter struct {
	c        *conn
	deadline time.Time
	bufs     net.Buffers
}

// WriteBatch implements hub.BatchWriter.
func (w *connWriter) WriteBatch(b [][]byte) (int, error) {
	c := w.c
	c.wmu.Lock()
	defer c.wmu.Unlock()
	timeout := c.srv.cfg.WriteTimeout
	if now := time.Now(); w.deadline.Sub(now) < timeout*3/4 {
		w.deadline = now.Add(timeout)
		if err := c.nc.SetWriteDeadline(w.deadline); err != nil {
			return 0, err
		}
	}
	w.bufs = b
	n, err := w.bufs.WriteTo(c.nc)
	return int(n), err
}
