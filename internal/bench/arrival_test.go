package bench

import (
	"errors"
	"strings"
	"testing"
)

// TestArrivalReport checks which arrival clock the report names.
func TestArrivalReport(t *testing.T) {
	// mk makes a viewer with reads reads, stamped of them stamped.
	mk := func(kernel bool, reads, stamped int64) *viewer {
		return &viewer{kernelArrival: kernel, reads: reads, stampedReads: stamped}
	}
	setupErr := errors.New("setsockopt SO_TIMESTAMPING: operation not supported")
	tests := []struct {
		name, arrival, proto string
		err                  error
		viewers              []*viewer
		want, note           string // note: a substring of ArrivalNote
	}{
		{"kernel", "", ProtoFLV, nil, []*viewer{mk(true, 10, 10), mk(true, 5, 5)}, arrivalKernel, ""},
		{"kernel, some reads unstamped", ArrivalKernel, ProtoWSFLV, nil, []*viewer{mk(true, 10, 9), mk(true, 5, 5)}, arrivalKernel, "1 of 15 reads"},
		{"asked for user", ArrivalUser, ProtoFLV, nil, []*viewer{mk(false, 10, 0)}, arrivalUser, "--arrival user"},
		{"rtmp", "", ProtoRTMP, nil, []*viewer{mk(false, 0, 0)}, arrivalUser, "RTMP"},
		{"hls", "", ProtoHLS, nil, []*viewer{mk(false, 0, 0)}, arrivalUser, "HLS"},
		{"unavailable", "", ProtoFLV, setupErr, []*viewer{mk(false, 10, 0)}, arrivalUser, "unavailable: setsockopt"},
		{"never stamped", "", ProtoFLV, nil, []*viewer{mk(true, 10, 0)}, arrivalUser, "no read carried"},
		{"mixed", "", ProtoFLV, setupErr, []*viewer{mk(true, 10, 10), mk(false, 4, 0), mk(false, 0, 0)}, arrivalMixed, "1 viewers on kernel time, 1 on user-space"},
	}
	for _, tt := range tests {
		r := &run{cfg: Config{Arrival: tt.arrival}, t: &target{proto: tt.proto}}
		if tt.err != nil {
			r.arrival.fail(tt.err)
		}
		var rep Report
		arrivalReport(&rep, r, tt.viewers)
		if rep.Arrival != tt.want || !strings.Contains(rep.ArrivalNote, tt.note) || (tt.note == "" && rep.ArrivalNote != "") {
			t.Errorf("%s: arrival %q, note %q; want %q, %q", tt.name, rep.Arrival, rep.ArrivalNote, tt.want, tt.note)
		}
		if line := rep.arrivalLine(); !strings.HasPrefix(line, tt.want) {
			t.Errorf("%s: line %q", tt.name, line)
		}
	}
}

func TestDelayHist(t *testing.T) {
	var h delayHist
	if d := h.dist(); d.Count != 0 {
		t.Fatalf("empty: %+v", d)
	}
	for i := int64(0); i < 98; i++ {
		h.add(1000 + i) // 1.0–1.097 ms: bucket 10
	}
	h.add(-5)        // counts as 0
	h.add(2_000_000) // 2 s: the overflow bucket
	d := h.dist()
	if d.Count != 100 || d.P50 != 1.1 || d.P99 != 1.1 || d.Max != 2000 {
		t.Errorf("%+v, want n=100 p50 1.1 p99 1.1 max 2000", d)
	}
	h.add(700_000)
	if d := h.dist(); d.Max != 2000 || d.P99 != 2000 || d.P50 != 1.1 {
		t.Errorf("with a 700 ms delay: %+v", d)
	}
}

// TestUserClockLatency checks the same-run user-space latency: kernel
// arrival plus each sample's read delay, against its own baseline.
func TestUserClockLatency(t *testing.T) {
	mk := func(d []int64, q []int32) *viewer {
		v := &viewer{burstN: -1, connUS: 0, kernelArrival: q != nil, d: d, q: q}
		for range d {
			v.ts = append(v.ts, 10_000) // produced long after the start: live
		}
		return v
	}
	if got := userClockLatency([]*viewer{mk([]int64{2000}, nil)}); got != nil {
		t.Errorf("user-space arrival: %+v, want nil", got)
	}
	got := userClockLatency([]*viewer{
		mk([]int64{2000, 3000}, []int32{0, 10_000}),
		mk([]int64{2500}, []int32{500}),
	})
	// User-space d: 2000, 13000, 3000; baseline 2000.
	if got == nil || got.Count != 3 || got.P50 != 1 || got.Max != 11 {
		t.Errorf("%+v, want n=3 p50 1 max 11", got)
	}
}
