package config

import (
	"io"
	"strings"
	"testing"
	"time"
)

func TestClusterSettings(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		args    []string
		wantErr string // "" for a valid configuration
	}{
		{"single node", nil, nil, ""},
		{"cluster", nil, []string{"-nats-url", "nats://nats:4222", "-cluster-key", "0123456789abcdef", "-node-id", "node-a.eu", "-node-addr", "10.0.0.5:1935", "-relay-linger", "30s"}, ""},
		{"cluster from the environment", map[string]string{"ROOMCAST_NATS_URL": "nats://n:4222", "ROOMCAST_CLUSTER_KEY": "0123456789abcdef"}, nil, ""},
		{"no key", nil, []string{"-nats-url", "nats://nats:4222"}, "cluster-key"},
		{"short key", nil, []string{"-nats-url", "nats://nats:4222", "-cluster-key", "short"}, "cluster-key"},
		{"not a NATS URL", nil, []string{"-nats-url", "http://nats:4222", "-cluster-key", "0123456789abcdef"}, "nats-url"},
		{"bad node id", nil, []string{"-node-id", "a b"}, "node-id"},
		{"node id with a wildcard", nil, []string{"-node-id", "a*"}, "node-id"},
		{"node addr without port", nil, []string{"-node-addr", "node-a"}, "node-addr"},
		{"negative linger", nil, []string{"-relay-linger", "-1s"}, "relay-linger"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load("serve", tt.args, env(tt.env), io.Discard)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Load: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Load: %v, want an error naming %s", err, tt.wantErr)
			}
		})
	}
}

func TestClusterDefaults(t *testing.T) {
	c := Default()
	if c.Cluster.RelayLinger != 10*time.Second || c.NATSURL != "" || c.Record.Dir != "" {
		t.Errorf("defaults %+v, record dir %q", c.Cluster, c.Record.Dir)
	}
	if id := c.Cluster.Node(); !nodeIDPattern.MatchString(id) {
		t.Errorf("default node id %q is not a valid id", id)
	}
	if addr := c.Cluster.Addr("[::]:1936"); !strings.HasSuffix(addr, ":1936") {
		t.Errorf("default node addr %q, want the RTMP port", addr)
	}
	c.Cluster.NodeID, c.Cluster.NodeAddr = "n1", "10.0.0.1:1935"
	if c.Cluster.Node() != "n1" || c.Cluster.Addr(":1") != "10.0.0.1:1935" {
		t.Errorf("configured node %q %q", c.Cluster.Node(), c.Cluster.Addr(":1"))
	}
}
