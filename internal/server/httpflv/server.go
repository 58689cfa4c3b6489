// Package httpflv serves live streams as HTTP-FLV and WebSocket-FLV:
// GET /APP/STREAM.flv, plain or upgraded to a WebSocket. Each FLV tag is
// encoded once per stream and shared by every viewer; a viewer's pending
// tags go out in one writev.
package httpflv

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"time"

	"roomcast/internal/httpx"
	"roomcast/internal/hub"
	"roomcast/internal/media"
	"roomcast/internal/protocol/flv"
	"roomcast/internal/sockio"
)

// Protocol names used for viewer statistics.
const (
	ProtocolFLV   = "flv"
	ProtocolWSFLV = "ws-flv"
)

// Server serves HTTP-FLV and WebSocket-FLV from a hub.
type Server struct {
	hub          *hub.Hub
	log          *slog.Logger
	writeTimeout time.Duration
	base         context.Context
	tracker      *httpx.Tracker
}

// New returns a server. base is cancelled at shutdown and ends every viewer;
// tracker counts viewers so that shutdown can wait for them.
func New(base context.Context, h *hub.Hub, writeTimeout time.Duration, tracker *httpx.Tracker, log *slog.Logger) *Server {
	return &Server{hub: h, log: log, writeTimeout: writeTimeout, base: base, tracker: tracker}
}

// ServeFLV serves the named stream to one viewer. Callers have validated
// the name and any access rule.
func (s *Server) ServeFLV(w http.ResponseWriter, r *http.Request, stream string) {
	if httpx.Preflight(w, r) {
		return
	}
	ws := r.Header.Get("Upgrade") != ""
	proto := ProtocolFLV
	if ws {
		proto = ProtocolWSFLV
	}
	if r.Method == http.MethodHead {
		if s.hub.Stream(stream) == nil {
			httpx.WriteError(w, http.StatusNotFound, "stream_not_found", "stream "+stream+" is not live")
			return
		}
		setHeaders(w.Header())
		w.WriteHeader(http.StatusOK)
		return
	}
	sub, err := s.hub.Subscribe(stream, proto)
	switch {
	case errors.Is(err, hub.ErrNotFound):
		httpx.WriteError(w, http.StatusNotFound, "stream_not_found", "stream "+stream+" is not live")
		return
	case errors.Is(err, hub.ErrTooManyViewers):
		httpx.WriteError(w, http.StatusServiceUnavailable, "too_many_viewers", "stream "+stream+" has too many viewers")
		return
	case err != nil:
		httpx.WriteError(w, http.StatusInternalServerError, "internal", err.Error())
		return
	}
	log := &viewerLog{log: s.log, stream: stream, proto: proto, remote: r.RemoteAddr}
	start := time.Now()
	log.log.Info("viewer connected", log.attrs()...)
	done := s.tracker.Add()
	ctx, cancel := context.WithCancel(s.base)
	stop := context.AfterFunc(r.Context(), cancel)
	var handedOff bool
	if ws {
		handedOff, err = s.serveWS(ctx, w, r, sub, log, done)
	} else {
		handedOff, err = s.serveHTTP(ctx, w, sub, log, done)
	}
	stop()
	cancel()
	if handedOff {
		// The stream's delivery loop has the viewer now.
		return
	}
	sub.Close()
	log.disconnected(err, start)
	done()
}

// viewerLog logs a viewer's start and end. It holds the attributes, not a
// logger made With them, which would keep a copy of the handler per viewer.
type viewerLog struct {
	log                   *slog.Logger
	stream, proto, remote string
}

func (l *viewerLog) attrs() []any {
	return []any{"stream", l.stream, "protocol", l.proto, "remote", l.remote}
}

func (l *viewerLog) disconnected(err error, start time.Time) {
	l.log.Info("viewer disconnected", append(l.attrs(), "reason", reason(err), "duration", time.Since(start).Round(time.Millisecond))...)
}

func reason(err error) string {
	switch {
	case err == nil:
		return "closed"
	case errors.Is(err, hub.ErrEnded):
		return "stream ended"
	case errors.Is(err, hub.ErrSlow):
		return "too slow"
	case errors.Is(err, context.Canceled):
		return "server shutting down or client gone"
	default:
		return err.Error()
	}
}

