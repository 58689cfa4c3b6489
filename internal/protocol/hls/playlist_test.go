package hls

import (
	"strconv"
	"strings"
	"testing"
	"time"
)

func seg(seq uint64, ms int64, disc bool, discSeq uint64) SegmentInfo {
	return SegmentInfo{Seq: seq, Duration: time.Duration(ms) * time.Millisecond, Discontinuity: disc, DiscontinuitySeq: discSeq}
}

func uri(s SegmentInfo) string { return "room/ab-" + strconv.FormatUint(s.Seq, 10) + ".ts" }

func TestMediaPlaylistRender(t *testing.T) {
	tests := []struct {
		name string
		pl   MediaPlaylist
		want string
	}{
		{
			name: "live window",
			pl: MediaPlaylist{TargetDuration: 2 * time.Second, Segments: []SegmentInfo{
				seg(10, 2000, false, 0), seg(11, 2002, false, 0), seg(12, 1998, false, 0),
			}},
			want: `#EXTM3U
#EXT-X-VERSION:3
#EXT-X-TARGETDURATION:3
#EXT-X-MEDIA-SEQUENCE:10
#EXTINF:2.000,
room/ab-10.ts
#EXTINF:2.002,
room/ab-11.ts
#EXTINF:1.998,
room/ab-12.ts
`,
		},
		{
			name: "live, republished in the window",
			pl: MediaPlaylist{TargetDuration: 2 * time.Second, Segments: []SegmentInfo{
				seg(3, 2000, false, 0), seg(4, 700, false, 0), seg(5, 2000, true, 1), seg(6, 2000, false, 1),
			}},
			want: `#EXTM3U
#EXT-X-VERSION:3
#EXT-X-TARGETDURATION:2
#EXT-X-MEDIA-SEQUENCE:3
#EXTINF:2.000,
room/ab-3.ts
#EXTINF:0.700,
room/ab-4.ts
#EXT-X-DISCONTINUITY
#EXTINF:2.000,
room/ab-5.ts
#EXTINF:2.000,
room/ab-6.ts
`,
		},
		{
			name: "live, discontinuity at the head of the window",
			pl: MediaPlaylist{TargetDuration: 2 * time.Second, Segments: []SegmentInfo{
				seg(5, 2000, true, 1), seg(6, 2000, false, 1),
			}},
			want: `#EXTM3U
#EXT-X-VERSION:3
#EXT-X-TARGETDURATION:2
#EXT-X-MEDIA-SEQUENCE:5
#EXT-X-DISCONTINUITY
#EXTINF:2.000,
room/ab-5.ts
#EXTINF:2.000,
room/ab-6.ts
`,
		},
		{
			name: "live, discontinuities slid out",
			pl: MediaPlaylist{TargetDuration: 2 * time.Second, Segments: []SegmentInfo{
				seg(6, 2000, false, 1), seg(7, 4500, false, 1), seg(8, 1000, true, 2), seg(9, 2000, true, 3),
			}},
			want: `#EXTM3U
#EXT-X-VERSION:3
#EXT-X-TARGETDURATION:5
#EXT-X-MEDIA-SEQUENCE:6
#EXT-X-DISCONTINUITY-SEQUENCE:1
#EXTINF:2.000,
room/ab-6.ts
#EXTINF:4.500,
room/ab-7.ts
#EXT-X-DISCONTINUITY
#EXTINF:1.000,
room/ab-8.ts
#EXT-X-DISCONTINUITY
#EXTINF:2.000,
room/ab-9.ts
`,
		},
		{
			name: "live, head is a later discontinuity",
			pl: MediaPlaylist{TargetDuration: 6 * time.Second, Segments: []SegmentInfo{
				seg(9, 2000, true, 3), seg(10, 2000, false, 3),
			}},
			want: `#EXTM3U
#EXT-X-VERSION:3
#EXT-X-TARGETDURATION:6
#EXT-X-MEDIA-SEQUENCE:9
#EXT-X-DISCONTINUITY-SEQUENCE:2
#EXT-X-DISCONTINUITY
#EXTINF:2.000,
room/ab-9.ts
#EXTINF:2.000,
room/ab-10.ts
`,
		},
		{
			name: "live, ended",
			pl:   MediaPlaylist{Segments: []SegmentInfo{seg(0, 1500, false, 0)}, Ended: true},
			want: `#EXTM3U
#EXT-X-VERSION:3
#EXT-X-TARGETDURATION:2
#EXT-X-MEDIA-SEQUENCE:0
#EXTINF:1.500,
room/ab-0.ts
#EXT-X-ENDLIST
`,
		},
		{
			name: "empty",
			pl:   MediaPlaylist{},
			want: `#EXTM3U
#EXT-X-VERSION:3
#EXT-X-TARGETDURATION:1
#EXT-X-MEDIA-SEQUENCE:0
`,
		},
		{
			name: "VOD",
			pl: MediaPlaylist{Type: PlaylistVOD, Segments: []SegmentInfo{
				seg(0, 2000, false, 0), seg(1, 3001, false, 0), seg(2, 2000, true, 1), seg(3, 10, false, 1),
			}},
			want: `#EXTM3U
#EXT-X-VERSION:3
#EXT-X-TARGETDURATION:4
#EXT-X-MEDIA-SEQUENCE:0
#EXT-X-PLAYLIST-TYPE:VOD
#EXTINF:2.000,
room/ab-0.ts
#EXTINF:3.001,
room/ab-1.ts
#EXT-X-DISCONTINUITY
#EXTINF:2.000,
room/ab-2.ts
#EXTINF:0.010,
room/ab-3.ts
#EXT-X-ENDLIST
`,
		},
		{
			name: "event, still recording",
			pl:   MediaPlaylist{Type: PlaylistEvent, TargetDuration: 2 * time.Second, Segments: []SegmentInfo{seg(0, 2000, false, 0)}},
			want: `#EXTM3U
#EXT-X-VERSION:3
#EXT-X-TARGETDURATION:2
#EXT-X-MEDIA-SEQUENCE:0
#EXT-X-PLAYLIST-TYPE:EVENT
#EXTINF:2.000,
room/ab-0.ts
`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.pl.URI == nil {
				tc.pl.URI = uri
			}
			if got := string(tc.pl.Render()); got != tc.want {
				t.Errorf("got:\n%s\nwant:\n%s", got, tc.want)
			}
		})
	}
}

