package bench

import (
	"errors"
	"fmt"
	"math"
	"net"
	"sync"
)

// Arrival clocks (Config.Arrival).
const (
	// ArrivalKernel takes arrival times from the kernel's software receive
	// timestamps of the viewers' sockets (Linux; HTTP-FLV and
	// WebSocket-FLV).
	ArrivalKernel = "kernel"
	// ArrivalUser takes arrival times when the bench's read returns.
	ArrivalUser = "user"
)

// Report.Arrival values.
const (
	arrivalKernel = "kernel"
	arrivalUser   = "user-space"
	arrivalMixed  = "mixed"
)

// errNoRxStamps reports a platform or connection without kernel receive
// timestamps.
var errNoRxStamps = errors.New("bench: no kernel receive timestamps")

// connReader reads a viewer's TCP connection and tells, for each read, when
// what it returned arrived (µs since the run started). Only the viewer's
// goroutine uses it.
type connReader struct {
	v  *viewer
	c  net.Conn
	rx *rxStamps // kernel receive timestamps; nil: user-space arrival
}

// read reads into p like c.Read and returns, with what it read, its
// arrival time: the kernel's receive timestamp when there is one, otherwise
// the time the read returned. For TCP the kernel reports the timestamp of
// the last segment the read consumed, so it is an upper bound for every
// byte of the read; it is capped at the return time, which a step of the
// wall clock could otherwise exceed.
func (r *connReader) read(p []byte) (int, int64, error) {
	v := r.v
	if r.rx == nil {
		n, err := r.c.Read(p)
		if n > 0 {
			v.reads++
		}
		return n, v.r.now(), err
	}
	n, ns, err := r.rx.read(p)
	now := v.r.now()
	v.readDelay = 0
	if n > 0 {
		v.reads++
		if ns != 0 {
			v.stampedReads++
			at := v.r.wallToRun(ns)
			delay := now - at
			v.r.readDelay.add(delay)
			v.readDelay = int32(min(max(delay, 0), math.MaxInt32))
			now = min(now, at)
		}
	}
	return n, now, err
}

// userClockLatency returns, when viewers used kernel arrival, the live
// latency of the same frames with user-space arrival (kernel arrival +
// each read's delay), computed as buildReport does (own baseline), for
// comparison within one run; nil otherwise. The viewers' goroutines must
// have ended.
func userClockLatency(viewers []*viewer) *Dist {
	baseline := int64(math.MaxInt64)
	n := 0
	for _, v := range viewers {
		if len(v.q) != len(v.d) || len(v.q) == 0 {
			continue
		}
		for i, d := range v.d {
			baseline = min(baseline, d+int64(v.q[i]))
		}
		n += len(v.d)
	}
	if n == 0 {
		return nil
	}
	live := make([]int64, 0, n)
	for _, v := range viewers {
		if v.connUS < 0 || len(v.q) != len(v.d) {
			continue
		}
		for i, d := range v.d {
			if !v.burst(i, baseline) {
				live = append(live, d+int64(v.q[i])-baseline)
			}
		}
	}
	d := distOf(live)
	return &d
}

// arrivalSetup records, once per run, why a viewer could not have kernel
// receive timestamps.
type arrivalSetup struct {
	once sync.Once
	err  error
}

func (a *arrivalSetup) fail(err error) { a.once.Do(func() { a.err = err }) }

// newConnReader wraps a viewer's new connection, asking the kernel for
// receive timestamps when the run takes arrival times from it. It is called
// before anything is sent, so that the server's bytes get timestamps.
func (v *viewer) newConnReader(c net.Conn) *connReader {
	cr := &connReader{v: v, c: c}
	if v.r.cfg.Arrival == ArrivalUser {
		return cr
	}
	rx, err := enableRxStamps(c)
	if err != nil {
		v.r.arrival.fail(err)
		return cr
	}
	cr.rx = rx
	v.kernelArrival = true
	return cr
}

// arrivalReport fills the report's arrival clock fields from the viewers'
// read counts. The viewers' goroutines must have ended.
func arrivalReport(rep *Report, r *run, viewers []*viewer) {
	kernelViewers, userViewers := 0, 0
	for _, v := range viewers {
		rep.Reads += v.reads
		rep.StampedReads += v.stampedReads
		switch {
		case v.reads == 0:
		case v.kernelArrival:
			kernelViewers++
		default:
			userViewers++
		}
	}
	rep.ReadDelay = r.readDelay.dist()
	rep.Arrival = arrivalUser
	switch {
	case r.cfg.Arrival == ArrivalUser:
		rep.ArrivalNote = "--arrival user"
	case r.t.proto == ProtoRTMP:
		rep.ArrivalNote = "RTMP: the rtmp package's client owns the socket reads"
	case r.t.proto == ProtoHLS:
		rep.ArrivalNote = "HLS: segments are downloaded with net/http"
	case rep.StampedReads == 0:
		if r.arrival.err != nil {
			rep.ArrivalNote = "kernel timestamps unavailable: " + r.arrival.err.Error()
		} else {
			rep.ArrivalNote = "no read carried a kernel timestamp"
		}
	default:
		rep.Arrival = arrivalKernel
		if userViewers > 0 {
			rep.Arrival = arrivalMixed
			rep.ArrivalNote = fmt.Sprintf("%d viewers on kernel time, %d on user-space time", kernelViewers, userViewers)
			if r.arrival.err != nil {
				rep.ArrivalNote += " (" + r.arrival.err.Error() + ")"
			}
		}
		if miss := rep.Reads - rep.StampedReads; miss > 0 {
			if rep.ArrivalNote != "" {
				rep.ArrivalNote += "; "
			}
			rep.ArrivalNote += fmt.Sprintf("%d of %d reads had no kernel timestamp and took user-space time", miss, rep.Reads)
		}
	}
}

// arrivalLine describes the arrival clock for the table report.
func (r *Report) arrivalLine() string {
	switch r.Arrival {
	case arrivalKernel:
		return "kernel (socket receive timestamps: each read's last segment, an upper bound)"
	case arrivalMixed:
		return "mixed (kernel receive timestamps where available, else user-space)"
	}
	return "user-space (when the bench's read returned, after any queueing in the bench)"
}
