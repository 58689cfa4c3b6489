package rtmp

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"errors"
	"io"
	"net"
	"testing"
)

// pipe runs server and client on the two ends of a net.Pipe and returns
// their errors.
func pipe(t *testing.T, server, client func(net.Conn) error) (serr, cerr error) {
	t.Helper()
	s, c := net.Pipe()
	done := make(chan error, 1)
	go func() {
		err := server(s)
		s.Close()
		done <- err
	}()
	cerr = client(c)
	c.Close()
	return <-done, cerr
}

// simpleClient performs a plain handshake (C1 version zero) and checks that
// S2 echoes C1.
func simpleClient(rw io.ReadWriter) error {
	c0c1 := make([]byte, 1+handshakeSize)
	c0c1[0] = 3
	rand.Read(c0c1[9:])
	if _, err := rw.Write(c0c1); err != nil {
		return err
	}
	s := make([]byte, 1+2*handshakeSize)
	if _, err := io.ReadFull(rw, s); err != nil {
		return err
	}
	if !bytes.Equal(s[1+handshakeSize:], c0c1[1:]) {
		return errors.New("S2 does not echo C1")
	}
	_, err := rw.Write(s[1 : 1+handshakeSize])
	return err
}

// complexClient performs the digest handshake with the digest in the given
// schema and verifies S1's digest (same schema) and S2's signature.
func complexClient(schema digestSchema) func(io.ReadWriter) error {
	return func(rw io.ReadWriter) error {
		c0c1 := make([]byte, 1+handshakeSize)
		c0c1[0] = 3
		c1 := c0c1[1:]
		copy(c1[4:], []byte{10, 0, 32, 18})
		rand.Read(c1[8:])
		off := signDigest(c1, schema, []byte(fpKeyText))
		if _, err := rw.Write(c0c1); err != nil {
			return err
		}
		s := make([]byte, 1+2*handshakeSize)
		if _, err := io.ReadFull(rw, s); err != nil {
			return err
		}
		s1, s2 := s[1:1+handshakeSize], s[1+handshakeSize:]
		sOff := digestOffset(s1, schema)
		if !hmac.Equal(s1[sOff:sOff+digestSize], computeDigest(s1, sOff, []byte(fmsKeyText))) {
			return errors.New("S1 digest invalid in the client's schema")
		}
		if !hmac.Equal(s2[handshakeSize-digestSize:], responseDigest(s2, fmsKey(), c1[off:off+digestSize])) {
			return errors.New("S2 signature invalid")
		}
		c2 := make([]byte, handshakeSize)
		signResponse(c2, fpKey(), s1[sOff:sOff+digestSize])
		_, err := rw.Write(c2)
		return err
	}
}

// simpleServer answers like a server without digest support.
func simpleServer(rw io.ReadWriter) error {
	c := make([]byte, 1+handshakeSize)
	if _, err := io.ReadFull(rw, c); err != nil {
		return err
	}
	out := make([]byte, 1+2*handshakeSize)
	out[0] = 3
	copy(out[1+handshakeSize:], c[1:])
	if _, err := rw.Write(out); err != nil {
		return err
	}
	_, err := io.ReadFull(rw, c[:handshakeSize])
	return err
}

// forgingServer answers with a valid S1 digest but a bad S2 signature.
func forgingServer(rw io.ReadWriter) error {
	c := make([]byte, 1+handshakeSize)
	if _, err := io.ReadFull(rw, c); err != nil {
		return err
	}
	out := make([]byte, 1+2*handshakeSize)
	out[0] = 3
	s1 := out[1 : 1+handshakeSize]
	copy(s1[4:], serverVersion[:])
	rand.Read(s1[8:])
	signDigest(s1, schema0, []byte(fmsKeyText))
	_, err := rw.Write(out)
	return err
}

func TestHandshake(t *testing.T) {
	conn := func(f func(io.ReadWriter) error) func(net.Conn) error {
		return func(c net.Conn) error { return f(c) }
	}
	tests := []struct {
		name       string
		server     func(io.ReadWriter) error
		client     func(io.ReadWriter) error
		serverErr  bool
		clientFail error
	}{
		{"server with simple client", ServerHandshake, simpleClient, false, nil},
		{"server with complex client schema 0", ServerHandshake, complexClient(schema0), false, nil},
		{"server with complex client schema 1", ServerHandshake, complexClient(schema1), false, nil},
		{"client with our server", ServerHandshake, ClientHandshake, false, nil},
		{"client with simple server", simpleServer, ClientHandshake, false, nil},
		{"client with forged S2", forgingServer, ClientHandshake, false, ErrHandshake},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			serr, cerr := pipe(t, conn(tt.server), conn(tt.client))
			if tt.clientFail != nil {
				if !errors.Is(cerr, tt.clientFail) {
					t.Fatalf("client error = %v, want %v", cerr, tt.clientFail)
				}
				return
			}
			if serr != nil || cerr != nil {
				t.Fatalf("server error %v, client error %v", serr, cerr)
			}
		})
	}
}

func TestServerHandshakeErrors(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
	}{
		{"empty", nil},
		{"short C1", append([]byte{3}, make([]byte, 100)...)},
		{"bad version", append([]byte{6}, make([]byte, handshakeSize)...)},
		{"no C2", append([]byte{3}, make([]byte, handshakeSize)...)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rw := struct {
				io.Reader
				io.Writer
			}{bytes.NewReader(tt.in), io.Discard}
			if err := ServerHandshake(rw); !errors.Is(err, ErrHandshake) {
				t.Fatalf("ServerHandshake = %v, want ErrHandshake", err)
			}
		})
	}
}

func TestDigestOffsets(t *testing.T) {
	p := make([]byte, handshakeSize)
	for i := range p {
		p[i] = 0xff
	}
	for _, s := range []digestSchema{schema0, schema1} {
		off := digestOffset(p, s)
		if off < 12 || off+digestSize > handshakeSize {
			t.Fatalf("schema %d offset %d out of range", s, off)
		}
	}
	if got := digestOffset(p, schema1); got != (4*255)%728+12 {
		t.Fatalf("schema 1 offset = %d", got)
	}
	if got := digestOffset(p, schema0); got != (4*255)%728+776 {
		t.Fatalf("schema 0 offset = %d", got)
	}
}
