package e2e

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"roomcast/internal/web"
)

// The root path serves the embedded web app, and its client-side routes
// fall back to index.html, without shadowing the API or the media paths.
// A binary built without the app (go test on a fresh clone) says so and
// lists the URLs to use instead.
func TestRootPage(t *testing.T) {
	srv := startServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	h, err := web.New(web.Options{FS: web.Dist()})
	if err != nil {
		t.Fatal(err)
	}
	root, resp, err := httpGet(ctx, srv.httpURL("/"))
	if err != nil {
		t.Fatal(err)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
		t.Fatalf("GET / Content-Type %q", ct)
	}
	if h.Built() {
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(root), "<div id=\"app\"") {
			t.Fatalf("GET / (app built): %s\n%s", resp.Status, root)
		}
	} else if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(root), "make web") ||
		!strings.Contains(string(root), "rtmp://"+srv.rtmpAddr+"/live/STREAM") ||
		!strings.Contains(string(root), "http://"+srv.httpAddr+"/live/STREAM.flv") {
		t.Fatalf("GET / (app not built): %s\n%s", resp.Status, root)
	}
	for _, p := range []string{"/room/room_x", "/studio", "/admin", "/login"} {
		body, r, err := httpGet(ctx, srv.httpURL(p))
		if err != nil {
			t.Fatal(err)
		}
		if r.StatusCode != resp.StatusCode || string(body) != string(root) {
			t.Errorf("GET %s: %s, not the root page", p, r.Status)
		}
	}
	for _, p := range []string{"/api/v1/nope", "/live/a/b/c", "/vod/x/y/z"} {
		body, r, err := httpGet(ctx, srv.httpURL(p))
		if err != nil {
			t.Fatal(err)
		}
		if r.StatusCode != http.StatusNotFound || !strings.Contains(string(body), `"code":"not_found"`) {
			t.Errorf("GET %s: %s %s", p, r.Status, body)
		}
	}
}
