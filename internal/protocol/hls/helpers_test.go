package hls

import (
	"sort"
	"testing"

	"roomcast/internal/media"
)

// A real H.264 SPS/PPS pair (High profile, 160x120) and tiny fake slices:
// the segmenter never decodes pictures.
var (
	testSPS = []byte{0x67, 0x64, 0x00, 0x0c, 0xac, 0x3b, 0x50, 0xb0, 0x4b, 0x42, 0x00, 0x00, 0x03, 0x00, 0x02, 0x00, 0x00, 0x03, 0x00, 0x3d, 0x08}
	testPPS = []byte{0x68, 0xee, 0x3c, 0x80}
	testIDR = []byte{0x65, 0x88, 0x84, 0x00, 0x33, 0xff}
	testP   = []byte{0x41, 0x9a, 0x21, 0x6c, 0x42}
	// AAC-LC 44.1 kHz stereo.
	testASC = []byte{0x12, 0x10}
	testAAC = []byte{0x21, 0x10, 0x04, 0x60, 0x8c, 0x1c}

	// H.265 parameter sets and slices (fake payloads, real NAL headers).
	testVPS    = []byte{0x40, 0x01, 0x0c, 0x01}
	testHSPS   = []byte{0x42, 0x01, 0x01, 0x01}
	testHPPS   = []byte{0x44, 0x01, 0xc1, 0x72}
	testHIDR   = []byte{0x26, 0x01, 0xaf, 0x09}
	testHTrail = []byte{0x02, 0x01, 0xd0, 0x28}
)

// avcConfig builds an AVCDecoderConfigurationRecord with 4-byte lengths.
func avcConfig(sps, pps []byte) []byte {
	b := []byte{1, sps[1], sps[2], sps[3], 0xff, 0xe1, byte(len(sps) >> 8), byte(len(sps))}
	b = append(b, sps...)
	b = append(b, 1, byte(len(pps)>>8), byte(len(pps)))
	return append(b, pps...)
}

// hevcConfig builds an HEVCDecoderConfigurationRecord with 4-byte lengths.
func hevcConfig(vps, sps, pps []byte) []byte {
	b := make([]byte, 23)
	b[0] = 1
	b[21] = 0x0f // lengthSizeMinusOne = 3
	b[22] = 3
	for i, n := range [][]byte{vps, sps, pps} {
		b = append(b, 0x80|byte(32+i), 0, 1, byte(len(n)>>8), byte(len(n)))
		b = append(b, n...)
	}
	return b
}

// avcc joins NAL units with 4-byte length prefixes.
func avcc(nalus ...[]byte) []byte {
	var b []byte
	for _, n := range nalus {
		l := len(n)
		b = append(b, byte(l>>24), byte(l>>16), byte(l>>8), byte(l))
		b = append(b, n...)
	}
	return b
}

func newPacket(t testing.TB, typ media.TagType, dts int64, body []byte) *media.Packet {
	t.Helper()
	p, err := media.NewPacket(typ, dts, body)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// videoBody builds an FLV video tag body: codec 7 (AVC) or 12 (HEVC).
func videoBody(codec byte, key, seq bool, cts int32, payload []byte) []byte {
	ft := byte(0x20)
	if key {
		ft = 0x10
	}
	pt := byte(1)
	if seq {
		pt = 0
	}
	b := []byte{ft | codec, pt, byte(cts >> 16), byte(cts >> 8), byte(cts)}
	return append(b, payload...)
}

func audioBody(seq bool, payload []byte) []byte {
	pt := byte(1)
	if seq {
		pt = 0
	}
	return append([]byte{0xaf, pt}, payload...)
}

func avcSeqPacket(t testing.TB, dts int64, sps, pps []byte) *media.Packet {
	return newPacket(t, media.TagVideo, dts, videoBody(7, true, true, 0, avcConfig(sps, pps)))
}

func aacSeqPacket(t testing.TB, dts int64) *media.Packet {
	return newPacket(t, media.TagAudio, dts, audioBody(true, testASC))
}

// streamSpec describes a synthetic stream.
type streamSpec struct {
	fps      int   // video frames per second (0: no video)
	gopMs    int64 // keyframe spacing
	audio    bool  // AAC 44.1 kHz
	startMs  int64
	durMs    int64
	bframes  bool // give non-key frames a composition offset
	hevc     bool
	noHeader bool
}

// audioFrameDTS is the DTS of AAC frame j at 44.1 kHz.
func audioFrameDTS(start int64, j int) int64 {
	return start + (int64(j)*1024*1000+44100/2)/44100
}

// packets returns the stream's packets in DTS order (video before audio at
// equal DTS), headed by the sequence headers.
func (s streamSpec) packets(t testing.TB) []*media.Packet {
	t.Helper()
	var out []*media.Packet
	if !s.noHeader {
		if s.fps > 0 {
			if s.hevc {
				out = append(out, newPacket(t, media.TagVideo, s.startMs, videoBody(12, true, true, 0, hevcConfig(testVPS, testHSPS, testHPPS))))
			} else {
				out = append(out, avcSeqPacket(t, s.startMs, testSPS, testPPS))
			}
		}
		if s.audio {
			out = append(out, aacSeqPacket(t, s.startMs))
		}
	}
	var frames []*media.Packet
	if s.fps > 0 {
		codec := byte(7)
		idr, p := testIDR, testP
		if s.hevc {
			codec, idr, p = 12, testHIDR, testHTrail
		}
		nextKey := s.startMs
		for i := 0; ; i++ {
			dts := s.startMs + int64(i)*1000/int64(s.fps)
			if dts >= s.startMs+s.durMs {
				break
			}
			key := dts >= nextKey
			if key {
				nextKey += s.gopMs
			}
			var cts int32
			nal := p
			if key {
				nal = idr
			} else if s.bframes {
				cts = int32(2 * 1000 / s.fps)
			}
			frames = append(frames, newPacket(t, media.TagVideo, dts, videoBody(codec, key, false, cts, avcc(nal))))
		}
	}
	if s.audio {
		for j := 0; ; j++ {
			dts := audioFrameDTS(s.startMs, j)
			if dts >= s.startMs+s.durMs {
				break
			}
			frames = append(frames, newPacket(t, media.TagAudio, dts, audioBody(false, testAAC)))
		}
	}
	sort.SliceStable(frames, func(i, j int) bool {
		if frames[i].DTS != frames[j].DTS {
			return frames[i].DTS < frames[j].DTS
		}
		return frames[i].Type == media.TagVideo && frames[j].Type != media.TagVideo
	})
	return append(out, frames...)
}

// collect is a segmenter whose segments are appended to a slice.
type collect struct {
	*Segmenter
	segs []*Segment
}

func newCollect(cfg SegmenterConfig) *collect {
	c := &collect{}
	c.Segmenter = NewSegmenter(cfg, func(s *Segment) { c.segs = append(c.segs, s) })
	return c
}

func (c *collect) feed(t testing.TB, pkts []*media.Packet) {
	t.Helper()
	for _, p := range pkts {
		if err := c.WritePacket(p); err != nil {
			t.Fatalf("WritePacket(%v at %d): %v", p.Type, p.DTS, err)
		}
	}
}
