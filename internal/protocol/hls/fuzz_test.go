package hls

import (
	"bytes"
	"testing"
	"time"

	"roomcast/internal/media"
)

// Fuzz record kinds: each record is kind, DTS step (ms), payload length,
// payload.
const (
	fzAVCSeq = iota
	fzAVCKey
	fzAVCInter
	fzHEVCSeq
	fzHEVCKey
	fzAACSeq
	fzAAC
	fzDiscontinuity
	fzFlush
	fzKinds
)

func fuzzRecord(kind byte, step byte, payload []byte) []byte {
	return append([]byte{kind, step, byte(len(payload))}, payload...)
}

// FuzzSegmenter feeds arbitrary packet sequences and checks that the
// segmenter neither panics nor emits a malformed segment.
func FuzzSegmenter(f *testing.F) {
	var seed []byte
	seed = append(seed, fuzzRecord(fzAVCSeq, 0, avcConfig(testSPS, testPPS))...)
	seed = append(seed, fuzzRecord(fzAACSeq, 0, testASC)...)
	for i := range 40 {
		kind := byte(fzAVCInter)
		if i%10 == 0 {
			kind = fzAVCKey
		}
		payload := avcc(testP)
		if kind == fzAVCKey {
			payload = avcc(testIDR)
		}
		seed = append(seed, fuzzRecord(kind, 40, payload)...)
		seed = append(seed, fuzzRecord(fzAAC, 0, testAAC)...)
		if i == 25 {
			seed = append(seed, fuzzRecord(fzDiscontinuity, 0, nil)...)
		}
	}
	f.Add(seed)
	var hevc []byte
	hevc = append(hevc, fuzzRecord(fzHEVCSeq, 0, hevcConfig(testVPS, testHSPS, testHPPS))...)
	for i := range 20 {
		kind, payload := byte(fzHEVCKey), avcc(testHIDR)
		if i%5 != 0 {
			payload = avcc(testHTrail)
			hevc = append(hevc, fuzzRecord(fzAVCInter, 100, payload)...) // AVC frame: ignored
		}
		hevc = append(hevc, fuzzRecord(kind, 100, payload)...)
	}
	hevc = append(hevc, fuzzRecord(fzFlush, 0, nil)...)
	f.Add(hevc)
	f.Add(fuzzRecord(fzAACSeq, 0, escapedRateASC))
	f.Add([]byte{fzAVCSeq, 0, 5, 1, 0, 0, 0, 0xff})

	f.Fuzz(fuzzBody)
}

func fuzzBody(t *testing.T, in []byte) {
	var segs []*Segment
	parts := map[uint64][]*Part{}
	s := NewSegmenter(SegmenterConfig{TargetDuration: 500 * time.Millisecond, FirstSeq: 3, PartTarget: 100 * time.Millisecond,
		OnPart: func(p *Part) { parts[p.Seq] = append(parts[p.Seq], p) }}, func(seg *Segment) {
		segs = append(segs, seg)
	})
	var dts int64
	for len(in) >= 3 {
		kind, step, n := in[0]%fzKinds, in[1], int(in[2])
		in = in[3:]
		n = min(n, len(in))
		payload := in[:n]
		in = in[n:]
		dts += int64(step)
		var typ media.TagType
		var body []byte
		switch kind {
		case fzAVCSeq, fzAVCKey, fzAVCInter:
			typ, body = media.TagVideo, videoBody(7, kind != fzAVCInter, kind == fzAVCSeq, int32(step)-64, payload)
		case fzHEVCSeq, fzHEVCKey:
			typ, body = media.TagVideo, videoBody(12, true, kind == fzHEVCSeq, 0, payload)
		case fzAACSeq, fzAAC:
			typ, body = media.TagAudio, audioBody(kind == fzAACSeq, payload)
		case fzDiscontinuity:
			_ = s.Discontinuity()
			continue
		case fzFlush:
			_ = s.Flush()
			continue
		}
		p, err := media.NewPacket(typ, dts, body)
		if err != nil {
			continue
		}
		_ = s.WritePacket(p)
	}
	_ = s.Flush()
	for i, seg := range segs {
		if seg.Seq != uint64(3+i) {
			t.Fatalf("segment %d has seq %d", i, seg.Seq)
		}
		if len(seg.Data) == 0 || len(seg.Data)%188 != 0 || seg.Data[0] != 0x47 || seg.Data[1]&0x1f != 0 || seg.Data[2] != 0 {
			t.Fatalf("segment %d: %d bytes, starting % x", seg.Seq, len(seg.Data), seg.Data[:min(len(seg.Data), 4)])
		}
		if seg.Duration < 0 {
			t.Fatalf("segment %d: duration %v", seg.Seq, seg.Duration)
		}
		if i > 0 && seg.DiscontinuitySeq < segs[i-1].DiscontinuitySeq {
			t.Fatalf("segment %d: discontinuity sequence went back", seg.Seq)
		}
		// Parts: numbered from 0, whole TS packets starting with PAT, and
		// joined, the segment.
		var joined []byte
		var sum time.Duration
		for j, p := range parts[seg.Seq] {
			if p.Index != j || len(p.Data) == 0 || len(p.Data)%188 != 0 || p.Data[0] != 0x47 || p.Data[1]&0x1f != 0 || p.Data[2] != 0 {
				t.Fatalf("segment %d part %d: index %d, %d bytes", seg.Seq, j, p.Index, len(p.Data))
			}
			joined = append(joined, p.Data...)
			sum += p.Duration
		}
		if !bytes.Equal(joined, seg.Data) {
			t.Fatalf("segment %d: %d parts joined are %d bytes, the segment %d", seg.Seq, len(parts[seg.Seq]), len(joined), len(seg.Data))
		}
		if sum != seg.Duration {
			t.Fatalf("segment %d: parts last %v, the segment %v", seg.Seq, sum, seg.Duration)
		}
	}
	if len(parts) > len(segs) {
		t.Fatalf("parts of %d segments, %d segments", len(parts), len(segs))
	}
}
