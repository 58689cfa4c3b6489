package rtmp

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"io"
)

// Handshake sizes and versions.
const (
	handshakeVersion = 3    // C0/S0: plain RTMP
	handshakeSize    = 1536 // C1, S1, C2, S2
	digestSize       = sha256.Size
)

// Version fields written in the version slot of C1 and S1 for the digest
// ("complex") handshake; peers only check that they are non-zero.
var (
	clientVersion = [4]byte{9, 0, 124, 2}
	serverVersion = [4]byte{4, 5, 0, 1}
)

// genuineKeyTail is the 32-byte constant that completes both Genuine keys.
var genuineKeyTail = [32]byte{
	0xf0, 0xee, 0xc2, 0x4a, 0x80, 0x68, 0xbe, 0xe8, 0x2e, 0x00, 0xd0, 0xd1,
	0x02, 0x9e, 0x7e, 0x57, 0x6e, 0xec, 0x5d, 0x2d, 0x29, 0x80, 0x6f, 0xab,
	0x93, 0xb8, 0xe6, 0x36, 0xcf, 0xeb, 0x31, 0xae,
}

const (
	fpKeyText  = "Genuine Adobe Flash Player 001"       // 30 bytes
	fmsKeyText = "Genuine Adobe Flash Media Server 001" // 36 bytes
)

// fpKey and fmsKey return the full Genuine keys; their text prefixes alone
// sign C1 and S1.
func fpKey() []byte  { return append([]byte(fpKeyText), genuineKeyTail[:]...) }
func fmsKey() []byte { return append([]byte(fmsKeyText), genuineKeyTail[:]...) }

// digestSchema says where a C1 or S1 carries its digest. In schema 0 the
// digest block follows the key block (offset from bytes 772..775); in schema
// 1 it comes first (offset from bytes 8..11).
type digestSchema int

const (
	schema0 digestSchema = iota
	schema1
)

// digestOffset returns the position of the 32-byte digest in a C1 or S1.
func digestOffset(p []byte, s digestSchema) int {
	base := 772
	if s == schema1 {
		base = 8
	}
	sum := int(p[base]) + int(p[base+1]) + int(p[base+2]) + int(p[base+3])
	return sum%728 + base + 4
}

// computeDigest returns the HMAC-SHA256 of p without the 32 bytes at off.
func computeDigest(p []byte, off int, key []byte) []byte {
	h := hmac.New(sha256.New, key)
	h.Write(p[:off])
	h.Write(p[off+digestSize:])
	return h.Sum(nil)
}

// findDigest validates the digest of a C1 or S1 with key, trying both
// schemas, and returns the schema and digest offset.
func findDigest(p, key []byte) (digestSchema, int, bool) {
	for _, s := range []digestSchema{schema0, schema1} {
		off := digestOffset(p, s)
		if hmac.Equal(p[off:off+digestSize], computeDigest(p, off, key)) {
			return s, off, true
		}
	}
	return 0, 0, false
}

// signDigest writes the digest of p with key at the schema's offset and
// returns that offset.
func signDigest(p []byte, s digestSchema, key []byte) int {
	off := digestOffset(p, s)
	copy(p[off:], computeDigest(p, off, key))
	return off
}

// signResponse writes the last 32 bytes of an S2 or C2: an HMAC of the rest
// keyed by HMAC(fullKey, peerDigest).
func signResponse(p, fullKey, peerDigest []byte) {
	copy(p[handshakeSize-digestSize:], responseDigest(p, fullKey, peerDigest))
}

func responseDigest(p, fullKey, peerDigest []byte) []byte {
	k := hmac.New(sha256.New, fullKey)
	k.Write(peerDigest)
	h := hmac.New(sha256.New, k.Sum(nil))
	h.Write(p[:handshakeSize-digestSize])
	return h.Sum(nil)
}

