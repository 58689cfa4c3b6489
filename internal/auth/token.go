package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
	"encoding/hex"
	"fmt"
)

// Sizes of generated secrets, in random bytes.
const (
	// TokenBytes is the entropy of a session token (256 bits).
	TokenBytes = 32
	// IDBytes is the entropy of an identifier from NewID (128 bits).
	IDBytes = 16
	// MaxIDPrefixLen is the longest prefix NewID accepts.
	MaxIDPrefixLen = 32
	// MaxRandomKeyBytes is the largest nbytes RandomKey accepts.
	MaxRandomKeyBytes = 1024
)

// idEncoding (read-only) is RFC 4648 base32 in lower case without padding:
// "abcdefghijklmnopqrstuvwxyz234567".
var idEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// NewToken returns a new session token: TokenBytes bytes from crypto/rand,
// encoded as base64url without padding (43 characters of [A-Za-z0-9_-]).
// Give the token to the client and store only HashToken(token).
func NewToken() (string, error) {
	b := make([]byte, TokenBytes)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("auth: new token: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// HashToken returns the lower-case hex SHA-256 of token, the form in which
// session tokens are stored and looked up. A fast hash suffices because
// tokens carry 256 bits of entropy.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// NewID returns an unguessable identifier for a room, user or similar:
// prefix followed by IDBytes bytes from crypto/rand in lower-case base32
// without padding (26 characters of "abcdefghijklmnopqrstuvwxyz234567"), e.g.
// NewID("room_") → "room_3k7q…". prefix may be empty and must consist of at
// most MaxIDPrefixLen characters of [A-Za-z0-9_-], so the result can be used
// as a stream name or in a URL path without escaping.
func NewID(prefix string) (string, error) {
	if len(prefix) > MaxIDPrefixLen {
		return "", fmt.Errorf("auth: new id: prefix longer than %d bytes", MaxIDPrefixLen)
	}
	for i := 0; i < len(prefix); i++ {
		if !isIDChar(prefix[i]) {
			return "", fmt.Errorf("auth: new id: prefix %q has a character outside [A-Za-z0-9_-]", prefix)
		}
	}
	b := make([]byte, IDBytes)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("auth: new id: %w", err)
	}
	return prefix + idEncoding.EncodeToString(b), nil
}

func isIDChar(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-'
}

// RandomKey returns nbytes bytes from crypto/rand as lower-case hex (2*nbytes
// characters), for generated secrets such as URL signing or webhook keys.
// nbytes must be between 1 and MaxRandomKeyBytes; 32 is a good choice.
func RandomKey(nbytes int) (string, error) {
	if nbytes < 1 || nbytes > MaxRandomKeyBytes {
		return "", fmt.Errorf("auth: random key: length %d outside 1..%d", nbytes, MaxRandomKeyBytes)
	}
	b := make([]byte, nbytes)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("auth: random key: %w", err)
	}
	return hex.EncodeToString(b), nil
}
