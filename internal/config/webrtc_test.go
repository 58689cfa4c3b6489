package config

import (
	"io"
	"strings"
	"testing"
)

func TestWebRTCSettings(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		env  map[string]string
		want string // "" means valid
	}{
		{"defaults", nil, nil, ""},
		{"off", []string{"-webrtc-udp-addr", "", "-webrtc-tcp-addr", ""}, nil, ""},
		{"public ips", []string{"-webrtc-public-ip", "203.0.113.10, 2001:db8::1"}, nil, ""},
		{"public ip from env", nil, map[string]string{"ROOMCAST_WEBRTC_PUBLIC_IP": "203.0.113.10"}, ""},
		{"bad udp", []string{"-webrtc-udp-addr", "8189"}, nil, "webrtc-udp-addr"},
		{"bad tcp", []string{"-webrtc-tcp-addr", "host:"}, nil, "webrtc-tcp-addr"},
		{"bad ip", []string{"-webrtc-public-ip", "live.example.com"}, nil, "webrtc-public-ip"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Load("roomcast", tc.args, func(k string) string { return tc.env[k] }, io.Discard)
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want one naming %s (%+v)", err, tc.want, c.WebRTC)
			}
		})
	}
	c, err := Load("roomcast", []string{"-webrtc-public-ip", "203.0.113.10,198.51.100.7"}, func(string) string { return "" }, io.Discard)
	if err != nil || len(c.WebRTC.PublicIPs) != 2 || c.WebRTC.UDPAddr != ":8189" || c.WebRTC.TCPAddr != ":8189" {
		t.Fatalf("%+v %v", c.WebRTC, err)
	}
}
