package auth

import (
	"errors"
	"net/url"
	"testing"
	"time"
)

// FuzzVerify checks Signer.Verify on arbitrary input: it never panics, it
// accepts only a txSecret equal to TxSecret(key, stream, txTime), every
// signature Sign produces verifies until it expires, and any single
// modification of the stream, txSecret or txTime is refused. The seed corpus
// is in testdata/fuzz/FuzzVerify.
func FuzzVerify(f *testing.F) {
	f.Fuzz(func(t *testing.T, key, stream string, expires int64, rawQuery string, pos uint16, b byte) {
		const now = 1_700_000_000
		s := &Signer{Key: key, Now: fixedClock(now)}

		// Arbitrary query: no panic, and acceptance only for the right digest.
		q, _ := url.ParseQuery(rawQuery)
		if err := s.Verify(stream, q); err == nil {
			if key == "" {
				t.Fatalf("empty key accepted %q", rawQuery)
			}
			txTime := q.Get(ParamTxTime)
			if asciiLower(q.Get(ParamTxSecret)) != TxSecret(key, stream, txTime) {
				t.Fatalf("accepted a wrong signature: stream %q query %q", stream, rawQuery)
			}
		}

		// Own signature.
		signed := s.Sign(stream, time.Unix(expires, 0))
		err := s.Verify(stream, signed)
		switch {
		case key == "":
			if !errors.Is(err, ErrBadSignature) {
				t.Fatalf("empty key: Verify = %v, want ErrBadSignature", err)
			}
			return
		case expires < now:
			if !errors.Is(err, ErrExpired) {
				t.Fatalf("expired %d: Verify = %v, want ErrExpired", expires, err)
			}
		case err != nil:
			t.Fatalf("own signature refused: %v (stream %q, expires %d)", err, stream, expires)
		}

		secret, txTime := signed.Get(ParamTxSecret), signed.Get(ParamTxTime)
		refused := func(what, stream, secret, txTime string) {
			t.Helper()
			q := url.Values{ParamTxSecret: {secret}, ParamTxTime: {txTime}}
			if err := s.Verify(stream, q); err == nil {
				t.Fatalf("%s: accepted stream %q txSecret %q txTime %q", what, stream, secret, txTime)
			}
		}

		// Stream modified: byte replaced, appended, removed.
		if i := int(pos) % (len(stream) + 1); i < len(stream) && stream[i] != b {
			refused("stream byte changed", stream[:i]+string([]byte{b})+stream[i+1:], secret, txTime)
		}
		refused("stream extended", stream+string([]byte{b}), secret, txTime)
		if len(stream) > 0 {
			refused("stream truncated", stream[:len(stream)-1], secret, txTime)
		}

		// txSecret modified: a digit replaced by one of another value (case
		// changes are allowed), one appended, one removed.
		i := int(pos) % len(secret)
		other := "0123456789abcdef"[(hexVal(secret[i])+1+int(b)%15)%16]
		refused("txSecret digit changed", secret[:i]+string(other)+secret[i+1:], secret, txTime)
		refused("txSecret extended", secret+"0", secret, txTime)
		refused("txSecret truncated", secret[:len(secret)-1], secret, txTime)

		// txTime modified: any byte replaced by a different byte (a case change
		// too, since txTime is hashed as given), one appended or prepended, one
		// removed.
		j := int(pos) % len(txTime)
		if txTime[j] != b {
			refused("txTime byte changed", stream, secret, txTime[:j]+string([]byte{b})+txTime[j+1:])
		}
		refused("txTime extended", stream, secret, txTime+"0")
		refused("txTime zero-padded", stream, secret, "0"+txTime)
		if len(txTime) > 1 {
			refused("txTime truncated", stream, secret, txTime[1:])
		}

		// Parameters missing or doubled.
		for _, q := range []url.Values{
			{ParamTxSecret: {secret}},
			{ParamTxTime: {txTime}},
			{ParamTxSecret: {secret, secret}, ParamTxTime: {txTime}},
			{ParamTxSecret: {secret}, ParamTxTime: {txTime, txTime}},
		} {
			if err := s.Verify(stream, q); err == nil {
				t.Fatalf("accepted %v", q)
			}
		}
	})
}

// hexVal returns the value of a lower-case hex digit.
func hexVal(c byte) int {
	if c >= 'a' {
		return int(c-'a') + 10
	}
	return int(c - '0')
}
