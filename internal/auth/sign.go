package auth

import (
	"crypto/md5"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Query parameter names of a Tencent-compatible signed URL.
const (
	// ParamTxSecret carries the hex MD5 signature.
	ParamTxSecret = "txSecret"
	// ParamTxTime carries the expiry as hex Unix seconds.
	ParamTxTime = "txTime"
)

// maxTxTimeDigits is the longest txTime accepted: 16 hex digits, 64 bits.
const maxTxTimeDigits = 16

// Errors returned (wrapped) by Signer.Verify.
var (
	// ErrMissingSignature means the URL has no txSecret or no txTime.
	ErrMissingSignature = errors.New("auth: missing signature")
	// ErrBadTxTime means txTime is not 1–16 hexadecimal digits without a
	// leading zero, or is further in the future than Signer.MaxTTL allows.
	ErrBadTxTime = errors.New("auth: malformed txTime")
	// ErrExpired means txTime is in the past.
	ErrExpired = errors.New("auth: signature expired")
	// ErrBadSignature means txSecret does not match the stream and txTime,
	// or the signer has no key and therefore refuses every URL.
	ErrBadSignature = errors.New("auth: bad signature")
)

// TxTime formats an expiry as Tencent's txTime: the Unix time in seconds as
// upper-case hexadecimal without leading zeros, e.g. "5C271099". Times before
// the Unix epoch are formatted as "0".
func TxTime(t time.Time) string {
	sec := t.Unix()
	if sec < 0 {
		sec = 0
	}
	return strings.ToUpper(strconv.FormatUint(uint64(sec), 16))
}

// TxSecret returns Tencent's txSecret: lower-case hex MD5(key + stream +
// txTime). txTime is hashed exactly as given (its case matters).
func TxSecret(key, stream, txTime string) string {
	h := md5.New()
	h.Write([]byte(key))
	h.Write([]byte(stream))
	h.Write([]byte(txTime))
	return hex.EncodeToString(h.Sum(nil))
}

// Signer signs and verifies Tencent-compatible push/play URLs
// (…/live/STREAM?txSecret=…&txTime=…). Its methods do not modify it, so one
// Signer may be shared by any number of goroutines.
//
// The scheme hashes key+stream+txTime with no separator, so the boundary
// between stream and txTime is ambiguous: from a URL signed for stream "ab"
// one can derive a valid signature for stream "a" with txTime "b"+txTime,
// which lies centuries in the future. Verify rejects txTime with leading zeros
// (which closes the same-expiry variant, "ab0" → "ab"); set MaxTTL to close
// the far-future variant.
type Signer struct {
	// Key is the shared signing key. An empty Key makes Verify refuse every
	// URL with ErrBadSignature.
	Key string
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
	// MaxTTL, if positive, makes Verify reject (ErrBadTxTime) a txTime more
	// than MaxTTL after Now. Zero means no limit. Set it to the longest
	// lifetime the service issues URLs for.
	MaxTTL time.Duration
}

func (s *Signer) now() time.Time {
	if s.Now == nil {
		return time.Now()
	}
	return s.Now()
}

// Sign returns the query values txSecret and txTime that authorize stream
// until expires. With an empty Key the values are produced but Verify will
// refuse them.
func (s *Signer) Sign(stream string, expires time.Time) url.Values {
	txTime := TxTime(expires)
	return url.Values{
		ParamTxSecret: {TxSecret(s.Key, stream, txTime)},
		ParamTxTime:   {txTime},
	}
}

// Query returns the signed query string "txSecret=…&txTime=…" (without "?")
// that authorizes stream until expires.
func (s *Signer) Query(stream string, expires time.Time) string {
	return s.Sign(stream, expires).Encode()
}

// Verify checks that q (the URL's query) carries a valid, unexpired signature
// for stream. It returns nil or the first failing check, wrapped:
//
//   - Key is empty: ErrBadSignature (an unconfigured signer refuses everything);
//   - txSecret or txTime absent or empty: ErrMissingSignature;
//   - txTime not 1–16 hex digits (either case) without a leading zero, or
//     given twice: ErrBadTxTime;
//   - txSecret not TxSecret(Key, stream, txTime), or given twice:
//     ErrBadSignature;
//   - txTime before Now: ErrExpired (so only a genuine URL is called expired);
//   - txTime more than MaxTTL after Now: ErrBadTxTime.
//
// txSecret is lower-cased (ASCII only) and compared in constant time; txTime
// is hashed exactly as it appears in the URL.
func (s *Signer) Verify(stream string, q url.Values) error {
	if s.Key == "" {
		return fmt.Errorf("auth: stream %q: no signing key configured: %w", stream, ErrBadSignature)
	}
	secrets, times := q[ParamTxSecret], q[ParamTxTime]
	if len(secrets) == 0 || secrets[0] == "" || len(times) == 0 || times[0] == "" {
		return fmt.Errorf("auth: stream %q: %w", stream, ErrMissingSignature)
	}
	if len(times) > 1 {
		return fmt.Errorf("auth: stream %q: txTime given %d times: %w", stream, len(times), ErrBadTxTime)
	}
	if len(secrets) > 1 {
		return fmt.Errorf("auth: stream %q: txSecret given %d times: %w", stream, len(secrets), ErrBadSignature)
	}
	txTime := times[0]
	expiry, err := parseTxTime(txTime)
	if err != nil {
		return fmt.Errorf("auth: stream %q: %w", stream, err)
	}
	want := TxSecret(s.Key, stream, txTime)
	got := asciiLower(secrets[0])
	if subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
		return fmt.Errorf("auth: stream %q: %w", stream, ErrBadSignature)
	}
	now := s.now().Unix()
	if now > 0 && expiry < uint64(now) {
		return fmt.Errorf("auth: stream %q: expired at %s: %w", stream, txTimeString(expiry), ErrExpired)
	}
	if s.MaxTTL > 0 {
		limit := uint64(max(now, 0)) + uint64(s.MaxTTL/time.Second)
		if expiry > limit {
			return fmt.Errorf("auth: stream %q: txTime %s is more than %s ahead: %w",
				stream, txTimeString(expiry), s.MaxTTL, ErrBadTxTime)
		}
	}
	return nil
}

