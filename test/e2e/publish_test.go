package e2e

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"roomcast/internal/protocol/rtmp"
)

// RTMP status codes of refusals.
const (
	codeBadName         = "NetStream.Publish.BadName"
	codeConnectRejected = "NetConnection.Connect.Rejected"
)

// rtmpPublish connects to url and publishes, returning the first error; on
// success the publisher stays connected until the returned client is closed.
func rtmpPublish(ctx context.Context, url string) (*rtmp.Client, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	c, err := rtmp.Dial(ctx, url)
	if err != nil {
		return nil, err
	}
	if err := c.Publish(ctx); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// checkRefused checks that err is an RTMP refusal with the given code.
func checkRefused(t *testing.T, err error, code string) {
	t.Helper()
	if err == nil {
		t.Fatalf("accepted, want refusal %s", code)
	}
	var se *rtmp.StatusError
	if !errors.As(err, &se) {
		t.Fatalf("error %v (%T), want *rtmp.StatusError with code %s", err, err, code)
	}
	if se.Code != code {
		t.Fatalf("refused with code %q (%q), want %s", se.Code, se.Description, code)
	}
	t.Logf("refused as expected: %s: %s", se.Code, se.Description)
}

// TestSecondPublisherRefused checks that a stream keeps its first publisher:
// a second one is refused with NetStream.Publish.BadName (the RTMP client
// sees the status, ffmpeg exits non-zero) while the first keeps streaming to
// its viewers.
func TestSecondPublisherRefused(t *testing.T) {
	srv := startServer(t)
	name := streamName("second")
	first := startPublisher(t, srv.rtmpURL(name))
	before := srv.waitLive(t, name)
	viewer := startFLVViewer(t, srv.flvURL(name))
	ctx := testContext(t)

	t.Run("rtmp client", func(t *testing.T) {
		c, err := rtmpPublish(ctx, srv.rtmpURL(name))
		if c != nil {
			c.Close()
		}
		checkRefused(t, err, codeBadName)
	})

	t.Run("ffmpeg", func(t *testing.T) {
		second := startPublisher(t, srv.rtmpURL(name))
		err, exited := second.waitExit(20 * time.Second)
		if !exited {
			t.Fatalf("second ffmpeg publisher still running after 20 s")
		}
		if err == nil {
			t.Fatalf("second ffmpeg publisher exited with status 0, want a failure; stderr:\n%s", second.stderr)
		}
		t.Logf("second ffmpeg publisher exited: %v; stderr:\n%s", err, second.stderr)
	})

	// The first publisher is untouched and its viewer keeps playing.
	if !first.running() {
		t.Fatalf("first publisher exited: %v", first.err)
	}
	after := srv.waitStats(t, name, "receiving more data from the first publisher", 10*time.Second, func(st streamStats, found bool) bool {
		return found && st.Live && st.BytesIn > before.BytesIn+50_000
	})
	if before.Publisher == nil || after.Publisher == nil || before.Publisher.RemoteAddr != after.Publisher.RemoteAddr {
		t.Errorf("publisher changed: before %v, after %v", before, after)
	}
	viewer.waitFrames(t, time.Now(), 25, 10*time.Second)
}

// TestStreamNames checks which application and stream names publishers may
// use.
func TestStreamNames(t *testing.T) {
	srv := startServer(t)
	ctx := testContext(t)
	cases := []struct {
		name     string
		app      string
		stream   string
		wantCode string // "" means accepted
	}{
		{name: "valid", app: "live", stream: streamName("valid_Name")},
		{name: "128 characters", app: "live", stream: strings.Repeat("x", 128)},
		{name: "dot", app: "live", stream: "bad.name", wantCode: codeBadName},
		{name: "200 characters", app: "live", stream: strings.Repeat("a", 200), wantCode: codeBadName},
		{name: "unknown app", app: "other", stream: streamName("x"), wantCode: codeConnectRejected},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			url := "rtmp://" + srv.rtmpAddr + "/" + tc.app + "/" + tc.stream
			c, err := rtmpPublish(ctx, url)
			if tc.wantCode != "" {
				if c != nil {
					c.Close()
				}
				checkRefused(t, err, tc.wantCode)
				return
			}
			if err != nil {
				t.Fatalf("publish to %s: %v", url, err)
			}
			defer c.Close()
			srv.waitStats(t, tc.stream, "live", 5*time.Second, func(st streamStats, found bool) bool {
				return found && st.Live
			})
		})
	}
}
