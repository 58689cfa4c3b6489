package bench

import (
	"context"
	"errors"
	"net"
	"sync/atomic"
	"time"
)

// Per-viewer limits.
const (
	// readBufSize is a viewer's socket read buffer: big enough that one read
	// takes everything the server has written since the last one.
	readBufSize = 32 << 10
	// maxSamples bounds the latency samples kept per viewer (about 87
	// minutes of 25 fps video); later frames still count for the end lag.
	maxSamples  = 1 << 17
	dialTimeout = 10 * time.Second
)

// errStreamEnded reports a stream the server ended before the run did.
var errStreamEnded = errors.New("bench: stream ended by the server")

// viewer is one simulated player. Its fields are written only by its own
// goroutine, except bytes, and read by RunPlay after the goroutine ended.
type viewer struct {
	r  *run
	id int

	startUS int64 // connection start, µs since the run started
	connUS  int64 // when the play request was accepted; -1 if never
	endUS   int64 // when the viewer stopped
	ttffUS  int64 // time to first frame from startUS; -1 if none
	early   bool  // stopped before the end of the run
	err     error // why it stopped early

	// bytes counts media stream bytes received (see Report.Bytes).
	bytes atomic.Int64
	// audio counts audio packets received (WHEP: Opus RTP packets).
	audio atomic.Int64

	// Latency samples: for each video frame, d = arrival − timestamp (µs)
	// and the frame's timestamp (ms).
	d       []int64
	ts      []uint32
	lastTS  int64 // timestamp of the newest frame, µs; valid if frames > 0
	frames  int64
	skipped int64 // HLS segments that left the playlist before download
	// burstN, when ≥ 0, is the number of leading samples that are the join
	// burst (HLS: the first segment); when -1 the timestamp rule applies.
	burstN  int
	setupOK bool // setupDone was called

	// Socket reads that returned data (HTTP-FLV and WebSocket-FLV), and
	// those that carried a kernel receive timestamp; kernelArrival is set
	// when the connection has kernel receive timestamps turned on.
	reads         int64
	stampedReads  int64
	kernelArrival bool
	// readDelay is the delay (µs) of the latest read from its kernel
	// timestamp to its return, 0 without one; q keeps it for each latency
	// sample when kernelArrival is set.
	readDelay int32
	q         []int32
}

// setupDone tells RunPlay this viewer is connected or has failed; it is
// called once.
func (v *viewer) setupDone() {
	if !v.setupOK {
		v.setupOK = true
		v.r.setup.Done()
	}
}

// connected records that the play request was accepted.
func (v *viewer) connected() {
	v.connUS = v.r.now()
	v.setupDone()
}

// videoTag implements tagSink for FLV-carrying protocols: time to first
// frame runs to the first coded keyframe, and frames count from there on.
func (v *viewer) videoTag(ts uint32, kind videoKind, now int64) {
	if kind == videoOther {
		return
	}
	if v.ttffUS < 0 {
		if kind != videoKeyframe {
			return // not decodable yet
		}
		v.ttffUS = now - v.startUS
	}
	v.frame(int64(ts)*1000, now)
}

// frame records a video frame with timestamp tsUS (µs) that arrived at now.
func (v *viewer) frame(tsUS, now int64) {
	v.frames++
	v.lastTS = tsUS
	if len(v.d) < maxSamples {
		v.d = append(v.d, now-tsUS)
		v.ts = append(v.ts, uint32(tsUS/1000))
		if v.kernelArrival {
			v.q = append(v.q, v.readDelay)
		}
	}
}

// play runs the viewer until the run ends or its stream fails.
func (v *viewer) play() {
	v.startUS = v.r.now()
	err := v.r.player(v)
	v.endUS = v.r.now()
	v.setupDone()
	if v.r.ctx.Err() == nil { // stopped on its own, before the end
		v.early = true
		if err == nil {
			err = errStreamEnded
		}
		v.err = err
	}
}

// dial opens a TCP connection to the target that is closed when the run
// ends, which unblocks any read on it, and returns it wrapped for reading
// with arrival times.
func (v *viewer) dial() (*connReader, error) {
	d := net.Dialer{Timeout: dialTimeout}
	c, err := d.DialContext(v.r.ctx, "tcp", v.r.t.hostport)
	if err != nil {
		return nil, err
	}
	context.AfterFunc(v.r.ctx, func() { c.Close() })
	return v.newConnReader(c), nil
}
