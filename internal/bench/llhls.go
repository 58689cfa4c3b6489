package bench

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
)

// llPlaylist is what an LL-HLS viewer needs from a media playlist.
type llPlaylist struct {
	parts []string // EXT-X-PART URIs, oldest first
	hint  string   // EXT-X-PRELOAD-HINT URI
}

// parseLLPlaylist reads the EXT-X-PART and EXT-X-PRELOAD-HINT URIs.
func parseLLPlaylist(b []byte) llPlaylist {
	var pl llPlaylist
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, maxPlaylistSize)
	for sc.Scan() {
		line := sc.Text()
		tag, attrs, _ := strings.Cut(line, ":")
		if tag != "#EXT-X-PART" && tag != "#EXT-X-PRELOAD-HINT" {
			continue
		}
		_, rest, ok := strings.Cut(attrs, `URI="`)
		if !ok {
			continue
		}
		uri, _, _ := strings.Cut(rest, `"`)
		if tag == "#EXT-X-PART" {
			pl.parts = append(pl.parts, uri)
		} else {
			pl.hint = uri
		}
	}
	return pl
}

// partNumbers reads SEQ and IDX from a roomcast part URI ending in
// "-SEQ.IDX.ts", with or without a query.
func partNumbers(uri string) (seq uint64, idx int, ok bool) {
	uri, _, _ = strings.Cut(uri, "?")
	base, ok := strings.CutSuffix(uri, ".ts")
	if !ok {
		return 0, 0, false
	}
	dash := strings.LastIndexByte(base, '-')
	if dash < 0 {
		return 0, 0, false
	}
	s, i, ok := strings.Cut(base[dash+1:], ".")
	if !ok || !digits(s) || !digits(i) || len(i) > 9 {
		return 0, 0, false
	}
	seq, err1 := strconv.ParseUint(s, 10, 64)
	n, err2 := strconv.Atoi(i)
	return seq, n, err1 == nil && err2 == nil
}

// digits reports whether s is a decimal number without sign or leading
// zeros.
func digits(s string) bool {
	if len(s) > 1 && s[0] == '0' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// playLL plays LL-HLS as hls.js in low-latency mode does, minus decoding:
// from the newest part on, it asks for the playlist holding the next part
// (a blocking reload, which the server answers when that part exists) and
// downloads every part it has not got yet. A roomcast part starts with
// PAT/PMT, so the scanner reads each on its own.
func (h *hlsViewer) playLL(u *url.URL, first *playlist) error {
	if first.endList {
		return errStreamEnded
	}
	raw, err := h.rawPlaylist(u)
	if err != nil {
		return err
	}
	pl := parseLLPlaylist(raw)
	if len(pl.parts) == 0 || pl.hint == "" {
		return fmt.Errorf("no EXT-X-PART or EXT-X-PRELOAD-HINT: not an LL-HLS playlist: %w", errBadPlaylist)
	}
	got := map[string]bool{}
	for _, p := range pl.parts[:len(pl.parts)-1] {
		got[p] = true // start with the newest part, as a player at the live edge
	}
	for {
		for _, p := range pl.parts {
			if got[p] {
				continue
			}
			pu, err := h.resolve(u, p)
			if err != nil {
				return err
			}
			if err := h.segment(pu); err != nil {
				return err
			}
			got[p] = true
			if h.v.ttffUS < 0 {
				h.v.ttffUS = h.v.r.now() - h.v.startUS
				h.v.burstN = len(h.v.d)
			}
		}
		if len(got) > 4*len(pl.parts) { // forget parts long gone
			keep := map[string]bool{}
			for _, p := range pl.parts {
				keep[p] = got[p]
			}
			got = keep
		}
		seq, idx, ok := partNumbers(pl.hint)
		if !ok {
			return fmt.Errorf("preload hint %q: %w", pl.hint, errBadPlaylist)
		}
		q := *u
		vals := q.Query()
		vals.Set("_HLS_msn", strconv.FormatUint(seq, 10))
		vals.Set("_HLS_part", strconv.Itoa(idx))
		q.RawQuery = vals.Encode()
		if raw, err = h.rawPlaylist(&q); err != nil {
			if h.v.r.ctx.Err() != nil {
				return nil
			}
			return err
		}
		if bytes.Contains(raw, []byte("#EXT-X-ENDLIST")) {
			return errStreamEnded
		}
		pl = parseLLPlaylist(raw)
	}
}

// rawPlaylist downloads a playlist.
func (h *hlsViewer) rawPlaylist(u *url.URL) ([]byte, error) {
	resp, err := h.get(u)
	if err != nil {
		return nil, fmt.Errorf("playlist: %w", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxPlaylistSize))
	if err != nil {
		return nil, fmt.Errorf("playlist: %w", err)
	}
	return b, nil
}
