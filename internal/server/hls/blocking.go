package hls

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"sync/atomic"
	"time"

	hlsproto "roomcast/internal/protocol/hls"
)

// Low-Latency HLS defaults.
const (
	DefaultPartTarget = 250 * time.Millisecond
	DefaultMaxWaiting = 10_000
)

// maxPartIndex bounds _HLS_part: no segment has this many parts (a
// segment is cut after at most a minute, or 20 targets, without keyframe).
const maxPartIndex = 9999

func (c Config) llDefaults() Config {
	if c.PartTarget == 0 {
		c.PartTarget = DefaultPartTarget
	}
	if c.PartTarget > 0 && c.PartHoldBack <= 0 {
		c.PartHoldBack = 3 * c.PartTarget
	}
	if c.MaxWaiting <= 0 {
		c.MaxWaiting = DefaultMaxWaiting
	}
	return c
}

// LowLatency reports whether the playlists carry LL-HLS partial segments.
func (c Config) LowLatency() bool { return c.PartTarget > 0 }

var (
	errTooManyWaiting = &httpError{http.StatusServiceUnavailable, "too_many_waiting", "too many requests waiting for media; retry"}
	errBlockTimeout   = &httpError{http.StatusServiceUnavailable, "not_ready", "the requested segment or part did not appear in time; retry"}
	errPartNotFound   = &httpError{http.StatusNotFound, "part_not_found", "no such partial segment"}
)

// badRequest is a 400 with a message naming the parameter.
func badRequest(msg string) error {
	return &httpError{http.StatusBadRequest, "bad_request", msg}
}

// waitLimit counts the requests waiting for media.
type waitLimit struct{ n atomic.Int64 }

// acquire takes a place, reporting false when max are waiting.
func (w *waitLimit) acquire(max int) bool {
	if w.n.Add(1) > int64(max) {
		w.n.Add(-1)
		return false
	}
	return true
}

func (w *waitLimit) release() { w.n.Add(-1) }

// segmenterConfig is the segmenter configuration of the stream's muxer:
// with parts when LL-HLS is on.
func (ls *liveStream) segmenterConfig(cfg Config) hlsproto.SegmenterConfig {
	sc := hlsproto.SegmenterConfig{TargetDuration: cfg.TargetDuration}
	if cfg.LowLatency() {
		sc.PartTarget, sc.OnPart = cfg.PartTarget, ls.addPart
	}
	return sc
}

// addPart stores a new partial segment; called by the segmenter in the
// muxer goroutine.
func (ls *liveStream) addPart(p *hlsproto.Part) {
	now := time.Now()
	ls.mu.Lock()
	defer ls.mu.Unlock()
	ls.ll.addPart(p, now)
	ls.changedLocked()
}

// blockingReload is a playlist request's _HLS_msn and _HLS_part
// (RFC 8216bis 6.2.5.2): answer once the playlist holds segment msn, or
// part Part of it.
type blockingReload struct {
	msn     uint64
	part    int
	hasPart bool
}

// parseBlockingReload reads _HLS_msn and _HLS_part. ok is false when the
// request has neither. Values are decimal integers without sign or
// leading zeros; _HLS_part needs _HLS_msn; a parameter may appear once.
func parseBlockingReload(q url.Values) (br blockingReload, ok bool, err error) {
	msn, hasMSN := q["_HLS_msn"]
	part, hasPart := q["_HLS_part"]
	if !hasMSN && !hasPart {
		return br, false, nil
	}
	if !hasMSN {
		return br, false, errors.New("_HLS_part needs _HLS_msn")
	}
	if len(msn) != 1 || len(part) > 1 {
		return br, false, errors.New("_HLS_msn and _HLS_part may be given once")
	}
	n, err := parseDecimal(msn[0], 1<<63-1)
	if err != nil {
		return br, false, fmt.Errorf("_HLS_msn: %w", err)
	}
	br.msn = n
	if hasPart {
		p, err := parseDecimal(part[0], maxPartIndex)
		if err != nil {
			return br, false, fmt.Errorf("_HLS_part: %w", err)
		}
		br.part, br.hasPart = int(p), true
	}
	return br, true, nil
}

// parseDecimal parses a decimal integer in 0..limit without sign or
// leading zeros.
func parseDecimal(s string, limit uint64) (uint64, error) {
	if s == "" || len(s) > 19 {
		return 0, fmt.Errorf("%q is not a number of 1 to 19 digits", s)
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, fmt.Errorf("%q is not a decimal number", s)
		}
	}
	if s[0] == '0' && len(s) > 1 {
		return 0, fmt.Errorf("%q has leading zeros", s)
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil || n > limit {
		return 0, fmt.Errorf("%q is out of range 0..%d", s, limit)
	}
	return n, nil
}

// playlistResponse is a playlist body and its Content-Length value.
type playlistResponse struct {
	body   []byte
	length []string
}

