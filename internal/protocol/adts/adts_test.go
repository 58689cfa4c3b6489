package adts

import (
	"bytes"
	"errors"
	"io"
	"testing"
)

func TestRoundTrip(t *testing.T) {
	c := Config{ObjectType: 2, SampleRateIndex: 3, Channels: 2}
	var in []byte
	var err error
	frames := [][]byte{{1, 2, 3}, bytes.Repeat([]byte{5}, 700), {9}}
	for _, f := range frames {
		if in, err = AppendFrame(in, c, f); err != nil {
			t.Fatal(err)
		}
	}
	r := NewReader(bytes.NewReader(in))
	for i, want := range frames {
		f, err := r.ReadFrame()
		if err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		if f.Config != c || !bytes.Equal(f.Data, want) {
			t.Fatalf("frame %d: %+v %d bytes", i, f.Config, len(f.Data))
		}
	}
	if _, err := r.ReadFrame(); err != io.EOF {
		t.Fatal(err)
	}
	if c.SampleRate() != 48000 {
		t.Fatal(c.SampleRate())
	}
}

func TestAudioSpecificConfig(t *testing.T) {
	tests := []struct {
		asc  []byte
		want Config
		err  error
	}{
		{[]byte{0x12, 0x10}, Config{2, 4, 2}, nil}, // AAC-LC 44.1 kHz stereo
		{[]byte{0x11, 0x90}, Config{2, 3, 2}, nil}, // AAC-LC 48 kHz stereo
		{[]byte{0x12}, Config{}, ErrUnsupported},
		{[]byte{0x2b, 0x92, 0x08, 0x00}, Config{}, ErrUnsupported}, // HE-AAC (object type 5)
		{[]byte{0x17, 0x80}, Config{}, ErrUnsupported},             // explicit rate index 15
	}
	for _, tt := range tests {
		got, err := ParseAudioSpecificConfig(tt.asc)
		if !errors.Is(err, tt.err) || got != tt.want {
			t.Fatalf("%x: %+v %v", tt.asc, got, err)
		}
		if err == nil && !bytes.Equal(got.AudioSpecificConfig()[:2], tt.asc[:2]) {
			t.Fatalf("%x: round trip %x", tt.asc, got.AudioSpecificConfig())
		}
	}
}

func TestMalformed(t *testing.T) {
	good, _ := AppendFrame(nil, Config{2, 3, 2}, []byte{1, 2, 3})
	multi := append([]byte(nil), good...)
	multi[6] |= 1
	tests := []struct {
		name string
		in   []byte
		want error
	}{
		{"no sync", []byte{0, 1, 2, 3, 4, 5, 6, 7}, ErrMalformed},
		{"truncated", good[:8], io.ErrUnexpectedEOF},
		{"short header", good[:3], io.ErrUnexpectedEOF},
		{"several blocks", multi, ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := NewReader(bytes.NewReader(tt.in)).ReadFrame(); !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

func FuzzReader(f *testing.F) {
	good, _ := AppendFrame(nil, Config{2, 3, 2}, []byte{1, 2, 3})
	f.Add(good)
	f.Add([]byte{0xff, 0xf0, 0x50, 0x80, 0x02, 0x1f, 0xfc, 0, 0, 1, 2})
	f.Fuzz(func(t *testing.T, in []byte) {
		r := NewReader(bytes.NewReader(in))
		for range 1000 {
			fr, err := r.ReadFrame()
			if err != nil {
				return
			}
			if len(fr.Data) == 0 || len(fr.Data) > 0x1fff {
				t.Fatalf("frame of %d bytes", len(fr.Data))
			}
		}
	})
}

func FuzzAudioSpecificConfig(f *testing.F) {
	f.Add([]byte{0x12, 0x10})
	f.Fuzz(func(t *testing.T, in []byte) {
		c, err := ParseAudioSpecificConfig(in)
		if err != nil {
			return
		}
		b, err := AppendFrame(nil, c, []byte{1})
		if err != nil {
			t.Fatalf("accepted config %+v cannot be framed: %v", c, err)
		}
		fr, err := NewReader(bytes.NewReader(b)).ReadFrame()
		if err != nil || fr.Config != c {
			t.Fatalf("round trip of %+v: %+v %v", c, fr.Config, err)
		}
	})
}
