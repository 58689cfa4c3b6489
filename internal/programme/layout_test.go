package programme

import (
	"strings"
	"testing"
)

func TestPlace(t *testing.T) {
	for _, tc := range []struct {
		kind string
		n    int
		want []tile
	}{
		{LayoutPIP, 1, []tile{{0, 0, 1280, 720}}},
		{LayoutPIP, 3, []tile{{0, 0, 1280, 720}, {942, 522, 320, 180}, {942, 324, 320, 180}}},
		{LayoutGrid, 2, []tile{{0, 0, 640, 720}, {640, 0, 640, 720}}},
		{LayoutGrid, 4, []tile{{0, 0, 640, 360}, {640, 0, 640, 360}, {0, 360, 640, 360}, {640, 360, 640, 360}}},
	} {
		got := place(tc.kind, 1280, 720, tc.n)
		if len(got) != len(tc.want) {
			t.Fatalf("%s %d: %v", tc.kind, tc.n, got)
		}
		for i := range got {
			if got[i] != tc.want[i] {
				t.Errorf("%s %d: tile %d = %v, want %v", tc.kind, tc.n, i, got[i], tc.want[i])
			}
		}
	}
}

func TestMixArgs(t *testing.T) {
	l := layout{width: 1280, height: 720, fps: 25, tiles: place(LayoutPIP, 1280, 720, 3), audio: []bool{true, false, true}}
	args := mixArgs(l)
	joined := strings.Join(args, " ")
	for _, want := range []string{"-i pipe:0", "-i pipe:3", "-i pipe:4", "[0:a][2:a]amix=inputs=2", "-r 25", "-g 25", "pipe:1"} {
		if !strings.Contains(joined, want) {
			t.Errorf("args lack %q: %s", want, joined)
		}
	}
	for _, a := range args {
		if strings.Contains(a, "://") || strings.HasPrefix(a, "/") || strings.Contains(a, "..") {
			t.Errorf("argument %q names a URL or path", a)
		}
	}
	if g := filterGraph(layout{width: 640, height: 360, fps: 30, tiles: place(LayoutPIP, 640, 360, 2), audio: []bool{false, false}}); strings.Contains(g, "[a]") {
		t.Errorf("a graph without audio inputs mixes audio: %s", g)
	}
}
