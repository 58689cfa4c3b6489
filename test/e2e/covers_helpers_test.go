package e2e

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"net/http"
	"testing"
	"time"
)

// coverRoomJSON is the part of a room the cover tests read.
type coverRoomJSON struct {
	ID       string  `json:"id"`
	Status   string  `json:"status"`
	CoverURL *string `json:"cover_url"`
	Play     *struct {
		HLS        string `json:"hls"`
		Renditions []struct {
			Name   string `json:"name"`
			Height int    `json:"height"`
			Width  int    `json:"width"`
			FLV    string `json:"flv"`
			HLS    string `json:"hls"`
			RTMP   string `json:"rtmp"`
		} `json:"renditions"`
	} `json:"play"`
}

// coverRoom fetches a room's cover fields as the holder of token.
func (s *testServer) coverRoom(ctx context.Context, t *testing.T, token, id string) coverRoomJSON {
	t.Helper()
	var r coverRoomJSON
	s.mustCall(ctx, t, http.MethodGet, "/api/v1/rooms/"+id, token, nil, http.StatusOK, &r)
	return r
}

// coverWaitRoom polls a room until cond holds, failing after timeout.
func (s *testServer) coverWaitRoom(ctx context.Context, t *testing.T, token, id, what string, timeout time.Duration, cond func(coverRoomJSON) bool) coverRoomJSON {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		r := s.coverRoom(ctx, t, token, id)
		if cond(r) {
			return r
		}
		if time.Now().After(deadline) {
			cu := "null"
			if r.CoverURL != nil {
				cu = *r.CoverURL
			}
			t.Fatalf("room %s: not %s within %v (status %s, cover_url %s)", id, what, timeout, r.Status, cu)
		}
		time.Sleep(pollInterval)
	}
}

// coverFetch GETs rawURL and returns status, headers and body.
func coverFetch(ctx context.Context, t *testing.T, rawURL string) (int, http.Header, []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", rawURL, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 32<<20))
	if err != nil {
		t.Fatalf("GET %s: %v", rawURL, err)
	}
	return resp.StatusCode, resp.Header, b
}

// coverWaitJPEG polls rawURL until it answers a JPEG, which it returns
// with its size.
func coverWaitJPEG(ctx context.Context, t *testing.T, rawURL string, timeout time.Duration) ([]byte, image.Config, http.Header) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		status, h, b := coverFetch(ctx, t, rawURL)
		if status == http.StatusOK {
			if ct := h.Get("Content-Type"); ct != "image/jpeg" {
				t.Fatalf("GET %s: Content-Type %q", rawURL, ct)
			}
			cfg, err := jpeg.DecodeConfig(bytes.NewReader(b))
			if err != nil {
				t.Fatalf("GET %s: not a JPEG: %v", rawURL, err)
			}
			if _, err := jpeg.Decode(bytes.NewReader(b)); err != nil {
				t.Fatalf("GET %s: JPEG does not decode: %v", rawURL, err)
			}
			return b, cfg, h
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET %s: %d %s, no JPEG within %v", rawURL, status, b, timeout)
		}
		time.Sleep(pollInterval)
	}
}

// coverPut uploads body as a room's cover and returns the answer.
func (s *testServer) coverPut(ctx context.Context, t *testing.T, token, roomID string, body []byte) apiResponse {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, s.httpURL("/api/v1/rooms/"+roomID+"/cover"), bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/octet-stream")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("PUT cover: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return apiResponse{Status: resp.StatusCode, Header: resp.Header, Body: b}
}

// coverPNG is a w×h PNG gradient.
func coverPNG(t *testing.T, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.RGBA{uint8(x), uint8(y), 90, 255})
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// coverBomb is a PNG whose header declares w×h pixels with almost no data.
func coverBomb(w, h uint32) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	chunk := func(typ string, data []byte) {
		_ = binary.Write(&b, binary.BigEndian, uint32(len(data)))
		b.WriteString(typ)
		b.Write(data)
		_ = binary.Write(&b, binary.BigEndian, crc32.ChecksumIEEE(append([]byte(typ), data...)))
	}
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9] = 8, 2
	chunk("IHDR", ihdr)
	chunk("IDAT", []byte{0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01})
	chunk("IEND", nil)
	return b.Bytes()
}

// coverErrorCode returns the code of a JSON error answer.
func coverErrorCode(r apiResponse) string {
	var e struct {
		Error struct {
			Code string `json:"code"`
		} `json:"error"`
	}
	if err := json.Unmarshal(r.Body, &e); err != nil {
		return fmt.Sprintf("(not JSON: %q)", r.Body)
	}
	return e.Error.Code
}
