package httpflv

import (
	"bufio"
	"bytes"
	"net/http/httptest"
	"testing"
)

func TestAcceptKey(t *testing.T) {
	// RFC 6455 section 1.3.
	if got := acceptKey("dGhlIHNhbXBsZSBub25jZQ=="); got != "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" {
		t.Fatal(got)
	}
}

func TestCheckUpgrade(t *testing.T) {
	good := map[string]string{
		"Connection": "keep-alive, Upgrade", "Upgrade": "websocket",
		"Sec-WebSocket-Version": "13", "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
	}
	tests := []struct {
		name   string
		change map[string]string
		ok     bool
	}{
		{"valid", nil, true},
		{"no upgrade token", map[string]string{"Connection": "keep-alive"}, false},
		{"other protocol", map[string]string{"Upgrade": "h2c"}, false},
		{"old version", map[string]string{"Sec-WebSocket-Version": "8"}, false},
		{"short key", map[string]string{"Sec-WebSocket-Key": "c2hvcnQ="}, false},
		{"missing key", map[string]string{"Sec-WebSocket-Key": ""}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/live/s.flv", nil)
			for k, v := range good {
				r.Header.Set(k, v)
			}
			for k, v := range tt.change {
				r.Header.Set(k, v)
			}
			if _, err := checkUpgrade(r); (err == nil) != tt.ok {
				t.Fatalf("err = %v, want ok=%v", err, tt.ok)
			}
		})
	}
}

// maskedFrame builds a client frame.
func maskedFrame(fin bool, op byte, payload []byte) []byte {
	b0 := op
	if fin {
		b0 |= 0x80
	}
	mask := [4]byte{1, 2, 3, 4}
	var out []byte
	switch {
	case len(payload) < 126:
		out = []byte{b0, 0x80 | byte(len(payload))}
	default:
		out = []byte{b0, 0x80 | 126, byte(len(payload) >> 8), byte(len(payload))}
	}
	out = append(out, mask[:]...)
	for i, c := range payload {
		out = append(out, c^mask[i&3])
	}
	return out
}

func TestReadFrame(t *testing.T) {
	tests := []struct {
		name    string
		in      []byte
		op      byte
		payload string
		ok      bool
	}{
		{"ping", maskedFrame(true, opPing, []byte("hi")), opPing, "hi", true},
		{"close", maskedFrame(true, opClose, []byte{3, 232}), opClose, "\x03\xe8", true},
		{"binary 300", maskedFrame(true, opBinary, bytes.Repeat([]byte{7}, 300)), opBinary, string(bytes.Repeat([]byte{7}, 300)), true},
		{"unmasked", []byte{0x89, 0x00}, 0, "", false},
		{"reserved bits", []byte{0xc9, 0x80, 0, 0, 0, 0}, 0, "", false},
		{"fragmented control", maskedFrame(false, opPing, nil), 0, "", false},
		{"too big", append([]byte{0x82, 0xff, 0, 0, 0, 0, 0, 1, 0, 0}, make([]byte, 8)...), 0, "", false},
		{"truncated", maskedFrame(true, opPing, []byte("hello"))[:7], 0, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := readFrame(bufio.NewReader(bytes.NewReader(tt.in)), make([]byte, maxClientFrame))
			if (err == nil) != tt.ok {
				t.Fatalf("err = %v", err)
			}
			if tt.ok && (f.op != tt.op || string(f.payload) != tt.payload) {
				t.Fatalf("frame %+v", f)
			}
		})
	}
}

func TestAppendFrameHeader(t *testing.T) {
	for n, want := range map[int]string{
		5:       "\x82\x05",
		126:     "\x82\x7e\x00\x7e",
		70000:   "\x82\x7f\x00\x00\x00\x00\x00\x01\x11\x70",
		0xffff:  "\x82\x7e\xff\xff",
		0x10000: "\x82\x7f\x00\x00\x00\x00\x00\x01\x00\x00",
	} {
		if got := string(appendFrameHeader(nil, opBinary, n)); got != want {
			t.Errorf("%d: %q, want %q", n, got, want)
		}
	}
}

// FuzzReadFrame: the client frame reader never panics and never returns a
// payload larger than its limit.
func FuzzReadFrame(f *testing.F) {
	f.Add(maskedFrame(true, opPing, []byte("x")))
	f.Add(maskedFrame(true, opClose, []byte{3, 232, 'b', 'y', 'e'}))
	f.Add(maskedFrame(false, opText, []byte("part")))
	f.Fuzz(func(t *testing.T, in []byte) {
		r := bufio.NewReader(bytes.NewReader(in))
		buf := make([]byte, maxClientFrame)
		for range 8 {
			fr, err := readFrame(r, buf)
			if err != nil {
				return
			}
			if len(fr.payload) > maxClientFrame || (fr.op >= opClose && len(fr.payload) > 125) {
				t.Fatalf("frame %d bytes op %d", len(fr.payload), fr.op)
			}
		}
	})
}
