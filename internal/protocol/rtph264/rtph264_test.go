package rtph264

import (
	"bytes"
	"errors"
	"testing"

	"github.com/pion/rtp"
)

func nal(typ byte, n int) []byte {
	b := make([]byte, n)
	b[0] = 0x60 | typ
	for i := 1; i < n; i++ {
		b[i] = byte(i*7 + n)
	}
	return b
}

// stream packetizes access units: an IDR with parameter sets, then inter
// frames.
func stream(t *testing.T, p *Packetizer, frames int) ([]*rtp.Packet, [][][]byte) {
	t.Helper()
	var pkts []*rtp.Packet
	var aus [][][]byte
	for i := range frames {
		au := [][]byte{nal(1, 900+i*1300)}
		if i == 0 {
			au = [][]byte{nal(NALTypeSPS, 12), nal(NALTypePPS, 4), nal(NALTypeIDR, 5000)}
		}
		aus = append(aus, au)
		pkts = append(pkts, p.Packetize(au, uint32(i*3000))...)
	}
	return pkts, aus
}

func TestRoundTrip(t *testing.T) {
	tests := []struct {
		name  string
		order func([]*rtp.Packet) []*rtp.Packet
	}{
		{"in order", func(p []*rtp.Packet) []*rtp.Packet { return p }},
		{"pairs swapped", func(p []*rtp.Packet) []*rtp.Packet {
			out := append([]*rtp.Packet(nil), p...)
			for i := 1; i+1 < len(out); i += 2 {
				out[i], out[i+1] = out[i+1], out[i]
			}
			return out
		}},
		{"duplicates", func(p []*rtp.Packet) []*rtp.Packet {
			var out []*rtp.Packet
			for _, x := range p {
				out = append(out, x, x)
			}
			return out
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := &Packetizer{MTU: 1000}
			p.SetSequence(65530) // wraps
			pkts, want := stream(t, p, 6)
			var d Depacketizer
			var got []AccessUnit
			for _, pkt := range tt.order(pkts) {
				aus, err := d.Push(pkt)
				if err != nil {
					t.Fatal(err)
				}
				for _, au := range aus {
					got = append(got, AccessUnit{NALUs: au.NALUs, Timestamp: au.Timestamp, Keyframe: au.Keyframe})
				}
			}
			if len(got) != len(want) {
				t.Fatalf("%d access units, want %d", len(got), len(want))
			}
			for i, au := range got {
				if au.Timestamp != uint32(i*3000) || au.Keyframe != (i == 0) {
					t.Fatalf("au %d: ts %d key %v", i, au.Timestamp, au.Keyframe)
				}
				if len(au.NALUs) != len(want[i]) {
					t.Fatalf("au %d: %d NAL units, want %d", i, len(au.NALUs), len(want[i]))
				}
				for j := range au.NALUs {
					if !bytes.Equal(au.NALUs[j], want[i][j]) {
						t.Fatalf("au %d nal %d differs", i, j)
					}
				}
			}
		})
	}
}

func TestLossDropsToNextKeyframe(t *testing.T) {
	p := &Packetizer{}
	var pkts []*rtp.Packet
	for i := range 4 {
		typ := byte(1)
		if i == 0 || i == 3 {
			typ = NALTypeIDR
		}
		pkts = append(pkts, p.Packetize([][]byte{nal(typ, 3000)}, uint32(i*3000))...)
	}
	var d Depacketizer
	var got []uint32
	var lost bool
	for i, pkt := range pkts {
		if i == 4 { // inside the second access unit
			continue
		}
		aus, err := d.Push(pkt)
		if errors.Is(err, ErrLost) {
			lost = true
		} else if err != nil {
			t.Fatal(err)
		}
		for _, au := range aus {
			got = append(got, au.Timestamp)
		}
	}
	// Packet 4 is awaited until the window gives it up; flush by pushing
	// far-ahead packets of a fresh keyframe.
	more := p.Packetize([][]byte{nal(NALTypeIDR, 100)}, 99000)
	more[0].SequenceNumber += DefaultWindow
	aus, err := d.Push(more[0])
	if errors.Is(err, ErrLost) {
		lost = true
	}
	for _, au := range aus {
		got = append(got, au.Timestamp)
	}
	if !lost {
		t.Fatal("loss not reported")
	}
	want := []uint32{0, 99000}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("got %v, want %v (inter frames after a loss dropped until a keyframe)", got, want)
	}
}