func setHeaders(h http.Header) {
	h.Set("Content-Type", "video/x-flv")
	h.Set("Cache-Control", "no-cache, no-store")
	httpx.AllowAnyOrigin(h)
}

// header returns the FLV file header for a viewer's first batch, with the
// audio and video flags of the tracks it carries: browser players wait for
// every track the header announces.
func header(frames []*hub.Frame) []byte {
	var audio, video bool
	for _, f := range frames {
		audio = audio || f.Packet.Type == media.TagAudio
		video = video || f.Packet.Type == media.TagVideo
	}
	return flv.AppendHeader(make([]byte, 0, flv.HeaderLen), audio, video)
}

// serveHTTP takes the connection over from net/http when it can, so that
// batches go out with writev and without chunked encoding. A plain socket
// is handed to the stream's delivery loop (handedOff: the handler returns
// and done is called when the viewer goes); a TLS connection, or one that
// cannot be hijacked, is pumped from this goroutine.
func (s *Server) serveHTTP(ctx context.Context, w http.ResponseWriter, sub *hub.Subscriber, log *viewerLog, done func()) (handedOff bool, err error) {
	rc := http.NewResponseController(w)
	conn, brw, err := rc.Hijack()
	if err != nil {
		// HTTP/2 or a wrapped writer: stream through the ResponseWriter.
		setHeaders(w.Header())
		w.WriteHeader(http.StatusOK)
		return false, sub.Pump(ctx, &responseWriter{w: w, rc: rc, timeout: s.writeTimeout}, hub.FormatFLV, flv.EncodeTag, header)
	}
	if brw.Reader.Buffered() > 0 {
		// A pipelined request would be answered by nobody; ignore it.
		_, _ = brw.Reader.Discard(brw.Reader.Buffered())
	}
	if sock := sockio.New(conn); sock != nil {
		s.deliverFLV(conn, sock, sub, log, done)
		return true, nil
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	cw := &connWriter{conn: conn, timeout: s.writeTimeout}
	cw.pending = []byte(responseHead)
	return false, sub.Pump(ctx, cw, hub.FormatFLV, flv.EncodeTag, header)
}

const responseHead = "HTTP/1.1 200 OK\r\n" +
	"Content-Type: video/x-flv\r\n" +
	"Cache-Control: no-cache, no-store\r\n" +
	"Access-Control-Allow-Origin: *\r\n" +
	"Access-Control-Expose-Headers: Content-Length, Content-Range\r\n" +
	"Connection: close\r\n" +
	"\r\n"

// connWriter writes batches to a raw connection with writev and a write
// deadline that is renewed at most every quarter of the time-out.
type connWriter struct {
	conn     net.Conn
	timeout  time.Duration
	deadline time.Time
	pending  []byte // response head, sent with the first batch
	bufs     net.Buffers
}

// WriteBatch implements hub.BatchWriter.
func (c *connWriter) WriteBatch(b [][]byte) (int, error) {
	now := time.Now()
	if c.deadline.Sub(now) < c.timeout*3/4 {
		c.deadline = now.Add(c.timeout)
		if err := c.conn.SetWriteDeadline(c.deadline); err != nil {
			return 0, err
		}
	}
	if c.pending != nil {
		c.bufs = append(net.Buffers{c.pending}, b...)
		c.pending = nil
	} else {
		c.bufs = b
	}
	n, err := c.bufs.WriteTo(c.conn)
	return int(n), err
}

// responseWriter writes batches through net/http and flushes each.
type responseWriter struct {
	w       http.ResponseWriter
	rc      *http.ResponseController
	timeout time.Duration
}

// WriteBatch implements hub.BatchWriter.
func (r *responseWriter) WriteBatch(b [][]byte) (int, error) {
	_ = r.rc.SetWriteDeadline(time.Now().Add(r.timeout))
	n := 0
	for _, p := range b {
		m, err := r.w.Write(p)
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, r.rc.Flush()
}
