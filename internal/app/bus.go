package app

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/nats-io/nats.go"

	"roomcast/internal/bus"
	natsbus "roomcast/internal/bus/nats"
	"roomcast/internal/config"
)

// openBus returns the bus that carries chat and events: NATS when
// -nats-url is set (the connection is returned too, for the other users of
// NATS in a cluster), else the in-process bus of a single node. It logs
// which one it is.
func openBus(ctx context.Context, cfg config.Config, log *slog.Logger) (bus.Bus, *nats.Conn, error) {
	if cfg.NATSURL == "" {
		log.Info("bus: in-process (one node; set -nats-url to run several)")
		return bus.NewMemory(), nil, nil
	}
	host, _ := os.Hostname()
	name := fmt.Sprintf("roomcast %s pid %d", host, os.Getpid())
	nc, err := natsbus.Connect(ctx, cfg.NATSURL, name, log.With("component", "nats"))
	if err != nil {
		return nil, nil, fmt.Errorf("bus: %w", err)
	}
	log.Info("bus: NATS", "server", nc.ConnectedUrlRedacted(), "server_name", nc.ConnectedServerName())
	return natsbus.New(nc), nc, nil
}

// closeBus sends what is still buffered to NATS (for at most a second)
// and closes the connection; nothing for the in-process bus.
func (c *components) closeBus() {
	if c.nats == nil {
		return
	}
	_ = c.nats.FlushTimeout(time.Second)
	c.nats.Close()
}
