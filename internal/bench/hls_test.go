package bench

import (
	"errors"
	"testing"
	"time"
)

func TestParsePlaylist(t *testing.T) {
	media := "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:41\n" +
		"#EXTINF:2.000,\nseg41.ts\n#EXTINF:2.000,\nseg42.ts?t=1\n\n#EXTINF:1.5,\nhttp://127.0.0.1/x/seg43.ts\n#EXT-X-ENDLIST\n"
	pl, err := parsePlaylist([]byte(media))
	if err != nil {
		t.Fatal(err)
	}
	if pl.targetDuration != 2*time.Second || pl.mediaSequence != 41 || !pl.endList ||
		len(pl.segments) != 3 || pl.segments[1] != "seg42.ts?t=1" || pl.variant != "" {
		t.Fatalf("%+v", pl)
	}

	master := "#EXTM3U\r\n#EXT-X-STREAM-INF:BANDWIDTH=2000000,CODECS=\"avc1.64001f\"\r\nlow/index.m3u8\r\n" +
		"#EXT-X-STREAM-INF:BANDWIDTH=4000000\r\nhigh/index.m3u8\r\n"
	pl, err = parsePlaylist([]byte(master))
	if err != nil || pl.variant != "low/index.m3u8" || len(pl.segments) != 0 {
		t.Fatalf("master: %+v, %v", pl, err)
	}

	for name, in := range map[string]string{
		"empty":        "",
		"no EXTM3U":    "seg.ts\n",
		"bad target":   "#EXTM3U\n#EXT-X-TARGETDURATION:x\n",
		"negative seq": "#EXTM3U\n#EXT-X-MEDIA-SEQUENCE:-1\n",
		"fmp4":         "#EXTM3U\n#EXT-X-MAP:URI=\"init.mp4\"\n",
	} {
		if _, err := parsePlaylist([]byte(in)); !errors.Is(err, errBadPlaylist) {
			t.Errorf("%s: err %v, want errBadPlaylist", name, err)
		}
	}
}
