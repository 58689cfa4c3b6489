package web

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"
)

func get(t *testing.T, h http.Handler, method, target string) *http.Response {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(method, target, nil))
	return rec.Result()
}

func body(t *testing.T, r *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(r.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestBuiltApp(t *testing.T) {
	fsys := fstest.MapFS{
		"index.html":          {Data: []byte("<!doctype html><title>app</title>")},
		"assets/main-abc.js":  {Data: []byte("console.log(1)")},
		"assets/main-abc.css": {Data: []byte("body{}")},
		"favicon.svg":         {Data: []byte("<svg/>")},
		".gitkeep":            {Data: []byte("keep")},
	}
	h, err := New(Options{FS: fsys, Reserved: []string{"/api/", "/live/", "/vod/", "/debug/"}})
	if err != nil {
		t.Fatal(err)
	}
	if !h.Built() {
		t.Fatal("Built() = false with an index.html")
	}
	for _, tc := range []struct {
		method, path string
		status       int
		cache        string
		contains     string
	}{
		{"GET", "/", 200, cacheNone, "<title>app</title>"},
		{"HEAD", "/", 200, cacheNone, ""},
		{"GET", "/index.html", 200, cacheNone, "<title>app</title>"},
		{"GET", "/room/room_abc", 200, cacheNone, "<title>app</title>"},
		{"GET", "/studio", 200, cacheNone, "<title>app</title>"},
		{"GET", "/admin?tab=users", 200, cacheNone, "<title>app</title>"},
		{"GET", "/login", 200, cacheNone, "<title>app</title>"},
		{"GET", "/assets/main-abc.js", 200, cacheImmutable, "console.log"},
		{"GET", "/assets/main-abc.css", 200, cacheImmutable, "body{}"},
		{"GET", "/favicon.svg", 200, cacheShort, "<svg/>"},
		{"GET", "/assets/old-123.js", 404, cacheNone, "not found"},
		{"GET", "/missing.png", 404, cacheNone, "not found"},
		{"GET", "/.gitkeep", 404, cacheNone, "not found"},
		{"GET", "/assets", 404, cacheNone, "not found"},
		{"GET", "/api/v1/nope", 404, "no-store", `"code":"not_found"`},
		{"GET", "/api", 404, "no-store", `"code":"not_found"`},
		{"GET", "/live/a/b/c", 404, "no-store", `"code":"not_found"`},
		{"GET", "/vod/x/y/z", 404, "no-store", `"code":"not_found"`},
		{"GET", "/debug/pprof/", 404, "no-store", `"code":"not_found"`},
		{"POST", "/", 405, "", "method not allowed"},
	} {
		r := get(t, h, tc.method, tc.path)
		b := body(t, r)
		if r.StatusCode != tc.status || r.Header.Get("Cache-Control") != tc.cache || !strings.Contains(b, tc.contains) {
			t.Errorf("%s %s = %d, Cache-Control %q, body %q; want %d, %q, containing %q",
				tc.method, tc.path, r.StatusCode, r.Header.Get("Cache-Control"), b, tc.status, tc.cache, tc.contains)
		}
	}
	if ct := get(t, h, "GET", "/room/x").Header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
		t.Errorf("client route Content-Type %q", ct)
	}
	if ct := get(t, h, "GET", "/assets/main-abc.js").Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/javascript") {
		t.Errorf("script Content-Type %q", ct)
	}
	if r := get(t, h, "POST", "/"); r.Header.Get("Allow") != "GET, HEAD" {
		t.Errorf("405 Allow %q", r.Header.Get("Allow"))
	}
}

func TestNotBuilt(t *testing.T) {
	h, err := New(Options{FS: fstest.MapFS{".gitkeep": {Data: []byte("keep")}}, NotBuilt: "play: <rtmp://x/live/STREAM>"})
	if err != nil {
		t.Fatal(err)
	}
	if h.Built() {
		t.Fatal("Built() = true without index.html")
	}
	for _, p := range []string{"/", "/room/x", "/assets/main.js"} {
		r := get(t, h, "GET", p)
		b := body(t, r)
		if r.StatusCode != http.StatusServiceUnavailable || !strings.Contains(b, "make web") ||
			!strings.Contains(b, "play: &lt;rtmp://x/live/STREAM&gt;") {
			t.Errorf("GET %s = %d %q", p, r.StatusCode, b)
		}
	}
}

func TestEmbeddedDist(t *testing.T) {
	// The placeholder is committed, so the embedded tree always exists.
	h, err := New(Options{FS: Dist()})
	if err != nil {
		t.Fatal(err)
	}
	r := get(t, h, "GET", "/")
	if h.Built() != (r.StatusCode == http.StatusOK) {
		t.Fatalf("Built() = %v but GET / = %d", h.Built(), r.StatusCode)
	}
}

func TestNewNeedsFS(t *testing.T) {
	if _, err := New(Options{}); err == nil {
		t.Fatal("New without FS succeeded")
	}
}
