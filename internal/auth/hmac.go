package auth

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// BodySignaturePrefix starts every webhook body signature ("sha256=<hex>").
const BodySignaturePrefix = "sha256="

// SignBody returns the signature of a webhook body: "sha256=" followed by the
// lower-case hex HMAC-SHA256 of body under secret. The webhook sender puts it
// in a request header; the receiver checks it with VerifyBody.
func SignBody(secret, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write(body)
	return BodySignaturePrefix + hex.EncodeToString(m.Sum(nil))
}

// VerifyBody reports whether header is a valid SignBody signature of body
// under secret. The hex digest may be in either case and is compared in
// constant time. An empty secret verifies nothing.
func VerifyBody(secret, body []byte, header string) bool {
	if len(secret) == 0 {
		return false
	}
	digest, ok := strings.CutPrefix(header, BodySignaturePrefix)
	if !ok {
		return false
	}
	got, err := hex.DecodeString(digest)
	if err != nil || len(got) != sha256.Size {
		return false
	}
	m := hmac.New(sha256.New, secret)
	m.Write(body)
	return hmac.Equal(got, m.Sum(nil))
}
