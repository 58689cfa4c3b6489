package e2e

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// llhlsPlaylist is what the LL-HLS tests read from a media playlist.
type llhlsPlaylist struct {
	playlist
	ServerControl string
	PartTarget    float64
	Parts         []llhlsPart // absolute URLs, oldest first
	Hint          string      // absolute URL of EXT-X-PRELOAD-HINT
	Dates         int         // EXT-X-PROGRAM-DATE-TIME tags
}

type llhlsPart struct {
	URL         string
	Duration    float64
	Independent bool
}

var llhlsAttr = regexp.MustCompile(`([A-Z-]+)=("[^"]*"|[^",]*)`)

// llhlsParse reads the LL-HLS tags of a fetched playlist.
func llhlsParse(t *testing.T, pl playlist, playlistURL string) llhlsPlaylist {
	t.Helper()
	base, err := url.Parse(playlistURL)
	if err != nil {
		t.Fatal(err)
	}
	abs := func(ref string) string {
		u, err := url.Parse(ref)
		if err != nil {
			t.Fatalf("bad URI %q: %v", ref, err)
		}
		return base.ResolveReference(u).String()
	}
	out := llhlsPlaylist{playlist: pl}
	for _, line := range strings.Split(pl.Text, "\n") {
		tag, val, _ := strings.Cut(strings.TrimSpace(line), ":")
		a := map[string]string{}
		for _, kv := range llhlsAttr.FindAllStringSubmatch(val, -1) {
			a[kv[1]] = strings.Trim(kv[2], `"`)
		}
		switch tag {
		case "#EXT-X-SERVER-CONTROL":
			out.ServerControl = val
		case "#EXT-X-PART-INF":
			out.PartTarget, _ = strconv.ParseFloat(a["PART-TARGET"], 64)
		case "#EXT-X-PART":
			d, err := strconv.ParseFloat(a["DURATION"], 64)
			if err != nil || a["URI"] == "" {
				t.Fatalf("bad %q", line)
			}
			out.Parts = append(out.Parts, llhlsPart{URL: abs(a["URI"]), Duration: d, Independent: a["INDEPENDENT"] == "YES"})
		case "#EXT-X-PRELOAD-HINT":
			out.Hint = abs(a["URI"])
		case "#EXT-X-PROGRAM-DATE-TIME":
			if _, err := time.Parse(time.RFC3339Nano, val); err != nil {
				t.Errorf("bad %q: %v", line, err)
			}
			out.Dates++
		}
	}
	return out
}

// llhlsWait waits for a playlist with parts and a preload hint.
func llhlsWait(t *testing.T, playlistURL string) llhlsPlaylist {
	t.Helper()
	pl := waitPlaylist(t, playlistURL, "listing parts and a preload hint", 30*time.Second, func(p playlist) bool {
		return len(p.Segments) >= 2 && strings.Contains(p.Text, "#EXT-X-PART:") && strings.Contains(p.Text, "#EXT-X-PRELOAD-HINT:")
	})
	return llhlsParse(t, pl, playlistURL)
}

// llhlsPartNumbers reads SEQ and IDX from a part URL ".../TOKEN-SEQ.IDX.ts".
func llhlsPartNumbers(t *testing.T, partURL string) (uint64, int) {
	t.Helper()
	u, err := url.Parse(partURL)
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`-(\d+)\.(\d+)\.ts$`).FindStringSubmatch(u.Path)
	if m == nil {
		t.Fatalf("part URL %q is not TOKEN-SEQ.IDX.ts", partURL)
	}
	seq, _ := strconv.ParseUint(m[1], 10, 64)
	idx, _ := strconv.Atoi(m[2])
	return seq, idx
}

// llhlsReload makes a blocking playlist reload for part idx of segment seq.
func llhlsReload(ctx context.Context, t *testing.T, playlistURL string, seq uint64, idx int) (llhlsPlaylist, int) {
	t.Helper()
	sep := "?"
	if strings.Contains(playlistURL, "?") {
		sep = "&"
	}
	u := fmt.Sprintf("%s%s_HLS_msn=%d&_HLS_part=%d", playlistURL, sep, seq, idx)
	pl, status, err := fetchPlaylist(ctx, u)
	if err != nil {
		t.Fatalf("blocking reload %s: %v", u, err)
	}
	if status != http.StatusOK {
		return llhlsPlaylist{}, status
	}
	return llhlsParse(t, pl, playlistURL), status
}

