package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"
)

// FLV tag types.
const (
	tagAudio  = 8
	tagVideo  = 9
	tagScript = 18
)

// flvTag is one tag of an FLV byte stream.
type flvTag struct {
	Type      byte
	Timestamp uint32
	Body      []byte
}

// maxTestTagSize bounds the tags the test reader accepts: a larger size
// means the stream lost its framing.
const maxTestTagSize = 8 << 20

// flvStream reads an FLV byte stream, checking its framing strictly: the
// file header, PreviousTagSize0 = 0 and every PreviousTagSize.
type flvStream struct {
	r *bufio.Reader
}

// newFLVStream reads and checks the FLV file header of r.
func newFLVStream(r io.Reader) (*flvStream, byte, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	var h [9]byte
	if _, err := io.ReadFull(br, h[:]); err != nil {
		return nil, 0, fmt.Errorf("flv header: %w", err)
	}
	if string(h[:3]) != "FLV" || h[3] != 1 {
		return nil, 0, fmt.Errorf("flv header: got % x, want \"FLV\" version 1", h[:4])
	}
	flags := h[4]
	off := binary.BigEndian.Uint32(h[5:9])
	if off < 9 || off > 1<<16 {
		return nil, 0, fmt.Errorf("flv header: data offset %d", off)
	}
	if _, err := br.Discard(int(off) - 9); err != nil {
		return nil, 0, fmt.Errorf("flv header: %w", err)
	}
	var pts [4]byte
	if _, err := io.ReadFull(br, pts[:]); err != nil {
		return nil, 0, fmt.Errorf("flv PreviousTagSize0: %w", err)
	}
	if n := binary.BigEndian.Uint32(pts[:]); n != 0 {
		return nil, 0, fmt.Errorf("flv PreviousTagSize0 = %d, want 0", n)
	}
	return &flvStream{r: br}, flags, nil
}

// next reads the next tag.
func (s *flvStream) next() (flvTag, error) {
	var h [11]byte
	if _, err := io.ReadFull(s.r, h[:]); err != nil {
		return flvTag{}, err
	}
	typ := h[0] & 0x1f
	size := int(h[1])<<16 | int(h[2])<<8 | int(h[3])
	ts := uint32(h[7])<<24 | uint32(h[4])<<16 | uint32(h[5])<<8 | uint32(h[6])
	if typ != tagAudio && typ != tagVideo && typ != tagScript {
		return flvTag{}, fmt.Errorf("flv tag type %d (header % x): framing lost", h[0], h)
	}
	if size > maxTestTagSize {
		return flvTag{}, fmt.Errorf("flv tag size %d: framing lost", size)
	}
	body := make([]byte, size)
	if _, err := io.ReadFull(s.r, body); err != nil {
		return flvTag{}, fmt.Errorf("flv tag body: %w", noEOF(err))
	}
	var pts [4]byte
	if _, err := io.ReadFull(s.r, pts[:]); err != nil {
		return flvTag{}, fmt.Errorf("flv PreviousTagSize: %w", noEOF(err))
	}
	if n := binary.BigEndian.Uint32(pts[:]); n != uint32(11+size) {
		return flvTag{}, fmt.Errorf("flv PreviousTagSize = %d after a %d-byte tag, want %d", n, size, 11+size)
	}
	return flvTag{Type: typ, Timestamp: ts, Body: body}, nil
}

