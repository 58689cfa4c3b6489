package bench

import (
	"errors"
	"testing"
	"time"
)

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		url, proto string
		remote     bool
		want       string // protocol, or "" for an error
		hostport   string
		err        error
	}{
		{url: "http://127.0.0.1:8080/live/s.flv", want: ProtoFLV, hostport: "127.0.0.1:8080"},
		{url: "http://localhost/live/s.FLV?t=1", want: ProtoFLV, hostport: "localhost:80"},
		{url: "ws://[::1]:8080/live/s.flv", want: ProtoWSFLV, hostport: "[::1]:8080"},
		{url: "http://127.0.0.2/hls/s/index.m3u8", want: ProtoHLS, hostport: "127.0.0.2:80"},
		{url: "rtmp://127.0.0.1/live/s", want: ProtoRTMP, hostport: "127.0.0.1:1935"},
		{url: "http://127.0.0.1:8080/live/s/whep", want: ProtoWHEP, hostport: "127.0.0.1:8080"},
		{url: "http://127.0.0.1:8080/live/s", proto: "whep", want: ProtoWHEP, hostport: "127.0.0.1:8080"},
		{url: "ws://127.0.0.1:8080/live/s/whep", proto: "whep", err: ErrConfig},
		{url: "http://127.0.0.1/live/s", proto: "flv", want: ProtoFLV, hostport: "127.0.0.1:80"},
		{url: "http://127.0.0.1/live/s", err: ErrConfig},
		{url: "https://127.0.0.1/live/s.flv", err: ErrConfig},
		{url: "ftp://127.0.0.1/x.flv", err: ErrConfig},
		{url: "http://10.0.0.1/live/s.flv", err: ErrRemoteHost},
		{url: "http://example.com/live/s.flv", err: ErrRemoteHost},
		{url: "http://example.com/live/s.flv", remote: true, want: ProtoFLV, hostport: "example.com:80"},
		{url: "/live/s.flv", err: ErrConfig},
	}
	for _, tt := range tests {
		c := Config{URL: tt.url, Protocol: tt.proto, AllowRemote: tt.remote, Viewers: 1, Duration: time.Second}
		got, err := c.validate()
		if tt.err != nil {
			if !errors.Is(err, tt.err) {
				t.Errorf("%s: err %v, want %v", tt.url, err, tt.err)
			}
			continue
		}
		if err != nil || got.proto != tt.want || got.hostport != tt.hostport {
			t.Errorf("%s: %+v, %v; want %s %s", tt.url, got, err, tt.want, tt.hostport)
		}
	}
	for _, c := range []Config{
		{URL: "http://127.0.0.1/s.flv", Viewers: 0, Duration: time.Second},
		{URL: "http://127.0.0.1/s.flv", Viewers: MaxViewers + 1, Duration: time.Second},
		{URL: "http://127.0.0.1/s.flv", Viewers: 1},
		{URL: "http://127.0.0.1/s.flv", Viewers: 1, Duration: time.Second, Ramp: -1},
		{URL: "http://127.0.0.1/s.flv", Viewers: 1, Duration: time.Second, Arrival: "kernal"},
	} {
		if _, err := c.validate(); !errors.Is(err, ErrConfig) {
			t.Errorf("%+v: err %v, want ErrConfig", c, err)
		}
	}
}
