package bench

import (
	"testing"
)

func TestPercentile(t *testing.T) {
	seq := func(n int) []int64 {
		s := make([]int64, n)
		for i := range s {
			s[i] = int64(i + 1)
		}
		return s
	}
	tests := []struct {
		name string
		vals []int64
		p    float64
		want int64
	}{
		{"empty", nil, 50, 0},
		{"single p50", []int64{7}, 50, 7},
		{"single p99", []int64{7}, 99, 7},
		{"two p50", []int64{1, 2}, 50, 1},
		{"two p99", []int64{1, 2}, 99, 2},
		{"1..100 p50", seq(100), 50, 50},
		{"1..100 p99", seq(100), 99, 99},
		{"1..100 p100", seq(100), 100, 100},
		{"1..1000 p99", seq(1000), 99, 990},
		{"1..10 p99", seq(10), 99, 10},
		{"1..10 p1", seq(10), 1, 1},
	}
	for _, tt := range tests {
		if got := percentile(tt.vals, tt.p); got != tt.want {
			t.Errorf("%s: percentile(%v) = %d, want %d", tt.name, tt.p, got, tt.want)
		}
	}
}

func TestDistOf(t *testing.T) {
	vals := []int64{9000, 1000, 3000, 2000, 4000} // µs, unsorted
	d := distOf(vals)
	if d.Count != 5 || d.P50 != 3 || d.P99 != 9 || d.Max != 9 {
		t.Fatalf("distOf = %+v", d)
	}
	if d := distOf(nil); d.Count != 0 {
		t.Fatalf("distOf(nil) = %+v", d)
	}
	if got := usToMS(1234); got != 1.23 {
		t.Fatalf("usToMS(1234) = %v", got)
	}
}

func TestTopErrors(t *testing.T) {
	got := topErrors(map[string]int{"a": 1, "b": 5, "c": 5, "d": 2}, 3)
	want := []ErrorCount{{"b", 5}, {"c", 5}, {"d", 2}}
	if len(got) != len(want) {
		t.Fatalf("got %v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("got %v, want %v", got, want)
		}
	}
}

// TestBuildReport checks the latency baseline, join-burst exclusion, behind
// categories and per-viewer costs on hand-made viewers.
func TestBuildReport(t *testing.T) {
	r := &run{cfg: Config{URL: "http://127.0.0.1/x.flv", PID: 1}, t: &target{proto: ProtoFLV}}
	mk := func(start, conn, ttff int64) *viewer {
		return &viewer{r: r, startUS: start, connUS: conn, ttffUS: ttff, burstN: -1}
	}
	// Frames are produced at ts and the fastest delivery takes 2 ms.
	a := mk(0, 1000, 5000)
	for ts := int64(0); ts <= 10_000; ts += 40 {
		a.frame(ts*1000, ts*1000+2000) // 2 ms
	}
	// b joins at 5 s and gets a burst of frames from 4 s (cache), then live.
	b := mk(5_000_000, 5_001_000, 3000)
	for ts := int64(4000); ts < 5000; ts += 40 {
		b.frame(ts*1000, 5_003_000)
	}
	for ts := int64(5000); ts <= 10_000; ts += 40 {
		b.frame(ts*1000, ts*1000+12_000) // 12 ms
	}
	// c stalls: its last frame is at 2 s.
	c := mk(0, 1000, 4000)
	for ts := int64(0); ts <= 2000; ts += 40 {
		c.frame(ts*1000, ts*1000+5000)
	}
	d := mk(0, 1000, 4000) // disconnected early
	d.early, d.err, d.endUS = true, errStreamEnded, 3_000_000
	e := mk(0, 1000, -1)                                                                    // never got a frame
	f := &viewer{r: r, startUS: 0, connUS: -1, ttffUS: -1, burstN: -1, err: errBadResponse} // failed

	w := window{startUS: 1_000_000, endUS: 10_050_000, bytes0: 100, bytes1: 1_000_100, cpu0: 0, cpu1: 900_000_000}
	ps := &procSampler{before: memInfo{rss: 1000}, peak: 6000, last: memInfo{hwm: 7000}}
	rep := buildReport(r, []*viewer{a, b, c, d, e, f}, w, ps)

	if rep.Connected != 5 || rep.Failed != 1 {
		t.Errorf("connected %d failed %d", rep.Connected, rep.Failed)
	}
	if rep.Behind != 3 || rep.BehindLagging != 1 || rep.BehindDisconnected != 1 || rep.BehindNoFrame != 1 {
		t.Errorf("behind %d (lag %d disc %d noframe %d)", rep.Behind, rep.BehindLagging, rep.BehindDisconnected, rep.BehindNoFrame)
	}
	if rep.JoinBurstFrames != 25 {
		t.Errorf("join burst frames %d, want 25", rep.JoinBurstFrames)
	}
	if rep.Latency.Max != 10 || rep.Latency.P50 != 0 {
		t.Errorf("latency %+v, want p50 0 max 10 ms", rep.Latency)
	}
	if rep.LatencyAll.Max < 999 {
		t.Errorf("latency all %+v: join burst missing", rep.LatencyAll)
	}
	if rep.TTFF.Count != 4 || rep.TTFF.P50 != 4 {
		t.Errorf("ttff %+v", rep.TTFF)
	}
	if got := rep.Mbps; got < 0.88 || got > 0.89 { // 8 Mbit over 9.05 s
		t.Errorf("Mbps %v", got)
	}
	p := rep.Process
	// Viewer-seconds: a, b (from 5.001 s), c, e for the whole window; d until 3 s.
	wantVS := 9.05*3 + (10.05 - 5.001) + 2
	if p.ViewerSeconds < wantVS-0.001 || p.ViewerSeconds > wantVS+0.001 {
		t.Errorf("viewer-seconds %v, want %v", p.ViewerSeconds, wantVS)
	}
	if p.CPUSeconds != 0.9 || p.RSSKBPerViewer != 1000 || p.RSSHWMKB != 7000 {
		t.Errorf("process %+v", p)
	}
	if len(rep.Errors) != 2 {
		t.Errorf("errors %v", rep.Errors)
	}
}