func noEOF(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

// isAVCSeqHeader reports whether t is an AVC sequence header (an
// AVCDecoderConfigurationRecord).
func (t flvTag) isAVCSeqHeader() bool {
	return t.Type == tagVideo && len(t.Body) >= 2 && t.Body[0]&0x0f == 7 && t.Body[1] == 0
}

// isVideoFrame reports whether t carries coded AVC video (NAL units).
func (t flvTag) isVideoFrame() bool {
	return t.Type == tagVideo && len(t.Body) >= 2 && t.Body[0]&0x0f == 7 && t.Body[1] == 1
}

// isKeyframe reports whether t is a coded AVC keyframe.
func (t flvTag) isKeyframe() bool {
	return t.isVideoFrame() && t.Body[0]>>4 == 1
}

// isAACSeqHeader reports whether t is an AAC AudioSpecificConfig.
func (t flvTag) isAACSeqHeader() bool {
	return t.Type == tagAudio && len(t.Body) >= 2 && t.Body[0]>>4 == 10 && t.Body[1] == 0
}

// String describes a tag briefly for failure messages.
func (t flvTag) String() string {
	n := min(len(t.Body), 2)
	return fmt.Sprintf("{type %d ts %d size %d body % x…}", t.Type, t.Timestamp, len(t.Body), t.Body[:n])
}

// checkStartsPlayable reads the first tags of s and checks that playback
// can start at once: the AVC sequence header comes before any coded video,
// and the first coded video frame is a keyframe. It returns the tags read
// up to and including that keyframe.
func checkStartsPlayable(s *flvStream) ([]flvTag, error) {
	const maxTags = 20 // metadata, both sequence headers, some audio
	var (
		tags      []flvTag
		seqHeader bool
	)
	for len(tags) < maxTags {
		tag, err := s.next()
		if err != nil {
			return tags, fmt.Errorf("after %d tags %v: %w", len(tags), tags, err)
		}
		tags = append(tags, tag)
		switch {
		case tag.isAVCSeqHeader():
			seqHeader = true
		case tag.isVideoFrame():
			if !seqHeader {
				return tags, fmt.Errorf("coded video before the AVC sequence header: %v", tags)
			}
			if !tag.isKeyframe() {
				return tags, fmt.Errorf("first coded video frame is not a keyframe: %v", tags)
			}
			return tags, nil
		}
	}
	return tags, fmt.Errorf("no AVC sequence header and keyframe in the first %d tags: %v", maxTags, tags)
}

// flvViewer is an HTTP-FLV viewer reading a stream in the background and
// recording when each tag arrived.
type flvViewer struct {
	cancel context.CancelFunc
	done   chan struct{} // closed when the connection ended
	err    error         // why it ended; valid once done is closed

	mu          sync.Mutex
	bytes       int64
	arrivals    []time.Time // of every tag
	frames      []time.Time // of every coded video frame
	lastTS      [32]int64   // by tag type, of coded media; -1 before the first
	regressions []string    // timestamps that went back, per track
	seqHeaders  []time.Time // of every AVC sequence header
}

// startFLVViewer connects to url, checks the response and the FLV header,
// and reads tags until the connection ends or the test does.
func startFLVViewer(t *testing.T, url string) *flvViewer {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	// Only the response head is bounded: the body is read until the end.
	headTimer := time.AfterFunc(10*time.Second, cancel)
	resp, err := http.DefaultClient.Do(req)
	headTimer.Stop()
	if err != nil {
		cancel()
		t.Fatalf("HTTP-FLV viewer: GET %s: %v", url, err)
	}
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		resp.Body.Close()
		cancel()
		t.Fatalf("HTTP-FLV viewer: GET %s: %s: %s", url, resp.Status, body)
	}
	v := &flvViewer{cancel: cancel, done: make(chan struct{})}
	for i := range v.lastTS {
		v.lastTS[i] = -1
	}
	cr := &countingReader{r: resp.Body, v: v}
	go func() {
		defer close(v.done)
		defer resp.Body.Close()
		s, _, err := newFLVStream(cr)
		if err != nil {
			v.err = err
			return
		}
		for {
			tag, err := s.next()
			if err != nil {
				v.err = err
				return
			}
			now := time.Now()
			v.mu.Lock()
			v.arrivals = append(v.arrivals, now)
			if tag.isVideoFrame() {
				v.frames = append(v.frames, now)
			}
			if tag.isAVCSeqHeader() {
				v.seqHeaders = append(v.seqHeaders, now)
			}
			if tag.isVideoFrame() || tag.Type == tagAudio && !tag.isAACSeqHeader() {
				if last := v.lastTS[tag.Type]; int64(tag.Timestamp) < last {
					v.regressions = append(v.regressions, fmt.Sprintf("type %d: %d ms after %d ms", tag.Type, tag.Timestamp, last))
				}
				v.lastTS[tag.Type] = int64(tag.Timestamp)
			}
			v.mu.Unlock()
		}
	}()
	t.Cleanup(v.close)
	return v
}

// countingReader counts a viewer's bytes.
type countingReader struct {
	r io.Reader
	v *flvViewer
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.v.mu.Lock()
	c.v.bytes += int64(n)
	c.v.mu.Unlock()
	return n, err
}

// close disconnects the viewer and waits for its reader.
func (v *flvViewer) close() {
	v.cancel()
	<-v.done
}

// ended reports whether the connection has ended, and why.
func (v *flvViewer) ended() (bool, error) {
	select {
	case <-v.done:
		return true, v.err
	default:
		return false, nil
	}
}

// byteCount returns the bytes received so far.
func (v *flvViewer) byteCount() int64 {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.bytes
}

// framesSince returns how many coded video frames arrived after t0.
func (v *flvViewer) framesSince(t0 time.Time) int {
	v.mu.Lock()
	defer v.mu.Unlock()
	n := 0
	for _, at := range v.frames {
		if at.After(t0) {
			n++
		}
	}
	return n
}

// timestampRegressions describes every coded audio or video tag whose
// timestamp was below the previous one of its track.
func (v *flvViewer) timestampRegressions() []string {
	v.mu.Lock()
	defer v.mu.Unlock()
	return append([]string(nil), v.regressions...)
}

// seqHeadersSince returns how many AVC sequence headers arrived after t0.
func (v *flvViewer) seqHeadersSince(t0 time.Time) int {
	v.mu.Lock()
	defer v.mu.Unlock()
	n := 0
	for _, at := range v.seqHeaders {
		if at.After(t0) {
			n++
		}
	}
	return n
}

// maxGap returns the longest time without a tag between from and to
// (including the edges of the window).
func (v *flvViewer) maxGap(from, to time.Time) time.Duration {
	v.mu.Lock()
	defer v.mu.Unlock()
	var gap time.Duration
	prev := from
	for _, at := range v.arrivals {
		if at.Before(from) {
			continue
		}
		if at.After(to) {
			break
		}
		gap = max(gap, at.Sub(prev))
		prev = at
	}
	return max(gap, to.Sub(prev))
}

// waitFrames waits until n coded video frames arrived after t0, failing the
// test if the connection ends or timeout passes first.
func (v *flvViewer) waitFrames(t *testing.T, t0 time.Time, n int, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for v.framesSince(t0) < n {
		if ended, err := v.ended(); ended {
			t.Fatalf("HTTP-FLV viewer ended after %d of %d video frames: %v", v.framesSince(t0), n, err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("HTTP-FLV viewer got %d of %d video frames within %v", v.framesSince(t0), n, timeout)
		}
		time.Sleep(pollInterval)
	}
}

// bytesReaderFrom returns a reader of data followed by r.
func bytesReaderFrom(data []byte, r io.Reader) io.Reader {
	return io.MultiReader(bytes.NewReader(data), r)
}
