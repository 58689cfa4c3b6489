package e2e

import (
	"context"
	"strings"
	"testing"
	"time"
)

// The root page lists the URLs to use, as `make run` promises.
func TestRootPage(t *testing.T) {
	srv := startServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	body, resp, err := httpGet(ctx, srv.httpURL("/"))
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || !strings.Contains(string(body), "rtmp://"+srv.rtmpAddr+"/live/STREAM") ||
		!strings.Contains(string(body), "http://"+srv.httpAddr+"/live/STREAM.flv") {
		t.Fatalf("GET /: %s\n%s", resp.Status, body)
	}
}
