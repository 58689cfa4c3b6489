package hls

import (
	"net/http/httptest"
	"testing"
)

func TestWithQuery(t *testing.T) {
	body := []byte("#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2.000,\ns/t-1.ts\n#EXTINF:2.000,\ns/t-2.ts\n")
	got := string(withQuery(body, "txSecret=ab&txTime=5C"))
	want := "#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2.000,\ns/t-1.ts?txSecret=ab&txTime=5C\n#EXTINF:2.000,\ns/t-2.ts?txSecret=ab&txTime=5C\n"
	if got != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
	ll := []byte("#EXT-X-PART:DURATION=0.240,URI=\"s/t-3.0.ts\",INDEPENDENT=YES\n#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"s/t-3.1.ts\"\n")
	if got, want := string(withQuery(ll, "txSecret=ab")), "#EXT-X-PART:DURATION=0.240,URI=\"s/t-3.0.ts?txSecret=ab\",INDEPENDENT=YES\n#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"s/t-3.1.ts?txSecret=ab\"\n"; got != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
	for url, want := range map[string]string{
		"/live/s.m3u8":                           "",
		"/live/s.m3u8?x=1":                       "",
		"/live/s.m3u8?txSecret=ab&txTime=5C&x=1": "txSecret=ab&txTime=5C",
	} {
		if got := signatureQuery(httptest.NewRequest("GET", url, nil)); got != want {
			t.Errorf("%s: %q, want %q", url, got, want)
		}
	}
}
