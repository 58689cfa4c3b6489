// Package natstest runs a real NATS server with JetStream inside a test
// binary, on a loopback port, for the tests of the packages that use NATS.
// It is the nats-server module itself (no mock): tests can stop and restart
// it on the same port and storage directory to prove that clients recover.
package natstest

import (
	"fmt"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// Server is one embedded NATS server. Its address stays the same across
// Restart, so clients given URL reconnect to the new process.
type Server struct {
	t    testing.TB
	mu   sync.Mutex
	srv  *server.Server
	opts server.Options
}

// Start runs a NATS server with JetStream on a free loopback port, storing
// its streams in a temporary directory of t. It is shut down when t ends.
func Start(t testing.TB) *Server {
	t.Helper()
	s := &Server{t: t, opts: server.Options{
		ServerName: "natstest",
		Host:       "127.0.0.1",
		Port:       freePort(t),
		JetStream:  true,
		StoreDir:   t.TempDir(),
		NoLog:      true,
		NoSigs:     true,
	}}
	if err := s.start(); err != nil {
		t.Fatalf("natstest: %v", err)
	}
	t.Cleanup(s.Shutdown)
	return s
}

// URL is the nats:// address clients connect to.
func (s *Server) URL() string {
	return "nats://" + net.JoinHostPort(s.opts.Host, strconv.Itoa(s.opts.Port))
}

// Shutdown stops the server; clients see a disconnect. It is safe to call
// more than once.
func (s *Server) Shutdown() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.srv != nil {
		s.srv.Shutdown()
		s.srv.WaitForShutdown()
		s.srv = nil
	}
}

// Restart stops the server and starts a new one on the same port and
// storage directory, as an operator's restart of nats-server would.
func (s *Server) Restart() {
	s.t.Helper()
	s.Shutdown()
	if err := s.start(); err != nil {
		s.t.Fatalf("natstest: restart: %v", err)
	}
}

// start runs a new server with s.opts and waits until it accepts clients.
func (s *Server) start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	opts := s.opts
	srv, err := server.NewServer(&opts)
	if err != nil {
		return fmt.Errorf("new server: %w", err)
	}
	go srv.Start()
	if !srv.ReadyForConnections(20 * time.Second) {
		srv.Shutdown()
		return fmt.Errorf("server on port %d not ready after 20s", s.opts.Port)
	}
	s.srv = srv
	return nil
}

// freePort asks the kernel for a free loopback TCP port.
func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("natstest: free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
