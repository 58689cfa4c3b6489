package websocket

import (
	"bytes"
	"errors"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestAcceptKey(t *testing.T) {
	// RFC 6455 section 1.3.
	if got := AcceptKey("dGhlIHNhbXBsZSBub25jZQ=="); got != "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" {
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
		method string
		change map[string]string
		ok     bool
	}{
		{"valid", "GET", nil, true},
		{"post", "POST", nil, false},
		{"no upgrade token", "GET", map[string]string{"Connection": "keep-alive"}, false},
		{"other protocol", "GET", map[string]string{"Upgrade": "h2c"}, false},
		{"old version", "GET", map[string]string{"Sec-WebSocket-Version": "8"}, false},
		{"short key", "GET", map[string]string{"Sec-WebSocket-Key": "c2hvcnQ="}, false},
		{"missing key", "GET", map[string]string{"Sec-WebSocket-Key": ""}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(tt.method, "/chat", nil)
			for k, v := range good {
				r.Header.Set(k, v)
			}
			for k, v := range tt.change {
				r.Header.Set(k, v)
			}
			key, err := CheckUpgrade(r)
			if (err == nil) != tt.ok {
				t.Fatalf("err = %v, want ok=%v", err, tt.ok)
			}
			if err != nil && !errors.Is(err, ErrBadUpgrade) {
				t.Fatalf("err %v does not wrap ErrBadUpgrade", err)
			}
			if tt.ok && !strings.Contains(UpgradeResponse(key), "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n") {
				t.Fatalf("response %q", UpgradeResponse(key))
			}
		})
	}
}

// masked builds a client frame.
func masked(fin bool, op byte, payload []byte) []byte {
	b0 := op
	if fin {
		b0 |= 0x80
	}
	mask := [4]byte{0x37, 0xfa, 0x21, 0x3d}
	var out []byte
	switch {
	case len(payload) < 126:
		out = []byte{b0, 0x80 | byte(len(payload))}
	case len(payload) <= 0xffff:
		out = []byte{b0, 0x80 | 126, byte(len(payload) >> 8), byte(len(payload))}
	default:
		out = []byte{b0, 0x80 | 127, 0, 0, 0, 0, byte(len(payload) >> 24), byte(len(payload) >> 16), byte(len(payload) >> 8), byte(len(payload))}
	}
	out = append(out, mask[:]...)
	for i, c := range payload {
		out = append(out, c^mask[i&3])
	}
	return out
}

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

func TestReaderNext(t *testing.T) {
	big := bytes.Repeat([]byte("x"), 300)
	tests := []struct {
		name string
		in   []byte
		want []Message // then the error
		err  error     // nil: io.EOF after want
	}{
		{"text", masked(true, OpText, []byte(`{"type":"chat"}`)), []Message{{OpText, []byte(`{"type":"chat"}`)}}, nil},
		{"16-bit length", masked(true, OpBinary, big), []Message{{OpBinary, big}}, nil},
		{"ping and close", cat(masked(true, OpPing, []byte("hi")), masked(true, OpClose, ClosePayload(1000, "bye"))),
			[]Message{{OpPing, []byte("hi")}, {OpClose, ClosePayload(1000, "bye")}}, nil},
		{"fragments with a ping between", cat(masked(false, OpText, []byte("hel")), masked(true, OpPing, nil), masked(true, OpContinuation, []byte("lo"))),
			[]Message{{OpPing, []byte{}}, {OpText, []byte("hello")}}, nil},
		{"over the limit", masked(true, OpText, bytes.Repeat([]byte("y"), 1025)), nil, ErrTooBig},
		{"fragments over the limit", cat(masked(false, OpText, bytes.Repeat([]byte("y"), 600)), masked(true, OpContinuation, bytes.Repeat([]byte("y"), 600))), nil, ErrTooBig},
		{"64-bit length over the limit", masked(true, OpBinary, bytes.Repeat([]byte("z"), 70000)), nil, ErrTooBig},
		{"unmasked", []byte{0x81, 0x02, 'h', 'i'}, nil, ErrProtocol},
		{"reserved bits", []byte{0xc1, 0x80, 0, 0, 0, 0}, nil, ErrProtocol},
		{"unknown opcode", masked(true, 0x3, nil), nil, ErrProtocol},
		{"fragmented ping", masked(false, OpPing, nil), nil, ErrProtocol},
		{"long ping", masked(true, OpPing, big[:126]), nil, ErrProtocol},
		{"lone continuation", masked(true, OpContinuation, []byte("x")), nil, ErrProtocol},
		{"text inside a fragmented message", cat(masked(false, OpText, []byte("a")), masked(true, OpText, []byte("b"))), nil, ErrProtocol},
		{"text not UTF-8", masked(true, OpText, []byte{0xff, 0xfe}), nil, ErrProtocol},
		{"cut in the header", masked(true, OpText, big)[:3], nil, io.ErrUnexpectedEOF},
		{"cut in the payload", masked(true, OpText, []byte("hello"))[:8], nil, io.ErrUnexpectedEOF},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := NewReader(bytes.NewReader(tt.in), 1024)
			for i, w := range tt.want {
				m, err := r.Next()
				if err != nil {
					t.Fatalf("message %d: %v", i, err)
				}
				if m.Op != w.Op || !bytes.Equal(m.Payload, w.Payload) {
					t.Fatalf("message %d: op %#x %q, want %#x %q", i, m.Op, m.Payload, w.Op, w.Payload)
				}
			}
			want := tt.err
			if want == nil {
				want = io.EOF
			}
			if _, err := r.Next(); !errors.Is(err, want) {
				t.Fatalf("end: %v, want %v", err, want)
			}
		})
	}
}

