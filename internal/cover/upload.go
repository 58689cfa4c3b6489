package cover

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"io"

	"golang.org/x/image/draw"
	"golang.org/x/image/webp"
)

// Limits of an uploaded cover.
const (
	// MaxUploadBytes bounds an uploaded image's size.
	MaxUploadBytes = 5 << 20
	// MinSide and MaxSide bound each side of an uploaded image in pixels.
	MinSide = 16
	MaxSide = 8192
	// MaxPixels bounds width × height, checked from the header before any
	// decoding (a "decompression bomb" declares a huge picture in a small
	// file).
	MaxPixels = 1 << 24
	// StoredMaxSide is the longest side of a stored cover; larger uploads
	// are scaled down.
	StoredMaxSide = 1920
	// jpegQuality is the quality of re-encoded covers.
	jpegQuality = 85
)

// UploadError is why an uploaded cover was refused. Code is stable and
// goes into the API's error JSON.
type UploadError struct {
	// Code is one of cover_too_large, cover_not_image, cover_bad_image,
	// cover_bad_dimensions.
	Code    string
	Message string
	err     error
}

// Error returns the message, with the decoder's error if there is one.
func (e *UploadError) Error() string {
	if e.err != nil {
		return e.Message + ": " + e.err.Error()
	}
	return e.Message
}

// Unwrap returns the underlying decoder error, if any.
func (e *UploadError) Unwrap() error { return e.err }

// Upload error codes.
const (
	CodeTooLarge      = "cover_too_large"
	CodeNotImage      = "cover_not_image"
	CodeBadImage      = "cover_bad_image"
	CodeBadDimensions = "cover_bad_dimensions"
)

// Image formats Sniff recognises.
const (
	FormatJPEG = "jpeg"
	FormatPNG  = "png"
	FormatWebP = "webp"
)

// Sniff returns the image format of data from its magic bytes ("jpeg",
// "png", "webp"), or "" for anything else.
func Sniff(data []byte) string {
	switch {
	case len(data) >= 3 && data[0] == 0xFF && data[1] == 0xD8 && data[2] == 0xFF:
		return FormatJPEG
	case len(data) >= 8 && string(data[:8]) == "\x89PNG\r\n\x1a\n":
		return FormatPNG
	case len(data) >= 12 && string(data[:4]) == "RIFF" && string(data[8:12]) == "WEBP":
		return FormatWebP
	}
	return ""
}

type codec struct {
	config func(io.Reader) (image.Config, error)
	decode func(io.Reader) (image.Image, error)
}

var codecs = map[string]codec{
	FormatJPEG: {jpeg.DecodeConfig, jpeg.Decode},
	FormatPNG:  {png.DecodeConfig, png.Decode},
	FormatWebP: {webp.DecodeConfig, webp.Decode},
}

// Sanitize checks an uploaded cover and returns it re-encoded as a JPEG
// (scaled down to StoredMaxSide), so that none of the uploaded bytes are
// served. It checks, in order: the size (MaxUploadBytes), the format
// (JPEG, PNG or WebP by magic bytes), the declared dimensions (before any
// pixel is decoded), then decodes the whole image (a truncated or corrupt
// file fails here). Every refusal is an *UploadError.
func Sanitize(data []byte) (Picture, error) {
	if len(data) > MaxUploadBytes {
		return Picture{}, &UploadError{Code: CodeTooLarge, Message: fmt.Sprintf("the image is larger than %d bytes", MaxUploadBytes)}
	}
	format := Sniff(data)
	c, ok := codecs[format]
	if !ok {
		return Picture{}, &UploadError{Code: CodeNotImage, Message: "not a JPEG, PNG or WebP image"}
	}
	cfg, err := c.config(bytes.NewReader(data))
	if err != nil {
		return Picture{}, &UploadError{Code: CodeBadImage, Message: "the " + format + " header cannot be read", err: err}
	}
	if cfg.Width < MinSide || cfg.Height < MinSide || cfg.Width > MaxSide || cfg.Height > MaxSide || cfg.Width*cfg.Height > MaxPixels {
		return Picture{}, &UploadError{Code: CodeBadDimensions, Message: fmt.Sprintf(
			"the image is %dx%d; each side must be %d to %d pixels and the whole at most %d pixels",
			cfg.Width, cfg.Height, MinSide, MaxSide, MaxPixels)}
	}
	img, err := c.decode(bytes.NewReader(data))
	if err != nil {
		return Picture{}, &UploadError{Code: CodeBadImage, Message: "the " + format + " image cannot be decoded (truncated or corrupt)", err: err}
	}
	b := img.Bounds()
	if b.Dx() != cfg.Width || b.Dy() != cfg.Height {
		return Picture{}, &UploadError{Code: CodeBadImage, Message: "the image's header and pixels disagree"}
	}
	pic, err := EncodeJPEG(img, StoredMaxSide)
	if err != nil {
		return Picture{}, fmt.Errorf("re-encode cover: %w", err)
	}
	return pic, nil
}

// EncodeJPEG encodes img as a JPEG, first scaling it down so that its
// longest side is at most maxSide.
func EncodeJPEG(img image.Image, maxSide int) (Picture, error) {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	if w > maxSide || h > maxSide {
		if w >= h {
			w, h = maxSide, max(1, h*maxSide/w)
		} else {
			w, h = max(1, w*maxSide/h), maxSide
		}
		dst := image.NewRGBA(image.Rect(0, 0, w, h))
		draw.ApproxBiLinear.Scale(dst, dst.Bounds(), img, b, draw.Src, nil)
		img = dst
	}
	var out bytes.Buffer
	if err := jpeg.Encode(&out, img, &jpeg.Options{Quality: jpegQuality}); err != nil {
		return Picture{}, err
	}
	return Picture{JPEG: out.Bytes(), Width: w, Height: h}, nil
}

// IsUploadError reports whether err is an *UploadError and returns it.
func IsUploadError(err error) (*UploadError, bool) {
	var ue *UploadError
	ok := errors.As(err, &ue)
	return ue, ok
}