// playlistFor returns the playlist a request asks for: at once, or, for a
// blocking reload (LL-HLS), once it holds the requested segment or part.
// Before the first segment it waits up to 1.5 target durations.
func (s *Server) playlistFor(r *http.Request, ls *liveStream) (playlistResponse, error) {
	if !s.cfg.LowLatency() {
		return s.firstPlaylist(r, ls)
	}
	br, ok, err := parseBlockingReload(r.URL.Query())
	if err != nil {
		return playlistResponse{}, badRequest(err.Error())
	}
	if !ok {
		return s.firstPlaylist(r, ls)
	}
	if !s.waiting.acquire(s.cfg.MaxWaiting) {
		return playlistResponse{}, errTooManyWaiting
	}
	defer s.waiting.release()
	// The first playlist may not exist yet: wait for it like any client.
	if pr, err := s.firstPlaylist(r, ls); err != nil || r.Context().Err() != nil {
		return pr, err
	}
	var pr playlistResponse
	err = ls.waitFor(r.Context(), 3*s.cfg.TargetDuration, func() (bool, error) {
		done, err := ls.reloadReadyLocked(br)
		if done {
			pr = playlistResponse{ls.playlist, ls.plLength}
		}
		return done, err
	})
	return pr, err
}

// firstPlaylist returns the current playlist, waiting for the first
// segment if need be.
func (s *Server) firstPlaylist(r *http.Request, ls *liveStream) (playlistResponse, error) {
	if ls.waitPlaylist(r.Context(), s.cfg.TargetDuration*3/2) == nil {
		if ls.isEnded() {
			return playlistResponse{}, errStreamNotFound
		}
		return playlistResponse{}, errNotReady
	}
	ls.mu.Lock()
	defer ls.mu.Unlock()
	return playlistResponse{ls.playlist, ls.plLength}, nil
}

// reloadReadyLocked reports whether the playlist satisfies a blocking
// reload, or why it never will: a media sequence number more than two
// past the newest segment is refused (RFC 8216bis 6.2.5.2). ls.mu held.
func (ls *liveStream) reloadReadyLocked(br blockingReload) (bool, error) {
	if ls.ended || len(ls.segs) == 0 {
		return ls.ended, nil
	}
	last := ls.segs[len(ls.segs)-1].Seq
	newest := last
	np, hasParts := ls.ll.newest()
	if hasParts && np.Seq > newest {
		newest = np.Seq
	}
	switch {
	case br.msn > newest+2:
		return false, badRequest(fmt.Sprintf("_HLS_msn %d is too far ahead of the newest segment %d", br.msn, newest))
	case br.msn <= last:
		return true, nil // that segment is complete, with all its parts
	case br.hasPart:
		return hasParts && (np.Seq > br.msn || np.Seq == br.msn && np.Index >= br.part), nil
	}
	return false, nil
}

// waitFor calls ready under ls.mu until it reports done or an error, the
// stream changing in between; it gives up after timeout (503) or when ctx
// ends.
func (ls *liveStream) waitFor(ctx context.Context, timeout time.Duration, ready func() (bool, error)) error {
	var expire <-chan time.Time
	for {
		ls.mu.Lock()
		done, err := ready()
		ch := ls.changed
		ls.mu.Unlock()
		if done || err != nil {
			return err
		}
		if expire == nil {
			t := time.NewTimer(timeout)
			defer t.Stop()
			expire = t.C
		}
		select {
		case <-ch:
		case <-expire:
			return errBlockTimeout
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// servePart serves a partial segment. The part a preload hint names (the
// next one of the open segment) is answered when it is complete; a part
// that will never exist (its segment ended without it) is 404.
func (s *Server) servePart(w http.ResponseWriter, r *http.Request, ls *liveStream, token string, seq uint64, idx int) error {
	if token != ls.token {
		return errPartNotFound
	}
	var p *partEntry
	ls.mu.Lock()
	p = ls.ll.part(seq, idx)
	hinted := p == nil && ls.hintedLocked(seq, idx)
	ls.mu.Unlock()
	if hinted {
		if !s.waiting.acquire(s.cfg.MaxWaiting) {
			return errTooManyWaiting
		}
		err := ls.waitFor(r.Context(), 3*s.cfg.TargetDuration, func() (bool, error) {
			if p = ls.ll.part(seq, idx); p != nil {
				return true, nil
			}
			if !ls.hintedLocked(seq, idx) {
				return false, errPartNotFound
			}
			return false, nil
		})
		s.waiting.release()
		if err != nil {
			return err
		}
	}
	if p == nil {
		return errPartNotFound
	}
	s.writeBody(w, r, ls, segmentHeaders{length: p.length}, p.data)
	return nil
}

// hintedLocked reports whether part idx of segment seq is the one the
// playlist's preload hint names, or the one after it: not there yet, but
// on its way. ls.mu held.
func (ls *liveStream) hintedLocked(seq uint64, idx int) bool {
	if ls.ended || len(ls.segs) == 0 {
		return false
	}
	next := hlsproto.PartInfo{Seq: ls.segs[len(ls.segs)-1].Seq + 1}
	if np, ok := ls.ll.newest(); ok && np.Seq == next.Seq {
		next.Index = np.Index + 1
	}
	return seq == next.Seq && idx >= next.Index && idx <= next.Index+1
}