func TestMalformed(t *testing.T) {
	tests := []struct {
		name    string
		payload []byte
	}{
		{"truncated stap-a", []byte{24, 0, 9, 0x65}},
		{"fu-a middle without start", []byte{28, 0x05, 1, 2}},
		{"stap-b", []byte{25, 0, 1, 0x65}},
		{"short fu-a", []byte{28}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var d Depacketizer
			_, err := d.Push(&rtp.Packet{Header: rtp.Header{Marker: true}, Payload: tt.payload})
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("err = %v, want ErrMalformed", err)
			}
		})
	}
}

func TestTooLarge(t *testing.T) {
	d := Depacketizer{MaxAccessUnit: 1000}
	p := &Packetizer{}
	var err error
	for _, pkt := range p.Packetize([][]byte{nal(NALTypeIDR, 3000)}, 0) {
		if _, e := d.Push(pkt); e != nil {
			err = e
		}
	}
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("err = %v", err)
	}
}

func TestConfigRecord(t *testing.T) {
	sps, pps := []byte{0x67, 0x64, 0, 0x1f, 0xac}, []byte{0x68, 0xee}
	rec, err := ConfigRecord(sps, pps)
	if err != nil {
		t.Fatal(err)
	}
	want := []byte{1, 0x64, 0, 0x1f, 0xff, 0xe1, 0, 5, 0x67, 0x64, 0, 0x1f, 0xac, 1, 0, 2, 0x68, 0xee}
	if !bytes.Equal(rec, want) {
		t.Fatalf("%x", rec)
	}
	if _, err := ConfigRecord(nil, pps); !errors.Is(err, ErrNoParameterSets) {
		t.Fatal(err)
	}
	if got := ProfileLevelID(sps); got != "64001f" {
		t.Fatal(got)
	}
	if got := AppendAVCC(nil, [][]byte{{1, 2}, {3}}); !bytes.Equal(got, []byte{0, 0, 0, 2, 1, 2, 0, 0, 0, 1, 3}) {
		t.Fatalf("%x", got)
	}
}

// FuzzDepacketize feeds arbitrary packets; the depacketizer must never
// panic, and what it emits must be bounded and non-empty.
func FuzzDepacketize(f *testing.F) {
	p := &Packetizer{MTU: 100}
	for _, pkt := range p.Packetize([][]byte{nal(NALTypeSPS, 10), nal(NALTypePPS, 4), nal(NALTypeIDR, 300)}, 0) {
		b, _ := pkt.Marshal()
		f.Add(b)
	}
	f.Add([]byte{0x80, 0x80, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 24, 0, 2, 0x65, 1, 0, 1, 0x41})
	f.Fuzz(func(t *testing.T, data []byte) {
		d := Depacketizer{MaxAccessUnit: 1 << 16, Window: 16}
		// Split the input into several packets to exercise reassembly.
		for len(data) > 0 {
			n := min(len(data), 1+int(data[0])%64+12)
			var pkt rtp.Packet
			if err := pkt.Unmarshal(data[:n]); err == nil {
				aus, _ := d.Push(&pkt)
				for _, au := range aus {
					if len(au.NALUs) == 0 {
						t.Fatal("empty access unit")
					}
					total := 0
					for _, n := range au.NALUs {
						if len(n) == 0 {
							t.Fatal("empty NAL unit")
						}
						total += len(n)
					}
					if total > 1<<16 {
						t.Fatal("access unit over the bound")
					}
				}
			}
			data = data[n:]
		}
	})
}
