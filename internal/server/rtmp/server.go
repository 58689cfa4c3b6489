// Package rtmp is the RTMP server: it accepts connections, runs the
// handshake and command exchange, and connects publishers and players to the
// hub. Wire formats live in internal/protocol/rtmp and amf; this package
// holds only connection lifecycles.
package rtmp

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"sync"
	"time"

	"roomcast/internal/hub"
	"roomcast/internal/media"
)

// Config configures the RTMP server.
type Config struct {
	// App is the only application name accepted ("live").
	App string
	// ChunkSize is the outgoing chunk size announced to every client.
	ChunkSize int
	// MaxConnections bounds concurrent connections.
	MaxConnections int
	// MaxMessageSize bounds one incoming message.
	MaxMessageSize int
	// HandshakeTimeout bounds the handshake and the command exchange up to
	// publish or play.
	HandshakeTimeout time.Duration
	// ReadTimeout ends publishers (and clients that have not started) that
	// send nothing for this long.
	ReadTimeout time.Duration
	// WriteTimeout ends players whose socket accepts nothing for this long.
	WriteTimeout time.Duration
	// Authorizer, if set, decides who may publish and play.
	Authorizer Authorizer
	// Internal, if set, reports whether an authorized play request comes
	// from another roomcast node (an edge relay): such players are
	// internal hub subscribers, not counted as viewers.
	Internal func(Request) bool
}

// Request describes a publish or play request for an Authorizer.
type Request struct {
	App    string
	Stream string
	// Query merges the query strings found on the tcUrl, the app and the
	// stream name (clients put signatures in different places); the stream
	// name's wins.
	Query      url.Values
	TcURL      string
	RemoteAddr string
}

// Authorizer decides whether a request may go ahead. A returned error is
// sent to the client as the description of the refusal.
type Authorizer interface {
	AuthorizePublish(ctx context.Context, req Request) error
	AuthorizePlay(ctx context.Context, req Request) error
}

// Server accepts RTMP connections.
type Server struct {
	cfg Config
	hub *hub.Hub
	log *slog.Logger

	// encode makes the shared RTMP encoding of a packet for players.
	encode func(*media.Packet) []byte

	// readers are the connections' read buffers, which players give back
	// while they wait for the client.
	readers sync.Pool

	mu    sync.Mutex
	conns map[*conn]struct{}
	wg    sync.WaitGroup
}

// New returns a server.
func New(cfg Config, h *hub.Hub, log *slog.Logger) *Server {
	return &Server{
		cfg:    cfg,
		hub:    h,
		log:    log,
		encode: encodeRTMP(sharedStreamID, cfg.ChunkSize),
		conns:  make(map[*conn]struct{}),
		readers: sync.Pool{New: func() any {
			return bufio.NewReaderSize(nil, readBufferSize)
		}},
	}
}

// readBufferSize is the size of a connection's read buffer.
const readBufferSize = 4096

// Serve accepts connections on ln until ctx ends or ln is closed, then
// closes every connection and waits for them.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	stop := context.AfterFunc(ctx, func() { ln.Close() })
	defer stop()
	defer s.closeAll()
	var tempDelay time.Duration
	for {
		nc, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				tempDelay = min(max(2*tempDelay, 5*time.Millisecond), time.Second)
				time.Sleep(tempDelay)
				continue
			}
			return fmt.Errorf("accept: %w", err)
		}
		tempDelay = 0
		c := newConn(s, nc)
		if !s.add(c) {
			s.log.Warn("connection refused: too many connections", "remote", nc.RemoteAddr().String(), "max", s.cfg.MaxConnections)
			nc.Close()
			continue
		}
		go func() {
			defer s.remove(c)
			c.serve(ctx)
		}()
	}
}

func (s *Server) add(c *conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.conns) >= s.cfg.MaxConnections {
		return false
	}
	s.conns[c] = struct{}{}
	s.wg.Add(1)
	return true
}

func (s *Server) remove(c *conn) {
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
	s.wg.Done()
}

// closeAll closes every connection and waits for their goroutines.
func (s *Server) closeAll() {
	s.mu.Lock()
	for c := range s.conns {
		c.nc.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}
