package flv

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"roomcast/internal/media"
)

// FuzzReader feeds arbitrary bytes to the Reader. It checks that the Reader
// never panics, that it never returns a tag larger than its limit, and that
// every tag it accepts survives a round trip through AppendTag.
func FuzzReader(f *testing.F) {
	seed := AppendHeader(nil, true, true)
	seed = AppendTag(seed, media.TagScript, 0, []byte{2, 0, 10, 'o', 'n', 'M', 'e', 't', 'a', 'D', 'a', 't', 'a'})
	seed = AppendTag(seed, media.TagVideo, 0, []byte{0x17, 0, 0, 0, 0, 1, 0x64, 0, 0x1f})
	seed = AppendTag(seed, media.TagAudio, 23, []byte{0xAF, 1, 0x21})
	seed = AppendTag(seed, media.TagVideo, 0x01000000, []byte{0x27, 1, 0, 0, 0x28})
	f.Add(seed)
	f.Add(AppendHeader(nil, false, false))
	f.Add([]byte("FLV"))

	const limit = 1 << 16
	f.Fuzz(func(t *testing.T, in []byte) {
		r := NewReader(bytes.NewReader(in), limit)
		if _, _, err := r.ReadHeader(); err != nil {
			return
		}
		var out []byte
		var tags []*Tag
		for {
			tg, err := r.ReadTag()
			if err != nil {
				if err != io.EOF && errors.Is(err, io.EOF) {
					t.Fatalf("io.EOF wrapped: %v", err)
				}
				break
			}
			if len(tg.Data) > limit {
				t.Fatalf("tag of %d bytes over limit", len(tg.Data))
			}
			tags = append(tags, tg)
			out = AppendTag(out, tg.Type, int64(tg.Timestamp), tg.Data)
		}
		r2 := NewReader(bytes.NewReader(out), limit)
		for i, want := range tags {
			got, err := r2.ReadTag()
			if err != nil {
				t.Fatalf("re-read tag %d: %v", i, err)
			}
			if got.Type != want.Type || got.Timestamp != want.Timestamp || !bytes.Equal(got.Data, want.Data) {
				t.Fatalf("tag %d changed in round trip", i)
			}
		}
		if _, err := r2.ReadTag(); err != io.EOF {
			t.Fatalf("re-read end: %v", err)
		}
	})
}
