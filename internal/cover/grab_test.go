package cover

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"roomcast/internal/media"
	"roomcast/internal/transcode"
)

func TestGrabRealFFmpeg(t *testing.T) {
	m := ffmpegManager(t)
	conf, key := configAndKey(t, encodeFLV(t, "320x240", "5"))
	pic, err := Grab(context.Background(), m, transcode.KindCover, conf, key)
	if err != nil {
		t.Fatal(err)
	}
	if pic.Width != 320 || pic.Height != 240 {
		t.Fatalf("cover is %dx%d, want 320x240", pic.Width, pic.Height)
	}
	if st := m.Stats()[transcode.KindCover]; st.CPU <= 0 {
		t.Fatalf("no CPU counted for the grab: %+v", st)
	}
}

func TestKeyframeAnnexBErrors(t *testing.T) {
	conf, key := configAndKey(t, encodeFLV(t, "64x48", "1"))
	if _, _, err := keyframeAnnexB(nil, key); !errors.Is(err, ErrUnsupported) {
		t.Fatalf("no config: %v", err)
	}
	other := *conf
	other.Codec = media.CodecOther
	if _, _, err := keyframeAnnexB(&other, key); !errors.Is(err, ErrUnsupported) {
		t.Fatalf("other codec: %v", err)
	}
	es, format, err := keyframeAnnexB(conf, key)
	if err != nil || format != "h264" || !slices.Equal(es[:4], startCode) {
		t.Fatalf("keyframeAnnexB = %d bytes, %q, %v", len(es), format, err)
	}
}

// TestGrabArgsHoldNoUserInput checks the grab's ffmpeg arguments are
// constants: they pass transcode.CheckArgs and name no stream.
func TestGrabArgsHoldNoUserInput(t *testing.T) {
	for _, f := range []string{"h264", "hevc"} {
		args := grabArgs(f)
		if err := transcode.CheckArgs(args); err != nil {
			t.Fatalf("grabArgs(%q) refused: %v", f, err)
		}
		if !slices.Equal(args, grabArgs(f)) {
			t.Fatal("grabArgs is not constant")
		}
		for _, a := range args {
			if strings.Contains(a, "live") || strings.Contains(a, "/") {
				t.Fatalf("argument %q looks like a name or a path", a)
			}
		}
	}
}
