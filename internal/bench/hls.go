package bench

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// errBadPlaylist reports a playlist the bench cannot use.
var errBadPlaylist = errors.New("bench: bad HLS playlist")

// maxPlaylistSize bounds a playlist download.
const maxPlaylistSize = 1 << 20

// playlist is what the bench needs from an HLS playlist.
type playlist struct {
	targetDuration time.Duration
	mediaSequence  int64
	segments       []string // URIs, in order
	endList        bool
	variant        string // master playlist: the first variant's URI
}

// parsePlaylist parses a master or media playlist.
func parsePlaylist(b []byte) (*playlist, error) {
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, maxPlaylistSize)
	pl := &playlist{}
	first, streamInf := true, false
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if first {
			if line != "#EXTM3U" {
				return nil, fmt.Errorf("no #EXTM3U: %w", errBadPlaylist)
			}
			first = false
			continue
		}
		tag, value, _ := strings.Cut(line, ":")
		switch {
		case line == "":
		case tag == "#EXT-X-TARGETDURATION":
			secs, err := strconv.ParseFloat(value, 64)
			if err != nil || secs < 0 || secs > 3600 {
				return nil, fmt.Errorf("target duration %q: %w", value, errBadPlaylist)
			}
			pl.targetDuration = time.Duration(secs * float64(time.Second))
		case tag == "#EXT-X-MEDIA-SEQUENCE":
			n, err := strconv.ParseInt(value, 10, 64)
			if err != nil || n < 0 {
				return nil, fmt.Errorf("media sequence %q: %w", value, errBadPlaylist)
			}
			pl.mediaSequence = n
		case tag == "#EXT-X-ENDLIST":
			pl.endList = true
		case tag == "#EXT-X-MAP":
			return nil, fmt.Errorf("fMP4 segments are not supported, only MPEG-TS: %w", errBadPlaylist)
		case tag == "#EXT-X-STREAM-INF":
			streamInf = true
		case line[0] == '#':
		case streamInf:
			if pl.variant == "" {
				pl.variant = line
			}
			streamInf = false
		default:
			pl.segments = append(pl.segments, line)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%v: %w", err, errBadPlaylist)
	}
	if first {
		return nil, fmt.Errorf("empty: %w", errBadPlaylist)
	}
	return pl, nil
}

// newHLSClient returns the HTTP client shared by HLS viewers: one kept-alive
// connection per viewer, as players do.
func newHLSClient(viewers int) *http.Client {
	tr := &http.Transport{
		MaxIdleConns:        viewers + 16,
		MaxIdleConnsPerHost: viewers + 16,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
		ForceAttemptHTTP2:   false,
	}
	return &http.Client{Transport: tr}
}

// hlsViewer is the HLS state of a viewer.
type hlsViewer struct {
	v   *viewer
	buf []byte
	ts  *tsScanner
}

// playHLS plays HLS as a player would, minus decoding: it polls the media
// playlist every half target duration and downloads each new segment,
// starting with the newest one.
func playHLS(v *viewer) error {
	h := &hlsViewer{v: v, ts: newTSScanner(v)}
	u := v.r.t.u
	pl, err := h.playlist(u)
	if err != nil {
		return err
	}
	if pl.variant != "" {
		if u, err = h.resolve(u, pl.variant); err != nil {
			return err
		}
		if pl, err = h.playlist(u); err != nil {
			return err
		}
	}
	v.connected()
	h.buf = make([]byte, readBufSize)
	if v.r.cfg.LowLatency {
		return h.playLL(u, pl)
	}
	next := int64(-1) // media sequence number of the next segment to get
	for {
		v.r.hlsTarget.observe(pl.targetDuration.Microseconds())
		if n := int64(len(pl.segments)); n > 0 {
			first := pl.mediaSequence
			if next < 0 {
				next = first + n - 1
			}
			if next < first { // segments left the playlist before we got them
				v.skipped += first - next
				next = first
			}
			for ; next < first+n; next++ {
				su, err := h.resolve(u, pl.segments[next-first])
				if err != nil {
					return err
				}
				if err := h.segment(su); err != nil {
					return err
				}
				if v.ttffUS < 0 {
					v.ttffUS = v.r.now() - v.startUS
					v.burstN = len(v.d) // the join segment was produced before we came
				}
			}
		}
		if pl.endList {
			return errStreamEnded
		}
		if !sleepCtx(v.r.ctx, max(pl.targetDuration/2, 100*time.Millisecond)) {
			return nil
		}
		if pl, err = h.playlist(u); err != nil {
			return err
		}
	}
}

// resolve resolves a playlist URI against base, refusing remote hosts
// unless allowed.
func (h *hlsViewer) resolve(base *url.URL, ref string) (*url.URL, error) {
	r, err := url.Parse(ref)
	if err != nil {
		return nil, fmt.Errorf("URI %q: %w", ref, errBadPlaylist)
	}
	u := base.ResolveReference(r)
	if u.Scheme != "http" {
		return nil, fmt.Errorf("URI %q: only http is supported: %w", ref, errBadPlaylist)
	}
	if !h.v.r.cfg.AllowRemote && !isLoopback(u.Hostname()) {
		return nil, fmt.Errorf("URI %q: %w", ref, ErrRemoteHost)
	}
	return u, nil
}

func (h *hlsViewer) get(u *url.URL) (*http.Response, error) {
	req, err := http.NewRequestWithContext(h.v.r.ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	resp, err := h.v.r.hls.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		return nil, fmt.Errorf("GET %s: HTTP status %d: %w", u.Path, resp.StatusCode, errBadResponse)
	}
	return resp, nil
}

func (h *hlsViewer) playlist(u *url.URL) (*playlist, error) {
	resp, err := h.get(u)
	if err != nil {
		return nil, fmt.Errorf("playlist: %w", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxPlaylistSize))
	if err != nil {
		return nil, fmt.Errorf("playlist: %w", err)
	}
	return parsePlaylist(b)
}

// segment downloads one MPEG-TS segment, scanning it as it arrives.
func (h *hlsViewer) segment(u *url.URL) error {
	resp, err := h.get(u)
	if err != nil {
		return fmt.Errorf("segment: %w", err)
	}
	defer resp.Body.Close()
	h.ts.reset()
	for {
		n, err := resp.Body.Read(h.buf)
		if n > 0 {
			h.v.bytes.Add(int64(n))
			if ferr := h.ts.feed(h.buf[:n], h.v.r.now()); ferr != nil {
				return fmt.Errorf("segment %s: %w", u.Path, ferr)
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("segment %s: %w", u.Path, err)
		}
	}
}
