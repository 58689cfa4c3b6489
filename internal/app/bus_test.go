package app

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"

	"roomcast/internal/bus"
	"roomcast/internal/config"
	"roomcast/internal/natstest"
)

func TestOpenBus(t *testing.T) {
	srv := natstest.Start(t)
	down := natstest.Start(t)
	downURL := down.URL()
	down.Shutdown()
	for _, tc := range []struct {
		name, url, log, err string
		nats                bool
	}{
		{"single node", "", "bus: in-process", "", false},
		{"nats", srv.URL(), "bus: NATS", "", true},
		{"nats unreachable", downURL, "", "connect to " + downURL, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var logs bytes.Buffer
			cfg := config.Default()
			cfg.NATSURL = tc.url
			b, nc, err := openBus(context.Background(), cfg, slog.New(slog.NewTextHandler(&logs, nil)))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want one with %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			c := &components{bus: b, nats: nc}
			defer c.closeBus()
			if (nc != nil) != tc.nats {
				t.Errorf("NATS connection %v, want one: %v", nc, tc.nats)
			}
			if _, memory := b.(*bus.Memory); memory == tc.nats {
				t.Errorf("bus %T", b)
			}
			if !strings.Contains(logs.String(), tc.log) {
				t.Errorf("log %q lacks %q", logs.String(), tc.log)
			}
		})
	}
}