// ServerHandshake performs the server side of the RTMP handshake on rw.
//
// A C1 whose digest validates with the Genuine Flash Player key (in either
// schema) gets the digest ("complex") reply that Flash Player and some SDKs
// require: an S1 signed with the Genuine FMS key in the same schema and an
// S2 signed for the client's digest. Any other C1 gets the simple reply (S2
// echoes C1). C2 is read but not verified, as most servers do.
//
// Callers set deadlines on the connection; ServerHandshake only reads and
// writes.
func ServerHandshake(rw io.ReadWriter) error {
	c0c1 := make([]byte, 1+handshakeSize)
	if _, err := io.ReadFull(rw, c0c1); err != nil {
		return fmt.Errorf("%w: read C0+C1: %w", ErrHandshake, err)
	}
	if v := c0c1[0]; v != handshakeVersion {
		return fmt.Errorf("%w: client requested version %d", ErrHandshake, v)
	}
	c1 := c0c1[1:]

	out := make([]byte, 1+2*handshakeSize)
	out[0] = handshakeVersion
	s1 := out[1 : 1+handshakeSize]
	s2 := out[1+handshakeSize:]
	if _, err := rand.Read(s1[8:]); err != nil {
		return fmt.Errorf("%w: random S1: %w", ErrHandshake, err)
	}

	schema, off, complexC1 := findDigest(c1, []byte(fpKeyText))
	if complexC1 {
		copy(s1[4:8], serverVersion[:])
		signDigest(s1, schema, []byte(fmsKeyText))
		if _, err := rand.Read(s2); err != nil {
			return fmt.Errorf("%w: random S2: %w", ErrHandshake, err)
		}
		signResponse(s2, fmsKey(), c1[off:off+digestSize])
	} else {
		copy(s2, c1) // S2 echoes C1's time and random bytes
	}
	if _, err := rw.Write(out); err != nil {
		return fmt.Errorf("%w: write S0+S1+S2: %w", ErrHandshake, err)
	}
	if _, err := io.ReadFull(rw, c1); err != nil { // C2, reusing the buffer
		return fmt.Errorf("%w: read C2: %w", ErrHandshake, err)
	}
	return nil
}

// ClientHandshake performs the client side of the RTMP handshake on rw,
// offering the digest handshake as FFmpeg does. If S1 carries a valid FMS
// digest, S2 must be signed for our C1 digest, otherwise it fails with
// ErrHandshake; a server that answers with a simple handshake is accepted
// without checking its S2 echo, as librtmp does.
//
// Callers set deadlines on the connection; ClientHandshake only reads and
// writes.
func ClientHandshake(rw io.ReadWriter) error {
	c0c1 := make([]byte, 1+handshakeSize)
	c0c1[0] = handshakeVersion
	c1 := c0c1[1:]
	copy(c1[4:8], clientVersion[:])
	if _, err := rand.Read(c1[8:]); err != nil {
		return fmt.Errorf("%w: random C1: %w", ErrHandshake, err)
	}
	off := signDigest(c1, schema0, []byte(fpKeyText))
	if _, err := rw.Write(c0c1); err != nil {
		return fmt.Errorf("%w: write C0+C1: %w", ErrHandshake, err)
	}

	s0s1s2 := make([]byte, 1+2*handshakeSize)
	if _, err := io.ReadFull(rw, s0s1s2); err != nil {
		return fmt.Errorf("%w: read S0+S1+S2: %w", ErrHandshake, err)
	}
	if v := s0s1s2[0]; v != handshakeVersion {
		return fmt.Errorf("%w: server answered version %d", ErrHandshake, v)
	}
	s1 := s0s1s2[1 : 1+handshakeSize]
	s2 := s0s1s2[1+handshakeSize:]

	c2 := make([]byte, handshakeSize)
	_, sOff, complexS1 := findDigest(s1, []byte(fmsKeyText))
	if complexS1 {
		want := responseDigest(s2, fmsKey(), c1[off:off+digestSize])
		if !hmac.Equal(s2[handshakeSize-digestSize:], want) {
			return fmt.Errorf("%w: S2 digest does not match C1", ErrHandshake)
		}
		if _, err := rand.Read(c2); err != nil {
			return fmt.Errorf("%w: random C2: %w", ErrHandshake, err)
		}
		signResponse(c2, fpKey(), s1[sOff:sOff+digestSize])
	} else {
		copy(c2, s1) // simple handshake: C2 echoes S1; S2 is not checked
	}
	if _, err := rw.Write(c2); err != nil {
		return fmt.Errorf("%w: write C2: %w", ErrHandshake, err)
	}
	return nil
}
