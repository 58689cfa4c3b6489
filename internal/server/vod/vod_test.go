package vod

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"roomcast/internal/hub"
	"roomcast/internal/record"
	"roomcast/internal/store"
)

type fakeStore map[string]store.Recording

func (f fakeStore) RecordingByID(_ context.Context, id string) (*store.Recording, error) {
	r, ok := f[id]
	if !ok {
		return nil, store.ErrNotFound
	}
	return &r, nil
}

var errDenied = errors.New("denied")

// newTestServer serves a ready public recording "rec_pub", a ready
// private one "rec_priv" (its query must carry txSecret=ok) and one still
// being recorded, "rec_live".
func newTestServer(t *testing.T) *httptest.Server {
	t.Helper()
	dir := t.TempDir()
	rec := record.New(hub.New(hub.Config{}, nil), record.Config{Dir: dir}, nil, nil)
	st := fakeStore{
		"rec_pub":  {ID: "rec_pub", RoomID: "room_a", Status: store.RecordingReady},
		"rec_priv": {ID: "rec_priv", RoomID: "room_b", Status: store.RecordingReady},
		"rec_live": {ID: "rec_live", RoomID: "room_a", Status: store.RecordingActive},
	}
	for id, r := range st {
		d := filepath.Join(dir, r.RoomID, id)
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		pl := "#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2.000,\n0.ts\n#EXT-X-ENDLIST\n"
		if err := os.WriteFile(filepath.Join(d, "index.m3u8"), []byte(pl), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(d, "0.ts"), make([]byte, 188*10), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// A file next to the recordings that no URL may reach.
	if err := os.WriteFile(filepath.Join(dir, "secret"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	s := New(Config{
		Store: st,
		Paths: rec,
		Authorize: func(_ context.Context, r *store.Recording, q url.Values) (bool, error) {
			if r.ID == "rec_priv" {
				if q.Get("txSecret") != "ok" {
					return true, errDenied
				}
				return true, nil
			}
			return false, nil
		},
		Denied: func(w http.ResponseWriter, err error) { w.WriteHeader(http.StatusForbidden) },
	})
	mux := http.NewServeMux()
	s.Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func do(t *testing.T, method, rawURL string, hdr ...string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, rawURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func TestServe(t *testing.T) {
	srv := newTestServer(t)
	for _, c := range []struct {
		method, path string
		hdr          []string
		status       int
		header       map[string]string
		body         string // substring
	}{
		{"GET", "/vod/rec_pub/index.m3u8", nil, 200, map[string]string{
			"Content-Type": playlistType, "Cache-Control": readyCache, "Access-Control-Allow-Origin": "*"}, "\n0.ts\n"},
		{"HEAD", "/vod/rec_pub/index.m3u8", nil, 200, nil, ""},
		{"GET", "/vod/rec_live/index.m3u8", nil, 200, map[string]string{"Cache-Control": activeCache}, ""},
		{"GET", "/vod/rec_pub/0.ts", []string{"Range", "bytes=188-375"}, 206, map[string]string{
			"Content-Type": segmentType, "Cache-Control": segmentCache, "Content-Range": "bytes 188-375/1880"}, ""},
		{"OPTIONS", "/vod/rec_pub/0.ts", nil, 204, map[string]string{"Access-Control-Allow-Origin": "*"}, ""},
		{"POST", "/vod/rec_pub/0.ts", nil, 405, nil, ""},
		{"GET", "/vod/rec_priv/index.m3u8", nil, 403, nil, ""},
		{"GET", "/vod/rec_priv/0.ts?txSecret=bad", nil, 403, nil, ""},
		{"GET", "/vod/rec_priv/index.m3u8?txSecret=ok&txTime=1&x=y", nil, 200, map[string]string{
			"Cache-Control": "private, max-age=60"}, "\n0.ts?txSecret=ok&txTime=1\n"},
		{"GET", "/vod/rec_priv/0.ts?txSecret=ok", nil, 200, map[string]string{"Cache-Control": "private, max-age=31536000, immutable"}, ""},
		// Unknown and malformed ids and files, and traversal attempts.
		{"GET", "/vod/rec_nope/index.m3u8", nil, 404, nil, ""},
		{"GET", "/vod/rec_pub/1.ts", nil, 404, nil, ""},
		{"GET", "/vod/rec_pub/index.m3u8.tmp", nil, 404, nil, ""},
		{"GET", "/vod/rec_pub/secret", nil, 404, nil, ""},
		{"GET", "/vod/rec_pub/..%2f..%2fsecret", nil, 404, nil, ""},
		{"GET", "/vod/..%2f..%2fsecret/index.m3u8", nil, 404, nil, ""},
		{"GET", "/vod/%2e%2e/index.m3u8", nil, 404, nil, ""},
		{"GET", "/vod/rec.pub/index.m3u8", nil, 404, nil, ""},
		{"GET", "/vod/rec_pub", nil, 404, nil, ""},
		{"GET", "/vod/rec_pub/a/b", nil, 404, nil, ""},
	} {
		resp, body := do(t, c.method, srv.URL+c.path, c.hdr...)
		if resp.StatusCode != c.status {
			t.Errorf("%s %s: %d, want %d (%s)", c.method, c.path, resp.StatusCode, c.status, body)
			continue
		}
		for k, v := range c.header {
			if got := resp.Header.Get(k); got != v {
				t.Errorf("%s %s: %s %q, want %q", c.method, c.path, k, got, v)
			}
		}
		if !strings.Contains(body, c.body) {
			t.Errorf("%s %s: body %q lacks %q", c.method, c.path, body, c.body)
		}
	}
}
