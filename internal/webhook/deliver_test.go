package webhook

import (
	"strings"
	"testing"
	"time"
)

func TestBackoff(t *testing.T) {
	for _, tc := range []struct {
		min, max time.Duration
		want     [][2]time.Duration // bounds after 1, 2, … failures
	}{
		{time.Second, 10 * time.Minute, [][2]time.Duration{
			{time.Second, 2 * time.Second},
			{2 * time.Second, 4 * time.Second},
			{4 * time.Second, 8 * time.Second},
			8:  {256 * time.Second, 512 * time.Second},
			9:  {5 * time.Minute, 10 * time.Minute},
			40: {5 * time.Minute, 10 * time.Minute},
		}},
		{time.Second, 3 * time.Second, [][2]time.Duration{
			{time.Second, 2 * time.Second},
			{1500 * time.Millisecond, 3 * time.Second},
			5: {1500 * time.Millisecond, 3 * time.Second},
		}},
		{time.Second, time.Second, [][2]time.Duration{{time.Second, time.Second}, 3: {time.Second, time.Second}}},
		{time.Hour, 1<<63 - 1, [][2]time.Duration{70: {(1<<63 - 1) / 2, 1<<63 - 1}}},
	} {
		d := New(nil, Config{MinBackoff: tc.min, MaxBackoff: tc.max}, nil)
		for i, bounds := range tc.want {
			if bounds == [2]time.Duration{} {
				continue
			}
			failures := i + 1
			for range 200 {
				if b := d.backoff(failures); b < bounds[0] || b > bounds[1] {
					t.Fatalf("min %v max %v: backoff(%d) = %v, want in [%v, %v]", tc.min, tc.max, failures, b, bounds[0], bounds[1])
				}
			}
		}
	}
}

func TestStatusText(t *testing.T) {
	long := strings.Repeat("x", excerptLen-1) + "é and more" // é split by the cut
	for _, tc := range []struct {
		status int
		body   string
		want   string
	}{
		{500, "", "HTTP 500 Internal Server Error"},
		{404, "  not\r\n\tfound \x00 here\n", "HTTP 404 Not Found: not found here"},
		{599, "\xffbad", "HTTP 599: \uFFFDbad"},
		{503, long, "HTTP 503 Service Unavailable: " + strings.Repeat("x", excerptLen-1) + "…"},
	} {
		body := []byte(tc.body)
		if len(body) > excerptLen {
			body = body[:excerptLen] // as post reads it
		}
		if got := statusText(tc.status, body); got != tc.want {
			t.Errorf("statusText(%d, %q) = %q, want %q", tc.status, tc.body, got, tc.want)
		}
	}
}

func TestRedact(t *testing.T) {
	for in, want := range map[string]string{
		"https://hooks.example.com/roomcast":               "https://hooks.example.com/roomcast",
		"https://user:pw@hooks.example.com/in?token=abc#x": "https://hooks.example.com/in",
		"http://127.0.0.1:8080/a/b?":                       "http://127.0.0.1:8080/a/b",
		"http://[::1]:%zz/":                                "(invalid URL)",
	} {
		if got := redact(in); got != want {
			t.Errorf("redact(%q) = %q, want %q", in, got, want)
		}
	}
}
