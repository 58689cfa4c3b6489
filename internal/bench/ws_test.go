package bench

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"
)

func TestWSAcceptKey(t *testing.T) {
	// The example of RFC 6455 section 1.3.
	if got := wsAcceptKey("dGhlIHNhbXBsZSBub25jZQ=="); got != "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" {
		t.Fatalf("got %s", got)
	}
}

// wsFrame builds a frame; mask nil for unmasked.
func wsFrame(fin bool, op byte, payload []byte, mask []byte) []byte {
	b0 := op
	if fin {
		b0 |= 0x80
	}
	f := []byte{b0}
	var m byte
	if mask != nil {
		m = 0x80
	}
	switch n := len(payload); {
	case n < 126:
		f = append(f, m|byte(n))
	case n < 1<<16:
		f = append(f, m|126)
		f = binary.BigEndian.AppendUint16(f, uint16(n))
	default:
		f = append(f, m|127)
		f = binary.BigEndian.AppendUint64(f, uint64(n))
	}
	if mask == nil {
		return append(f, payload...)
	}
	f = append(f, mask...)
	for i, c := range payload {
		f = append(f, c^mask[i&3])
	}
	return f
}

func TestWSDecoder(t *testing.T) {
	big := bytes.Repeat([]byte("0123456789"), 7000) // 64-bit length
	mid := bytes.Repeat([]byte("ab"), 200)          // 16-bit length
	var in []byte
	in = append(in, wsFrame(true, wsOpBinary, []byte("FLV"), nil)...)
	in = append(in, wsFrame(true, wsOpPing, []byte("hi"), nil)...)
	in = append(in, wsFrame(false, wsOpBinary, mid, nil)...)
	in = append(in, wsFrame(true, wsOpContinuation, big, nil)...)
	in = append(in, wsFrame(true, wsOpBinary, nil, nil)...)
	in = append(in, wsFrame(true, wsOpBinary, []byte("masked"), []byte{1, 2, 3, 4})...)
	in = append(in, wsFrame(true, wsOpClose, []byte{3, 232}, nil)...)
	want := append(append(append([]byte("FLV"), mid...), big...), "masked"...)

	for _, step := range []int{1, 3, 13, 1000, len(in)} {
		var d wsDecoder
		var data []byte
		var ctrl []string
		src := append([]byte(nil), in...) // decoding unmasks in place
		for i := 0; i < len(src); i += step {
			err := d.decode(src[i:min(i+step, len(src))],
				func(p []byte) error { data = append(data, p...); return nil },
				func(op byte, p []byte) error { ctrl = append(ctrl, string(rune('0'+op))+string(p)); return nil })
			if err != nil {
				t.Fatalf("step %d: %v", step, err)
			}
		}
		if !bytes.Equal(data, want) {
			t.Fatalf("step %d: data of %d bytes, want %d", step, len(data), len(want))
		}
		if len(ctrl) != 2 || ctrl[0] != "9hi" || ctrl[1] != "8\x03\xe8" {
			t.Fatalf("step %d: control frames %q", step, ctrl)
		}
	}
}

func TestWSDecoderErrors(t *testing.T) {
	for name, in := range map[string][]byte{
		"reserved bits":        {0xC2, 0},
		"bad opcode":           {0x83, 0},
		"fragmented control":   wsFrame(false, wsOpPing, nil, nil),
		"control over 125":     wsFrame(true, wsOpPing, make([]byte, 126), nil),
		"absurd 64-bit length": {0x82, 127, 0xff, 0, 0, 0, 0, 0, 0, 0},
	} {
		var d wsDecoder
		err := d.decode(in, func([]byte) error { return nil }, func(byte, []byte) error { return nil })
		if !errors.Is(err, errBadFrame) {
			t.Errorf("%s: err %v, want errBadFrame", name, err)
		}
	}
}
