package app

import (
	"net"
	"os"
	"testing"

	"roomcast/internal/config"
)

func TestNodeAddr(t *testing.T) {
	host, err := os.Hostname()
	if err != nil {
		t.Fatal(err)
	}
	bound := &net.TCPAddr{IP: net.IPv4(0, 0, 0, 0), Port: 19350}
	tests := []struct {
		name, rtmpAddr, nodeAddr string
		bound                    net.Addr
		want                     string
	}{
		{"configured", ":1935", "10.0.0.5:1935", bound, "10.0.0.5:1935"},
		{"listen address names a host", "127.0.0.1:0", "", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 40001}, "127.0.0.1:40001"},
		{"all interfaces: the host name", ":1935", "", bound, net.JoinHostPort(host, "19350")},
		{"unspecified IP: the host name", "0.0.0.0:1935", "", bound, net.JoinHostPort(host, "19350")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := config.Default()
			cfg.RTMPAddr, cfg.Cluster.NodeAddr = tt.rtmpAddr, tt.nodeAddr
			if got := nodeAddr(cfg, tt.bound); got != tt.want {
				t.Errorf("nodeAddr = %q, want %q", got, tt.want)
			}
		})
	}
}
