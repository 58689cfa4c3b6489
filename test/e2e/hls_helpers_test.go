package e2e

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// playlist is a fetched HLS media playlist.
type playlist struct {
	Text     string
	Header   http.Header
	Segments []string // absolute segment URLs, oldest first
}

// fetchPlaylist GETs and parses a media playlist.
func fetchPlaylist(ctx context.Context, playlistURL string) (playlist, int, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	body, resp, err := httpGet(ctx, playlistURL)
	if err != nil {
		return playlist{}, 0, err
	}
	if resp.StatusCode != http.StatusOK {
		return playlist{}, resp.StatusCode, nil
	}
	base, err := url.Parse(playlistURL)
	if err != nil {
		return playlist{}, 0, err
	}
	p := playlist{Text: string(body), Header: resp.Header}
	sc := bufio.NewScanner(strings.NewReader(p.Text))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		ref, err := url.Parse(line)
		if err != nil {
			return p, resp.StatusCode, fmt.Errorf("playlist %s: segment URI %q: %w", playlistURL, line, err)
		}
		p.Segments = append(p.Segments, base.ResolveReference(ref).String())
	}
	return p, resp.StatusCode, nil
}

// waitPlaylist polls a playlist until cond holds or timeout passes, and
// fails the test then, describing the wait as what.
func waitPlaylist(t *testing.T, playlistURL, what string, timeout time.Duration, cond func(playlist) bool) playlist {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var (
		last       playlist
		lastStatus int
		lastErr    error
	)
	for {
		p, status, err := fetchPlaylist(ctx, playlistURL)
		if err == nil && status == http.StatusOK && cond(p) {
			return p
		}
		last, lastStatus, lastErr = p, status, err
		select {
		case <-ctx.Done():
			t.Fatalf("playlist %s: not %s within %v; last status %d, error %v, text:\n%s", playlistURL, what, timeout, lastStatus, lastErr, last.Text)
		case <-time.After(pollInterval):
		}
	}
}

// waitSegments waits until a playlist lists at least n segments.
func waitSegments(t *testing.T, playlistURL string, n int) playlist {
	t.Helper()
	return waitPlaylist(t, playlistURL, fmt.Sprintf("listing %d segments", n), 20*time.Second, func(p playlist) bool {
		return len(p.Segments) >= n
	})
}