func TestFrameHeaders(t *testing.T) {
	for _, n := range []int{0, 125, 126, 0xffff, 0x10000} {
		f := Frame(OpText, bytes.Repeat([]byte("a"), n))
		// Read it back as a client frame: mask it with a zero mask.
		hl := len(f) - n
		client := append([]byte{f[0], f[1] | 0x80}, f[2:hl]...)
		client = append(append(client, 0, 0, 0, 0), f[hl:]...)
		m, err := NewReader(bytes.NewReader(client), 1<<20).Next()
		if err != nil || m.Op != OpText || len(m.Payload) != n {
			t.Fatalf("n=%d: %v op %#x len %d", n, err, m.Op, len(m.Payload))
		}
	}
}

func TestClose(t *testing.T) {
	long := strings.Repeat("é", 100) // 200 bytes
	p := ClosePayload(ClosePolicyViolation, long)
	if len(p) > 125 {
		t.Fatalf("close payload of %d bytes", len(p))
	}
	code, reason, err := ParseClose(p)
	if err != nil || code != ClosePolicyViolation || !strings.HasPrefix(long, reason) || len(reason) != 122 {
		t.Fatalf("ParseClose: %d %q %v", code, reason, err)
	}
	for _, bad := range [][]byte{{3}, {0x03, 0xed}, {0x03, 0xe8, 0xff}, {0x00, 0x10}} {
		if _, _, err := ParseClose(bad); !errors.Is(err, ErrProtocol) {
			t.Errorf("ParseClose(%v) = %v, want a protocol error", bad, err)
		}
	}
	if code, _, err := ParseClose(nil); err != nil || code != CloseNoStatus {
		t.Errorf("empty close: %d %v", code, err)
	}
}

// FuzzReader feeds arbitrary bytes to the Reader: it never panics, never
// returns a data message over its limit or a control frame over 125 bytes,
// and every text message it returns is UTF-8.
func FuzzReader(f *testing.F) {
	f.Add(masked(true, OpText, []byte(`{"type":"chat","text":"hi"}`)))
	f.Add(cat(masked(false, OpText, []byte("hel")), masked(true, OpPing, []byte("p")), masked(true, OpContinuation, []byte("lo"))))
	f.Add(masked(true, OpClose, ClosePayload(1000, "bye")))
	f.Add(masked(true, OpBinary, bytes.Repeat([]byte{0}, 200)))
	f.Add([]byte{0x81, 0xff, 0, 0, 0, 0, 0, 0, 0, 0})
	const limit = 4096
	f.Fuzz(func(t *testing.T, in []byte) {
		r := NewReader(bytes.NewReader(in), limit)
		for {
			m, err := r.Next()
			if err != nil {
				return
			}
			switch m.Op {
			case OpText, OpBinary:
				if len(m.Payload) > limit {
					t.Fatalf("message of %d bytes over the limit", len(m.Payload))
				}
			case OpClose, OpPing, OpPong:
				if len(m.Payload) > 125 {
					t.Fatalf("control frame of %d bytes", len(m.Payload))
				}
			default:
				t.Fatalf("opcode %#x returned", m.Op)
			}
			if m.Op == OpText && !utf8.Valid(m.Payload) {
				t.Fatalf("invalid UTF-8 text returned")
			}
		}
	})
}

func TestAppendFrameHeader(t *testing.T) {
	for n, want := range map[int]string{
		5:       "\x82\x05",
		126:     "\x82\x7e\x00\x7e",
		70000:   "\x82\x7f\x00\x00\x00\x00\x00\x01\x11\x70",
		0xffff:  "\x82\x7e\xff\xff",
		0x10000: "\x82\x7f\x00\x00\x00\x00\x00\x01\x00\x00",
	} {
		if got := string(AppendFrameHeader(nil, OpBinary, n)); got != want {
			t.Errorf("%d: %q, want %q", n, got, want)
		}
	}
}
