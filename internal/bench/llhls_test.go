package bench

import (
	"bytes"
	"strconv"
	"strings"
	"testing"
)

func TestParseLLPlaylist(t *testing.T) {
	pl := parseLLPlaylist([]byte("#EXTM3U\n#EXT-X-PART:DURATION=0.240,URI=\"s/t-5.0.ts\",INDEPENDENT=YES\n#EXT-X-PART:DURATION=0.240,URI=\"s/t-5.1.ts?txSecret=a\"\n#EXTINF:1.000,\ns/t-5.ts\n#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"s/t-6.0.ts\"\n"))
	if len(pl.parts) != 2 || pl.parts[1] != "s/t-5.1.ts?txSecret=a" || pl.hint != "s/t-6.0.ts" {
		t.Fatalf("%+v", pl)
	}
	for uri, want := range map[string][3]int{"s/t-6.0.ts": {6, 0, 1}, "a-b/mx7-12.34.ts": {12, 34, 1}, "s/t-6.ts": {0, 0, 0}, "s/t-6.0.ts?x": {6, 0, 1}} {
		seq, idx, ok := partNumbers(uri)
		if int(seq) != want[0] || idx != want[1] || ok != (want[2] == 1) {
			t.Errorf("%s: %d %d %v", uri, seq, idx, ok)
		}
	}
}

// FuzzParseLLPlaylist checks that any playlist parses without panic and
// that part numbers read back as written.
func FuzzParseLLPlaylist(f *testing.F) {
	f.Add([]byte("#EXTM3U\n#EXT-X-PART:DURATION=0.240,URI=\"s/t-5.0.ts\",INDEPENDENT=YES\n#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"s/t-5.1.ts\"\n"))
	f.Add([]byte("#EXT-X-PART:URI=\"\n#EXT-X-PRELOAD-HINT:URI=\"-1.-2.ts?\""))
	f.Add([]byte("#EXT-X-PART:URI=\"a-05.01.ts\"\n#EXT-X-PART:URI=\"a-5.+1.ts\""))
	f.Fuzz(func(t *testing.T, b []byte) {
		pl := parseLLPlaylist(b)
		for _, u := range append(pl.parts, pl.hint) {
			if !bytes.Contains(b, []byte(u)) {
				t.Fatalf("URI %q is not in the playlist", u)
			}
			seq, idx, ok := partNumbers(u)
			if !ok {
				continue
			}
			path, _, _ := strings.Cut(u, "?")
			if idx < 0 || !strings.HasSuffix(path, "-"+strconv.FormatUint(seq, 10)+"."+strconv.Itoa(idx)+".ts") {
				t.Fatalf("%q read as %d.%d", u, seq, idx)
			}
		}
	})
}
