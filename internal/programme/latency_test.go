package programme

import (
	"testing"
	"time"
)

func TestLatencyProbe(t *testing.T) {
	var got []time.Duration
	l := &latencyProbe{observe: func(d time.Duration) { got = append(got, d) }}
	t0 := time.Unix(1000, 0)
	for i := range 5 {
		l.in(int64(i*40), t0.Add(time.Duration(i*40)*time.Millisecond))
	}
	l.out(0, t0.Add(100*time.Millisecond))   // frame 0: 100 ms
	l.out(80, t0.Add(190*time.Millisecond))  // frame 2 (frame 1 skipped): 110 ms
	l.out(79, t0.Add(200*time.Millisecond))  // nothing newer left ≤ 79
	l.out(500, t0.Add(300*time.Millisecond)) // frame 4: 140 ms
	want := []time.Duration{100 * time.Millisecond, 110 * time.Millisecond, 140 * time.Millisecond}
	if len(got) != len(want) {
		t.Fatalf("observed %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("observation %d = %v, want %v", i, got[i], want[i])
		}
	}
	// A full ring drops the oldest frames.
	for i := range probeSize + 10 {
		l.in(int64(1000+i), t0)
	}
	if l.n-l.first != probeSize {
		t.Errorf("ring holds %d frames, want %d", l.n-l.first, probeSize)
	}
	var nilProbe *latencyProbe
	nilProbe.in(1, t0)
	nilProbe.out(1, t0)
}
