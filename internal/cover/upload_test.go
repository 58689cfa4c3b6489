package cover

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"image/jpeg"
	"image/png"
	"os"
	"testing"
)

func pngBytes(t testing.TB, w, h int) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, gradient(w, h)); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func jpegBytes(t testing.TB, w, h int) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := jpeg.Encode(&b, gradient(w, h), nil); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// pngBomb is a valid PNG signature and IHDR declaring w×h pixels, with a
// few bytes of data: what a decompression bomb looks like before decoding.
func pngBomb(w, h uint32) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9] = 8, 2 // 8-bit RGB
	chunk := func(typ string, data []byte) {
		binary.Write(&b, binary.BigEndian, uint32(len(data)))
		b.WriteString(typ)
		b.Write(data)
		crc := crc32.NewIEEE()
		crc.Write([]byte(typ))
		crc.Write(data)
		binary.Write(&b, binary.BigEndian, crc.Sum32())
	}
	chunk("IHDR", ihdr)
	chunk("IDAT", []byte{0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01})
	chunk("IEND", nil)
	return b.Bytes()
}

func TestSanitize(t *testing.T) {
	webp, err := os.ReadFile("testdata/cover.webp")
	if err != nil {
		t.Fatal(err)
	}
	good := []struct {
		name string
		data []byte
		w, h int
	}{
		{"png", pngBytes(t, 64, 48), 64, 48},
		{"jpeg", jpegBytes(t, 100, 50), 100, 50},
		{"webp", webp, 64, 48},
		{"large png scaled down", pngBytes(t, 3840, 100), 1920, 50},
	}
	for _, tc := range good {
		pic, err := Sanitize(tc.data)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		cfg, err := jpeg.DecodeConfig(bytes.NewReader(pic.JPEG))
		if err != nil || cfg.Width != tc.w || cfg.Height != tc.h || pic.Width != tc.w || pic.Height != tc.h {
			t.Errorf("%s: stored %dx%d (%v), want a %dx%d JPEG", tc.name, cfg.Width, cfg.Height, err, tc.w, tc.h)
		}
		if bytes.Equal(pic.JPEG, tc.data) {
			t.Errorf("%s: the upload is stored as it came", tc.name)
		}
	}
	full := pngBytes(t, 64, 48)
	bad := []struct {
		name, code string
		data       []byte
	}{
		{"empty", CodeNotImage, nil},
		{"text", CodeNotImage, []byte("hello, this is not an image")},
		{"gif", CodeNotImage, []byte("GIF89a\x01\x00\x01\x00")},
		{"truncated png", CodeBadImage, full[:len(full)/2]},
		{"truncated jpeg", CodeBadImage, jpegBytes(t, 64, 48)[:200]},
		{"header only", CodeBadImage, full[:20]},
		{"bomb", CodeBadDimensions, pngBomb(100000, 100000)},
		{"bomb within sides", CodeBadDimensions, pngBomb(8000, 8000)},
		{"tiny", CodeBadDimensions, pngBytes(t, 4, 4)},
		{"oversized", CodeTooLarge, append(pngBytes(t, 16, 16), make([]byte, MaxUploadBytes)...)},
	}
	for _, tc := range bad {
		_, err := Sanitize(tc.data)
		ue, ok := IsUploadError(err)
		if !ok || ue.Code != tc.code {
			t.Errorf("%s: Sanitize = %v, want code %s", tc.name, err, tc.code)
		}
	}
}

func FuzzSanitize(f *testing.F) {
	f.Add(pngBytes(f, 16, 16))
	f.Add(jpegBytes(f, 16, 16))
	f.Add(pngBomb(100000, 100000))
	if webp, err := os.ReadFile("testdata/cover.webp"); err == nil {
		f.Add(webp)
	} else {
		f.Fatal(err)
	}
	f.Add([]byte("RIFF\x00\x00\x00\x00WEBPVP8 "))
	f.Fuzz(func(t *testing.T, data []byte) {
		pic, err := Sanitize(data)
		if err != nil {
			if _, ok := IsUploadError(err); !ok {
				t.Fatalf("refusal without an UploadError: %v", err)
			}
			return
		}
		if Sniff(data) == "" {
			t.Fatal("accepted data of no known format")
		}
		cfg, err := jpeg.DecodeConfig(bytes.NewReader(pic.JPEG))
		if err != nil || cfg.Width > StoredMaxSide || cfg.Height > StoredMaxSide {
			t.Fatalf("stored %dx%d, %v", cfg.Width, cfg.Height, err)
		}
	})
}
