package api

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"roomcast/internal/store"
	"roomcast/internal/store/sqlite"
	"roomcast/internal/user"
)

// testCovers keeps stored covers in the test's real store and says which
// streams have a live cover (the grabber's part, tested in package cover).
type testCovers struct {
	db   *sqlite.DB
	mu   sync.Mutex
	live map[string]bool
}

func (c *testCovers) LiveCover(stream string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.live[stream]
}

func (c *testCovers) RoomCover(ctx context.Context, roomID string, withJPEG bool) (*store.RoomCover, error) {
	return c.db.RoomCover(ctx, roomID, withJPEG)
}

func (c *testCovers) PutRoomCover(ctx context.Context, rc *store.RoomCover) error {
	return c.db.PutRoomCover(ctx, rc)
}

func newCoverEnv(t *testing.T) (*env, *testCovers) {
	covers := &testCovers{live: map[string]bool{}}
	e := newEnv(t, func(o *Options, _ *user.Config) { o.Covers = covers })
	covers.db = e.db // before any request
	return e, covers
}

func pngOf(t *testing.T, w, h int) string {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = uint8(i)
	}
	img.Set(0, 0, color.White)
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

type coverRoom struct {
	Status   string  `json:"status"`
	Stream   string  `json:"stream"`
	CoverURL *string `json:"cover_url"`
}

func TestCoverUploadAndURL(t *testing.T) {
	e, covers := newCoverEnv(t)
	owner, _ := e.register("owner")
	other, _ := e.register("other")
	admin, _ := e.admin("root")
	rm := e.createRoom(owner, "Room", false)
	path := "/api/v1/rooms/" + rm.ID + "/cover"

	var got coverRoom
	e.request("GET", "/api/v1/rooms/"+rm.ID, "", nil).decode(t, &got)
	if got.CoverURL != nil {
		t.Fatalf("new room cover_url = %q", *got.CoverURL)
	}
	expect(t, "no cover yet", e.request("GET", path, "", nil), http.StatusNotFound, "not_found")

	img := pngOf(t, 64, 40)
	for _, tc := range []struct {
		name, token string
		body        string
		status      int
		code        string
	}{
		{"anonymous", "", img, http.StatusUnauthorized, "unauthorized"},
		{"another user", other, img, http.StatusForbidden, "forbidden"},
		{"not an image", owner, "hello", http.StatusUnsupportedMediaType, "cover_not_image"},
		{"truncated", owner, img[:len(img)/2], http.StatusBadRequest, "cover_bad_image"},
		{"too small", owner, pngOf(t, 8, 8), http.StatusBadRequest, "cover_bad_dimensions"},
		{"owner", owner, img, http.StatusOK, ""},
		{"admin", admin, img, http.StatusOK, ""},
	} {
		expect(t, tc.name, e.request("PUT", path, tc.token, tc.body), tc.status, tc.code)
	}
	expect(t, "unknown room", e.request("PUT", "/api/v1/rooms/room_nope/cover", owner, img), http.StatusNotFound, "not_found")

	e.request("GET", "/api/v1/rooms/"+rm.ID, "", nil).decode(t, &got)
	if got.CoverURL == nil || !strings.HasPrefix(*got.CoverURL, "http://live.test:8080"+path+"?v=") {
		t.Fatalf("cover_url after an upload = %v", got.CoverURL)
	}
	r := e.request("GET", strings.TrimPrefix(*got.CoverURL, "http://live.test:8080"), "", nil)
	expect(t, "stored cover", r, http.StatusOK, "")
	if ct := r.Header.Get("Content-Type"); ct != "image/jpeg" {
		t.Fatalf("Content-Type %q", ct)
	}
	if cfg, err := jpeg.DecodeConfig(bytes.NewReader(r.body)); err != nil || cfg.Width != 64 || cfg.Height != 40 {
		t.Fatalf("stored cover %dx%d, %v", cfg.Width, cfg.Height, err)
	}

	// Live with a live cover: cover_url is the live one.
	if _, err := e.rooms.StreamPublished(t.Context(), rm.Stream, time.Now()); err != nil {
		t.Fatal(err)
	}
	covers.mu.Lock()
	covers.live[rm.Stream] = true
	covers.mu.Unlock()
	e.request("GET", "/api/v1/rooms/"+rm.ID, "", nil).decode(t, &got)
	if got.CoverURL == nil || *got.CoverURL != "http://live.test:8080/live/"+rm.Stream+".jpg" {
		t.Fatalf("cover_url while live = %v", got.CoverURL)
	}
}

func TestCoverPrivateRoom(t *testing.T) {
	e, _ := newCoverEnv(t)
	owner, _ := e.register("owner")
	rm := e.createRoom(owner, "Secret", true)
	path := "/api/v1/rooms/" + rm.ID + "/cover"
	expect(t, "upload", e.request("PUT", path, owner, pngOf(t, 32, 32)), http.StatusOK, "")
	var got coverRoom
	e.request("GET", "/api/v1/rooms/"+rm.ID, owner, nil).decode(t, &got)
	if got.CoverURL == nil || !strings.Contains(*got.CoverURL, "txSecret=") {
		t.Fatalf("private cover_url = %v", got.CoverURL)
	}
	expect(t, "anonymous, unsigned", e.request("GET", path, "", nil), http.StatusNotFound, "not_found")
	expect(t, "anonymous, bad signature", e.request("GET", path+"?txSecret=00&txTime=7FFFFFFF", "", nil), http.StatusNotFound, "not_found")
	expect(t, "the owner's session", e.request("GET", path, owner, nil), http.StatusOK, "")
	expect(t, "anonymous with cover_url's signature", e.request("GET", strings.TrimPrefix(*got.CoverURL, "http://live.test:8080"), "", nil), http.StatusOK, "")
}

func TestCoversOff(t *testing.T) {
	e := newEnv(t)
	owner, _ := e.register("owner")
	rm := e.createRoom(owner, "Room", false)
	expect(t, "PUT without covers", e.request("PUT", "/api/v1/rooms/"+rm.ID+"/cover", owner, pngOf(t, 32, 32)), http.StatusNotFound, "not_found")
	expect(t, "GET without covers", e.request("GET", "/api/v1/rooms/"+rm.ID+"/cover", "", nil), http.StatusNotFound, "not_found")
}
