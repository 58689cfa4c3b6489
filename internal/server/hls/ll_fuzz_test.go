package hls

import (
	"net/url"
	"strconv"
	"testing"
)

// FuzzParsePartName checks that an accepted part name is the one canonical
// spelling of its token, segment and index.
func FuzzParsePartName(f *testing.F) {
	for _, s := range []string{"abc-0.0.ts", "mhz1x2y3-12.3.ts", "abc-1.01.ts", "abc-1..ts", "abc-1.ts", "abc-1.-1.ts", "a-1.9999.ts", "a-1.10000.ts"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		token, seq, idx, ok := parsePartName(name)
		if !ok {
			return
		}
		if idx < 0 || idx > maxPartIndex {
			t.Fatalf("%q: index %d", name, idx)
		}
		if again := token + "-" + strconv.FormatUint(seq, 10) + "." + strconv.Itoa(idx) + ".ts"; again != name {
			t.Fatalf("%q parsed as %q, %d, %d", name, token, seq, idx)
		}
	})
}

// FuzzParseBlockingReload checks that _HLS_msn/_HLS_part are accepted only
// in their canonical spelling, within range, _HLS_part only with _HLS_msn.
func FuzzParseBlockingReload(f *testing.F) {
	for _, s := range []string{"_HLS_msn=5", "_HLS_msn=5&_HLS_part=2", "_HLS_part=1", "_HLS_msn=01", "_HLS_msn=5&_HLS_msn=6",
		"_HLS_msn=9223372036854775807", "_HLS_msn=9223372036854775808", "_HLS_msn=1&_HLS_part=10000", "_HLS_skip=YES", "", "_HLS_msn=%2B1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		br, ok, err := parseBlockingReload(q)
		if err != nil {
			if ok {
				t.Fatalf("%q: ok with error %v", raw, err)
			}
			if err.Error() == "" {
				t.Fatalf("%q: empty error", raw)
			}
			return
		}
		_, hasMSN := q["_HLS_msn"]
		if ok != hasMSN {
			t.Fatalf("%q: ok %v", raw, ok)
		}
		if !ok {
			return
		}
		if q.Get("_HLS_msn") != strconv.FormatUint(br.msn, 10) || br.msn > 1<<63-1 {
			t.Fatalf("%q: msn %d", raw, br.msn)
		}
		if _, has := q["_HLS_part"]; has != br.hasPart || has && q.Get("_HLS_part") != strconv.Itoa(br.part) {
			t.Fatalf("%q: part %d %v", raw, br.part, br.hasPart)
		}
	})
}
