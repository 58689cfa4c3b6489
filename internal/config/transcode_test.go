package config

import (
	"io"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestTranscodeFlags(t *testing.T) {
	c, err := Load("serve", nil, env(nil), io.Discard)
	if err != nil || c.Transcode.FFmpeg != "ffmpeg" || c.Transcode.MaxTranscodes != 32 ||
		c.Transcode.CoverInterval != 10*time.Second || len(c.Transcode.ABRLadder) != 0 {
		t.Fatalf("defaults %+v, %v", c.Transcode, err)
	}
	c, err = Load("serve", []string{"-abr-ladder", "720p, 360p", "-cover-interval", "5s", "-max-transcodes", "0"},
		env(map[string]string{"ROOMCAST_FFMPEG": "/opt/ffmpeg"}), io.Discard)
	if err != nil || !slices.Equal(c.Transcode.ABRLadder, []string{"720p", "360p"}) || c.Transcode.CoverInterval != 5*time.Second ||
		c.Transcode.MaxTranscodes != 0 || c.Transcode.FFmpeg != "/opt/ffmpeg" {
		t.Fatalf("%+v, %v", c.Transcode, err)
	}
	for _, tt := range []struct {
		args []string
		key  string
	}{
		{[]string{"-abr-ladder", "720p,999p"}, "abr-ladder"},
		{[]string{"-abr-ladder", "360p,360p"}, "abr-ladder"},
		{[]string{"-cover-interval", "100ms"}, "cover-interval"},
		{[]string{"-cover-interval", "2h"}, "cover-interval"},
		{[]string{"-max-transcodes", "-1"}, "max-transcodes"},
		{[]string{"-ffmpeg", ""}, "ffmpeg"},
	} {
		_, err := Load("serve", tt.args, env(nil), io.Discard)
		if err == nil || !strings.Contains(err.Error(), tt.key) {
			t.Errorf("%v: err = %v, want one naming %s", tt.args, err, tt.key)
		}
	}
}
