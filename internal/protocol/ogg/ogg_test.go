package ogg

import (
	"bytes"
	"errors"
	"io"
	"testing"
)

// page builds an Ogg page holding the given segments' lacing.
func page(flags byte, granule int64, packets [][]byte, continueLast bool) []byte {
	var lacing, body []byte
	for i, p := range packets {
		n := len(p)
		for n >= 255 {
			lacing = append(lacing, 255)
			n -= 255
		}
		if !(continueLast && i == len(packets)-1) {
			lacing = append(lacing, byte(n))
		}
		body = append(body, p...)
	}
	h := []byte("OggS")
	h = append(h, 0, flags)
	for i := range 8 {
		h = append(h, byte(uint64(granule)>>(8*i)))
	}
	h = append(h, make([]byte, 12)...) // serial, sequence, checksum
	h = append(h, byte(len(lacing)))
	h = append(h, lacing...)
	return append(h, body...)
}

func TestReadPackets(t *testing.T) {
	big := bytes.Repeat([]byte{7}, 600)
	var in []byte
	in = append(in, page(2, 0, [][]byte{[]byte("OpusHead")}, false)...)
	in = append(in, page(0, 960, [][]byte{{1, 2, 3}, {4}}, false)...)
	in = append(in, page(0, -1, [][]byte{big[:510]}, true)...)
	in = append(in, page(1, 1920, [][]byte{big[510:]}, false)...)
	r := NewReader(bytes.NewReader(in))
	want := []struct {
		data    []byte
		granule int64
		idx, n  int
	}{
		{[]byte("OpusHead"), 0, 0, 1},
		{[]byte{1, 2, 3}, 960, 0, 2},
		{[]byte{4}, 960, 1, 2},
		{big, 1920, 0, 1},
	}
	for i, w := range want {
		p, err := r.ReadPacket()
		if err != nil {
			t.Fatalf("packet %d: %v", i, err)
		}
		if !bytes.Equal(p.Data, w.data) || p.Granule != w.granule || p.Index != w.idx || p.PageCount != w.n {
			t.Fatalf("packet %d: %d bytes granule %d %d/%d", i, len(p.Data), p.Granule, p.Index, p.PageCount)
		}
	}
	if _, err := r.ReadPacket(); err != io.EOF {
		t.Fatalf("end: %v", err)
	}
}

func TestMalformed(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		want error
	}{
		{"not ogg", []byte("RIFF0000000000000000000000000000"), ErrMalformed},
		{"truncated body", page(0, 0, [][]byte{{1, 2, 3}}, false)[:29], io.ErrUnexpectedEOF},
		{"truncated header", []byte("OggS\x00"), io.ErrUnexpectedEOF},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewReader(bytes.NewReader(tt.in)).ReadPacket()
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
	r := NewReader(bytes.NewReader(page(0, 0, [][]byte{bytes.Repeat([]byte{1}, 300)}, false)))
	r.MaxPacket = 100
	if _, err := r.ReadPacket(); !errors.Is(err, ErrMalformed) {
		t.Fatalf("oversized packet: %v", err)
	}
}

func FuzzReader(f *testing.F) {
	f.Add(page(2, 0, [][]byte{[]byte("OpusHead")}, false))
	f.Add(append(page(0, 960, [][]byte{{1, 2, 3}, {4}}, false), page(0, -1, [][]byte{bytes.Repeat([]byte{9}, 300)}, true)...))
	f.Fuzz(func(t *testing.T, in []byte) {
		r := NewReader(bytes.NewReader(in))
		r.MaxPacket = 4096
		for range 1000 {
			p, err := r.ReadPacket()
			if err != nil {
				return
			}
			if len(p.Data) > 4096 || p.Index >= p.PageCount {
				t.Fatalf("packet of %d bytes, %d/%d", len(p.Data), p.Index, p.PageCount)
			}
		}
	})
}