// TestLLHLS publishes with ffmpeg and reads the Low-Latency HLS playlist:
// its tags, a blocking reload that answers with the part it asked for, the
// parts themselves, the refusal of a far-future _HLS_msn, and ffprobe and
// ffmpeg playing the same playlist as classic HLS.
func TestLLHLS(t *testing.T) {
	srv := startServer(t)
	name := streamName("llhls")
	startPublisher(t, srv.rtmpURL(name))
	srv.waitLive(t, name)
	ctx := testContext(t)
	plURL := srv.hlsURL(name)

	pl := llhlsWait(t, plURL)
	if !strings.Contains(pl.ServerControl, "CAN-BLOCK-RELOAD=YES") || !strings.Contains(pl.ServerControl, "PART-HOLD-BACK=") {
		t.Errorf("EXT-X-SERVER-CONTROL:%s", pl.ServerControl)
	}
	if pl.PartTarget < 0.2 || pl.PartTarget > 0.3 {
		t.Errorf("PART-TARGET=%v, want 0.2..0.3 s", pl.PartTarget)
	}
	if pl.Dates < len(pl.Segments) {
		t.Errorf("%d EXT-X-PROGRAM-DATE-TIME for %d segments", pl.Dates, len(pl.Segments))
	}
	for _, p := range pl.Parts {
		if p.Duration > pl.PartTarget || p.Duration <= 0 {
			t.Errorf("part %s lasts %v, PART-TARGET %v", p.URL, p.Duration, pl.PartTarget)
		}
	}

	// Blocking reloads: each answers with the part it asked for.
	seq, idx := llhlsPartNumbers(t, pl.Hint)
	for range 4 {
		start := time.Now()
		got, status := llhlsReload(ctx, t, plURL, seq, idx)
		if status != http.StatusOK {
			t.Fatalf("blocking reload for %d.%d: %d", seq, idx, status)
		}
		found := false
		for _, p := range got.Parts {
			if s, i := llhlsPartNumbers(t, p.URL); s == seq && i == idx {
				found = true
			}
		}
		if !found && got.MediaSeq(t) <= seq {
			t.Fatalf("blocking reload for %d.%d answered without it after %v:\n%s", seq, idx, time.Since(start), got.Text)
		}
		seq, idx = llhlsPartNumbers(t, got.Hint)
	}

	// Parts are MPEG-TS that ffprobe reads on their own.
	var indep string
	for _, p := range pl.Parts {
		if p.Independent {
			indep = p.URL
		}
	}
	if indep == "" {
		t.Fatalf("no INDEPENDENT part:\n%s", pl.Text)
	}
	streams, err := ffprobe(ctx, t, indep)
	if err != nil {
		t.Fatal(err)
	}
	checkProbe(t, streams)

	// The hinted part is answered once it is complete.
	body, resp, err := httpGet(ctx, pl.Hint)
	if err != nil || (resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusNotFound) {
		t.Errorf("hinted part %s: %v %v", pl.Hint, resp, err)
	} else if resp.StatusCode == http.StatusOK && (len(body) == 0 || len(body)%188 != 0 || body[0] != 0x47) {
		t.Errorf("hinted part %s: %d bytes", pl.Hint, len(body))
	}

	// A media sequence number far ahead is refused at once.
	newest, _ := llhlsPartNumbers(t, llhlsWait(t, plURL).Hint)
	expectMediaError(ctx, t, fmt.Sprintf("%s?_HLS_msn=%d", plURL, newest+10), http.StatusBadRequest, "bad_request")
	expectMediaError(ctx, t, plURL+"?_HLS_part=1", http.StatusBadRequest, "bad_request")
	expectMediaError(ctx, t, plURL+"?_HLS_msn=x", http.StatusBadRequest, "bad_request")

	// Old players read the same playlist as classic HLS.
	streams, err = ffprobe(ctx, t, plURL)
	if err != nil {
		t.Fatal(err)
	}
	checkProbe(t, streams)
	res, err := decode(ctx, t, plURL)
	if err != nil {
		t.Fatal(err)
	}
	if res.Frames < 40 {
		t.Errorf("ffmpeg decoded %d frames of the LL-HLS playlist in 2 s, want ≥ 40; stderr:\n%s", res.Frames, res.Stderr)
	}
}

// MediaSeq returns EXT-X-MEDIA-SEQUENCE.
func (p llhlsPlaylist) MediaSeq(t *testing.T) uint64 {
	t.Helper()
	for _, line := range strings.Split(p.Text, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "#EXT-X-MEDIA-SEQUENCE:"); ok {
			n, err := strconv.ParseUint(v, 10, 64)
			if err != nil {
				t.Fatalf("bad %q", line)
			}
			return n
		}
	}
	t.Fatalf("no EXT-X-MEDIA-SEQUENCE:\n%s", p.Text)
	return 0
}

// TestLLHLSPrivate checks that a private room's parts and blocking
// reloads need the play signature, like its segments.
func TestLLHLSPrivate(t *testing.T) {
	srv := startServer(t, roomRules)
	ctx := testContext(t)
	alice := srv.register(ctx, t, "alice")
	rm := srv.createRoom(ctx, t, alice, "LL private", true)
	startPublisher(t, srv.pushURL(ctx, t, alice, rm.ID).URL)
	srv.waitRoom(t, alice.Token, rm.ID, "live", liveTimeout, func(r roomJSON) bool { return r.Status == statusLive })
	view, _, err := srv.room(ctx, alice.Token, rm.ID)
	if err != nil {
		t.Fatal(err)
	}
	if view.Play == nil {
		t.Fatalf("no play URLs: %v", view)
	}
	signed := view.Play.HLS
	_, wantQuery, _ := strings.Cut(signed, "?")
	pl := llhlsWait(t, signed)
	for _, p := range append(pl.Parts, llhlsPart{URL: pl.Hint}) {
		if _, q, _ := strings.Cut(p.URL, "?"); q != wantQuery {
			t.Errorf("part %s in the signed playlist does not carry the play signature", p.URL)
		}
	}
	part := pl.Parts[len(pl.Parts)-1].URL
	if a, err := getMedia(ctx, part); err != nil || a.Status != http.StatusOK {
		t.Errorf("GET signed part %s: %+v, %v", part, a, err)
	}
	expectMediaError(ctx, t, stripQuery(t, part), http.StatusForbidden, "invalid_signature")
	expectMediaError(ctx, t, stripQuery(t, pl.Hint), http.StatusForbidden, "invalid_signature")
	seq, idx := llhlsPartNumbers(t, pl.Hint)
	expectMediaError(ctx, t, fmt.Sprintf("%s?_HLS_msn=%d&_HLS_part=%d", stripQuery(t, signed), seq, idx), http.StatusForbidden, "invalid_signature")
	if _, status := llhlsReload(ctx, t, signed, seq, idx); status != http.StatusOK {
		t.Errorf("signed blocking reload: %d", status)
	}
}