// parseTxTime parses 1–16 hex digits of either case. A leading zero is
// refused: neither TxTime nor Tencent produce one, and accepting it would let
// a signature for stream "x0" pass as one for stream "x".
func parseTxTime(s string) (uint64, error) {
	if len(s) > maxTxTimeDigits {
		return 0, fmt.Errorf("txTime has %d digits, more than %d: %w", len(s), maxTxTimeDigits, ErrBadTxTime)
	}
	if len(s) > 1 && s[0] == '0' {
		return 0, fmt.Errorf("txTime %q has a leading zero: %w", s, ErrBadTxTime)
	}
	if s == "" {
		return 0, fmt.Errorf("empty txTime: %w", ErrBadTxTime)
	}
	var v uint64
	for i := 0; i < len(s); i++ {
		d, ok := hexDigit(s[i])
		if !ok {
			return 0, fmt.Errorf("txTime %q is not hexadecimal: %w", s, ErrBadTxTime)
		}
		v = v<<4 | uint64(d)
	}
	return v, nil
}

func hexDigit(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// txTimeString formats a parsed txTime for error messages.
func txTimeString(v uint64) string {
	if v > 1<<40 { // beyond year 36812: time.Unix would still work, but say it plainly
		return fmt.Sprintf("0x%X", v)
	}
	return time.Unix(int64(v), 0).UTC().Format(time.RFC3339)
}

// asciiLower lower-cases ASCII letters only, so that no non-ASCII rune can be
// folded into a hex digit.
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + ('a' - 'A')
		}
	}
	return string(b)
}
