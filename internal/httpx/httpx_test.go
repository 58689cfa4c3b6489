package httpx

import (
	"net/http/httptest"
	"strings"
	"testing"
)

func TestClientIP(t *testing.T) {
	tests := []struct {
		name   string
		remote string
		xff    []string
		trust  bool
		want   string
	}{
		{"connection", "192.0.2.1:5000", nil, false, "192.0.2.1"},
		{"forwarded header ignored without trust", "192.0.2.1:5000", []string{"198.51.100.7"}, false, "192.0.2.1"},
		{"last entry behind a proxy", "127.0.0.1:5000", []string{"203.0.113.9, 198.51.100.7"}, true, "198.51.100.7"},
		{"last header behind a proxy", "127.0.0.1:5000", []string{"203.0.113.9", "198.51.100.8"}, true, "198.51.100.8"},
		{"garbage falls back to the connection", "127.0.0.1:5000", []string{"not-an-ip"}, true, "127.0.0.1"},
		{"IPv6", "[2001:db8::1]:443", nil, true, "2001:db8::1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = tt.remote
			for _, v := range tt.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			if got := ClientIP(r, tt.trust); got != tt.want {
				t.Fatalf("ClientIP = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestWriteJSONKeepsAmpersands(t *testing.T) {
	w := httptest.NewRecorder()
	WriteJSON(w, 200, map[string]string{"url": "rtmp://h/live/s?txSecret=a&txTime=B"})
	if !strings.Contains(w.Body.String(), "txSecret=a&txTime=B") {
		t.Fatalf("body %s", w.Body)
	}
}
