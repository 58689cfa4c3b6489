package hls

import (
	"strconv"
	"testing"
	"time"
)

func partURI(p PartInfo) string {
	return "room/ab-" + strconv.FormatUint(p.Seq, 10) + "." + strconv.Itoa(p.Index) + ".ts"
}

func part(seq uint64, idx int, ms int64, indep bool) PartInfo {
	return PartInfo{Seq: seq, Index: idx, Duration: time.Duration(ms) * time.Millisecond, Independent: indep}
}

func TestLowLatencyRender(t *testing.T) {
	pdt := time.Date(2026, 12, 3, 7, 0, 0, 0, time.UTC)
	withPDT := func(s SegmentInfo, at time.Time) SegmentInfo { s.ProgramDateTime = at; return s }
	tests := []struct {
		name string
		pl   MediaPlaylist
		want string
	}{
		{
			name: "parts of the last segment and of the open one",
			pl: MediaPlaylist{TargetDuration: time.Second, Segments: []SegmentInfo{
				withPDT(seg(4, 1000, false, 0), pdt), withPDT(seg(5, 1000, false, 0), pdt.Add(time.Second)),
			}, LowLatency: &LowLatency{
				PartTarget: 250 * time.Millisecond,
				Parts: []PartInfo{
					part(5, 0, 240, true), part(5, 1, 240, false), part(5, 2, 240, false), part(5, 3, 240, false), part(5, 4, 40, false),
					part(6, 0, 240, true),
				},
				Open:    SegmentInfo{Seq: 6, ProgramDateTime: pdt.Add(2 * time.Second)},
				PartURI: partURI,
			}},
			want: `#EXTM3U
#EXT-X-VERSION:3
#EXT-X-TARGETDURATION:1
#EXT-X-MEDIA-SEQUENCE:4
#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=0.750
#EXT-X-PART-INF:PART-TARGET=0.250
#EXT-X-PROGRAM-DATE-TIME:2026-12-03T07:00:00.000Z
#EXTINF:1.000,
room/ab-4.ts
#EXT-X-PROGRAM-DATE-TIME:2026-12-03T07:00:01.000Z
#EXT-X-PART:DURATION=0.240,URI="room/ab-5.0.ts",INDEPENDENT=YES
#EXT-X-PART:DURATION=0.240,URI="room/ab-5.1.ts"
#EXT-X-PART:DURATION=0.240,URI="room/ab-5.2.ts"
#EXT-X-PART:DURATION=0.240,URI="room/ab-5.3.ts"
#EXT-X-PART:DURATION=0.040,URI="room/ab-5.4.ts"
#EXTINF:1.000,
room/ab-5.ts
#EXT-X-PROGRAM-DATE-TIME:2026-12-03T07:00:02.000Z
#EXT-X-PART:DURATION=0.240,URI="room/ab-6.0.ts",INDEPENDENT=YES
#EXT-X-PRELOAD-HINT:TYPE=PART,URI="room/ab-6.1.ts"
`,
		},
		{
			name: "a segment just ended: the hint names the next segment's first part",
			pl: MediaPlaylist{TargetDuration: time.Second, Segments: []SegmentInfo{seg(7, 1000, false, 0)}, LowLatency: &LowLatency{
				PartTarget:   200 * time.Millisecond,
				PartHoldBack: time.Second,
				Parts:        []PartInfo{part(7, 0, 500, true), part(7, 1, 500, true)},
				Open:         SegmentInfo{Seq: 8, Discontinuity: true},
				PartURI:      partURI,
			}},
			want: `#EXTM3U
#EXT-X-VERSION:3
#EXT-X-TARGETDURATION:1
#EXT-X-MEDIA-SEQUENCE:7
#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=1.000
#EXT-X-PART-INF:PART-TARGET=0.200
#EXT-X-PART:DURATION=0.500,URI="room/ab-7.0.ts",INDEPENDENT=YES
#EXT-X-PART:DURATION=0.500,URI="room/ab-7.1.ts",INDEPENDENT=YES
#EXTINF:1.000,
room/ab-7.ts
#EXT-X-PRELOAD-HINT:TYPE=PART,URI="room/ab-8.0.ts"
`,
		},
		{
			name: "ended: no hint",
			pl: MediaPlaylist{TargetDuration: time.Second, Segments: []SegmentInfo{seg(7, 1000, false, 0)}, Ended: true, LowLatency: &LowLatency{
				PartTarget: 250 * time.Millisecond,
				Parts:      []PartInfo{part(7, 0, 240, true)},
				Open:       SegmentInfo{Seq: 8},
				PartURI:    partURI,
			}},
			want: `#EXTM3U
#EXT-X-VERSION:3
#EXT-X-TARGETDURATION:1
#EXT-X-MEDIA-SEQUENCE:7
#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=0.750
#EXT-X-PART-INF:PART-TARGET=0.250
#EXT-X-PART:DURATION=0.240,URI="room/ab-7.0.ts",INDEPENDENT=YES
#EXTINF:1.000,
room/ab-7.ts
#EXT-X-ENDLIST
`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.pl.URI = uri
			if got := string(tt.pl.Render()); got != tt.want {
				t.Errorf("got:\n%s\nwant:\n%s", got, tt.want)
			}
		})
	}
}
