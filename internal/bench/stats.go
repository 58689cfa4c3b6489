package bench

import (
	"cmp"
	"math"
	"slices"
	"time"
)

// burstSlackUS is how much earlier than a viewer's connection start a frame
// must have been produced to count as part of its join burst: timestamps
// are whole milliseconds, so production times are known to about 1 ms.
const burstSlackUS = 2000

// percentile returns the p-th percentile (0 < p ≤ 100) of sorted by the
// nearest-rank method: the smallest value with at least p % of the values at
// or below it. It returns 0 for an empty slice.
func percentile(sorted []int64, p float64) int64 {
	n := len(sorted)
	if n == 0 {
		return 0
	}
	i := int(math.Ceil(p/100*float64(n))) - 1
	return sorted[min(max(i, 0), n-1)]
}

// distOf sorts vals (µs) in place and summarizes them in milliseconds.
func distOf(vals []int64) Dist {
	if len(vals) == 0 {
		return Dist{}
	}
	slices.Sort(vals)
	return Dist{
		Count: len(vals),
		P50:   usToMS(percentile(vals, 50)),
		P99:   usToMS(percentile(vals, 99)),
		Max:   usToMS(vals[len(vals)-1]),
	}
}

func usToMS(us int64) float64 { return math.Round(float64(us)/10) / 100 }

// burst reports whether latency sample i of v is part of its join burst:
// a frame produced (timestamp + baseline) before the viewer started
// connecting came from a cache. The slack covers millisecond timestamps.
// HLS viewers mark their first segment instead.
func (v *viewer) burst(i int, baseline int64) bool {
	if v.burstN >= 0 {
		return i < v.burstN
	}
	return int64(v.ts[i])*1000+baseline < v.startUS-burstSlackUS
}

// buildReport computes the report of a finished run. The viewers' goroutines
// must have ended.
func buildReport(r *run, viewers []*viewer, w window, proc *procSampler) *Report {
	rep := &Report{
		URL:           r.cfg.URL,
		Protocol:      r.t.proto,
		Viewers:       len(viewers),
		WindowSeconds: float64(w.endUS-w.startUS) / 1e6,
		Bytes:         w.bytes1 - w.bytes0,
	}
	if rep.WindowSeconds > 0 {
		rep.Mbps = float64(rep.Bytes) * 8 / rep.WindowSeconds / 1e6
	}

	// Baseline: the fastest delivery over all viewers and the whole run.
	baseline := int64(math.MaxInt64)
	total := 0
	for _, v := range viewers {
		for _, d := range v.d {
			baseline = min(baseline, d)
		}
		total += len(v.d)
	}

	threshold := r.cfg.BehindThreshold
	if threshold == 0 {
		threshold = DefaultBehindThreshold
		if r.t.proto == ProtoHLS {
			threshold += time.Duration(r.hlsTarget.get()*3/2) * time.Microsecond
		}
	}
	rep.BehindThresholdMS = float64(threshold) / float64(time.Millisecond)

	ttff := make([]int64, 0, len(viewers))
	all := make([]int64, 0, total)
	live := make([]int64, 0, total)
	errs := map[string]int{}
	var viewerUS int64
	for _, v := range viewers {
		if v.connUS < 0 {
			rep.Failed++
			if v.err != nil {
				errs[v.err.Error()]++
			}
			continue
		}
		rep.Connected++
		if v.ttffUS >= 0 {
			ttff = append(ttff, v.ttffUS)
		}
		for i, d := range v.d {
			lat := d - baseline
			all = append(all, lat)
			if !v.burst(i, baseline) {
				live = append(live, lat)
			}
		}
		rep.SamplesDropped += v.frames - int64(len(v.d))
		rep.SegmentsSkipped += v.skipped
		if n := v.audio.Load(); n > 0 {
			rep.AudioPackets += n
			rep.ViewersWithAudio++
		}
		switch {
		case v.early:
			rep.BehindDisconnected++
			errs[v.err.Error()]++
		case v.ttffUS < 0 || v.frames == 0:
			rep.BehindNoFrame++
		case w.endUS-(v.lastTS+baseline) > threshold.Microseconds():
			rep.BehindLagging++
		}
		end := w.endUS
		if v.early {
			end = min(end, v.endUS)
		}
		if s := max(v.connUS, w.startUS); end > s {
			viewerUS += end - s
		}
	}
	rep.Behind = rep.BehindNoFrame + rep.BehindDisconnected + rep.BehindLagging
	rep.TTFF = distOf(ttff)
	rep.Latency = distOf(live)
	rep.LatencyAll = distOf(all)
	rep.LatencyUserClock = userClockLatency(viewers)
	rep.JoinBurstFrames = len(all) - len(live)
	rep.Errors = topErrors(errs, 5)
	arrivalReport(rep, r, viewers)

	if proc != nil {
		p := &ProcessReport{PID: r.cfg.PID, ViewerSeconds: float64(viewerUS) / 1e6}
		if w.cpuErr != nil {
			p.Error = w.cpuErr.Error()
		} else {
			p.CPUSeconds = (w.cpu1 - w.cpu0).Seconds()
			if p.ViewerSeconds > 0 {
				p.CPUMsPerViewerSecond = p.CPUSeconds * 1000 / p.ViewerSeconds
			}
		}
		var err error
		p.RSSBeforeKB, p.RSSPeakKB, p.RSSHWMKB, err = proc.result()
		if err != nil && p.Error == "" {
			p.Error = err.Error()
		}
		if rep.Connected > 0 {
			p.RSSKBPerViewer = float64(p.RSSPeakKB-p.RSSBeforeKB) / float64(rep.Connected)
		}
		rep.Process = p
	}
	return rep
}

// topErrors returns the n most frequent error messages.
func topErrors(m map[string]int, n int) []ErrorCount {
	out := make([]ErrorCount, 0, len(m))
	for msg, c := range m {
		out = append(out, ErrorCount{Message: msg, Count: c})
	}
	slices.SortFunc(out, func(a, b ErrorCount) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.Message, b.Message))
	})
	if len(out) > n {
		out = out[:n]
	}
	return out
}