// TestPlaylistFromSegmenter renders what the segmenter produced across a
// discontinuity, sliding a window over it, and checks that each segment
// keeps its discontinuity sequence number as the window moves
// (RFC 8216 6.2.2).
func TestPlaylistFromSegmenter(t *testing.T) {
	c := newCollect(SegmenterConfig{})
	c.feed(t, streamSpec{fps: 25, gopMs: 2000, audio: true, durMs: 6000}.packets(t))
	_ = c.Discontinuity()
	c.feed(t, streamSpec{fps: 25, gopMs: 2000, audio: true, startMs: 6000, durMs: 8000, noHeader: true}.packets(t))
	_ = c.Flush()
	if len(c.segs) != 7 {
		t.Fatalf("%d segments: %s", len(c.segs), cutSummary(c.segs))
	}
	var infos []SegmentInfo
	for _, s := range c.segs {
		infos = append(infos, s.SegmentInfo)
	}
	for start := range len(infos) - 2 {
		win := infos[start : start+3]
		pl := MediaPlaylist{Segments: win, URI: uri, TargetDuration: 2 * time.Second}
		got := parseDiscSeqs(t, string(pl.Render()))
		for i, s := range win {
			if got[i] != s.DiscontinuitySeq {
				t.Errorf("window at %d: segment %d has discontinuity sequence %d, want %d", start, s.Seq, got[i], s.DiscontinuitySeq)
			}
		}
	}
}

// parseDiscSeqs returns each segment's discontinuity sequence number as a
// client computes it from a playlist.
func parseDiscSeqs(t *testing.T, pl string) []uint64 {
	t.Helper()
	var out []uint64
	var n uint64
	for line := range strings.SplitSeq(pl, "\n") {
		switch {
		case strings.HasPrefix(line, "#EXT-X-DISCONTINUITY-SEQUENCE:"):
			v, err := strconv.ParseUint(strings.TrimPrefix(line, "#EXT-X-DISCONTINUITY-SEQUENCE:"), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			n = v
		case line == "#EXT-X-DISCONTINUITY":
			n++
		case line != "" && line[0] != '#':
			out = append(out, n)
		}
	}
	return out
}
