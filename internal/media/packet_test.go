package media

import (
	"errors"
	"testing"
)

func TestNewPacket(t *testing.T) {
	tests := []struct {
		name    string
		typ     TagType
		data    []byte
		codec   Codec
		key     bool
		seq     bool
		cts     int32
		payload int
		err     error
	}{
		{"avc seq header", TagVideo, []byte{0x17, 0, 0, 0, 0, 1}, CodecH264, true, true, 0, 5, nil},
		{"avc keyframe cts", TagVideo, []byte{0x17, 1, 0, 0, 40, 0}, CodecH264, true, false, 40, 5, nil},
		{"avc inter negative cts", TagVideo, []byte{0x27, 1, 0xff, 0xff, 0xd8, 0}, CodecH264, false, false, -40, 5, nil},
		{"legacy hevc id 12", TagVideo, []byte{0x1c, 0, 0, 0, 0, 1}, CodecH265, true, true, 0, 5, nil},
		{"enhanced hvc1 seq start", TagVideo, []byte{0x90, 'h', 'v', 'c', '1', 1}, CodecH265, true, true, 0, 5, nil},
		{"enhanced hvc1 coded frames", TagVideo, []byte{0xa1, 'h', 'v', 'c', '1', 0, 0, 80, 9}, CodecH265, false, false, 80, 8, nil},
		{"enhanced hvc1 coded frames x", TagVideo, []byte{0x93, 'h', 'v', 'c', '1', 9}, CodecH265, true, false, 0, 5, nil},
		{"enhanced unknown fourcc passes", TagVideo, []byte{0x91, 'a', 'v', '0', '1', 9}, CodecOther, true, false, 0, 5, nil},
		{"other video codec passes", TagVideo, []byte{0x12, 9}, CodecOther, true, false, 0, 1, nil},
		{"aac seq header", TagAudio, []byte{0xaf, 0, 0x12, 0x10}, CodecAAC, false, true, 0, 2, nil},
		{"aac raw", TagAudio, []byte{0xaf, 1, 0x21}, CodecAAC, false, false, 0, 2, nil},
		{"mp3 passes", TagAudio, []byte{0x2f, 1}, CodecOther, false, false, 0, 1, nil},
		{"script", TagScript, []byte{2, 0, 1, 'x'}, CodecOther, false, false, 0, 0, nil},
		{"empty video", TagVideo, nil, 0, false, false, 0, 0, ErrShortPayload},
		{"truncated avc", TagVideo, []byte{0x17, 1, 0}, 0, false, false, 0, 0, ErrShortPayload},
		{"truncated enhanced", TagVideo, []byte{0x91, 'h', 'v'}, 0, false, false, 0, 0, ErrShortPayload},
		{"truncated aac", TagAudio, []byte{0xaf}, 0, false, false, 0, 0, ErrShortPayload},
		{"empty audio", TagAudio, nil, 0, false, false, 0, 0, ErrShortPayload},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := NewPacket(tt.typ, 100, tt.data)
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Fatalf("err = %v, want %v", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if p.Codec != tt.codec || p.Keyframe != tt.key || p.SeqHeader != tt.seq || p.CTS != tt.cts || p.PayloadOffset != tt.payload {
				t.Fatalf("got codec=%v key=%v seq=%v cts=%d off=%d", p.Codec, p.Keyframe, p.SeqHeader, p.CTS, p.PayloadOffset)
			}
			if p.PTS() != 100+int64(tt.cts) {
				t.Fatalf("pts %d", p.PTS())
			}
		})
	}
}

func TestUnwrap(t *testing.T) {
	tests := []struct {
		name string
		in   []uint32
		want []int64
	}{
		{"monotonic", []uint32{0, 40, 80}, []int64{0, 40, 80}},
		{"small step back kept", []uint32{100, 90, 120}, []int64{100, 90, 120}},
		{"wrap", []uint32{0xffffffe0, 0xfffffff0, 0x10, 0x20}, []int64{0xffffffe0, 0xfffffff0, 1<<32 + 0x10, 1<<32 + 0x20}},
		{"late packet across wrap", []uint32{0xfffffff0, 0x10, 0xfffffff8, 0x20}, []int64{0xfffffff0, 1<<32 + 0x10, 0xfffffff8, 1<<32 + 0x20}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var u Unwrapper
			for i, ts := range tt.in {
				if got := u.Unwrap(ts); got != tt.want[i] {
					t.Fatalf("step %d: %d, want %d", i, got, tt.want[i])
				}
			}
		})
	}
}

func TestParseConfigs(t *testing.T) {
	avc := []byte{1, 0x64, 0, 0x1f, 0xff, 0xe1, 0, 4, 0x67, 0x64, 0, 0x1f, 1, 0, 2, 0x68, 0xee}
	c, err := ParseAVCConfig(avc)
	if err != nil || c.LengthSize != 4 || len(c.SPS) != 1 || len(c.PPS) != 1 || c.PPS[0][0] != 0x68 {
		t.Fatalf("avc %+v %v", c, err)
	}
	for i := range len(avc) - 1 {
		if _, err := ParseAVCConfig(avc[:i]); err == nil && i < len(avc)-2 {
			t.Fatalf("truncated avc config of %d bytes accepted", i)
		}
	}
	hevc := make([]byte, 23)
	hevc[0], hevc[21], hevc[22] = 1, 3, 1
	hevc = append(hevc, 33, 0, 1, 0, 3, 0x42, 1, 1)
	h, err := ParseHEVCConfig(hevc)
	if err != nil || h.LengthSize != 4 || len(h.SPS) != 1 {
		t.Fatalf("hevc %+v %v", h, err)
	}
	if _, err := ParseHEVCConfig(hevc[:25]); err == nil {
		t.Fatal("truncated hevc accepted")
	}
	nalus, err := SplitAVCC([]byte{0, 0, 0, 2, 0x65, 1, 0, 0, 0, 1, 0x41}, 4)
	if err != nil || len(nalus) != 2 || nalus[1][0] != 0x41 {
		t.Fatalf("split %v %v", nalus, err)
	}
	if _, err := SplitAVCC([]byte{0, 0, 0, 9, 1}, 4); err == nil {
		t.Fatal("overlong NAL accepted")
	}
}

func TestValidName(t *testing.T) {
	for name, want := range map[string]bool{
		"abc": true, "A-b_9": true, "": false, "a/b": false, "..": false, "a b": false, "a?x=1": false,
		string(make([]byte, 129)): false,
	} {
		if ValidName(name) != want {
			t.Errorf("ValidName(%q) != %v", name, want)
		}
	}
}
