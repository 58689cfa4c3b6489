package auth

import (
	"strings"
	"testing"
)

func TestSignBody(t *testing.T) {
	// RFC 4231 test case 2.
	got := SignBody([]byte("Jefe"), []byte("what do ya want for nothing?"))
	want := "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
	if got != want {
		t.Fatalf("SignBody = %q, want %q", got, want)
	}
}

func TestVerifyBody(t *testing.T) {
	secret, body := []byte("webhook secret"), []byte(`{"event":"published","stream":"abc"}`)
	good := SignBody(secret, body)
	digest := strings.TrimPrefix(good, BodySignaturePrefix)
	tests := []struct {
		name   string
		secret []byte
		body   []byte
		header string
		want   bool
	}{
		{"valid", secret, body, good, true},
		{"upper-case hex", secret, body, BodySignaturePrefix + strings.ToUpper(digest), true},
		{"empty body", secret, nil, SignBody(secret, nil), true},
		{"body changed", secret, []byte(`{"event":"published","stream":"abd"}`), good, false},
		{"secret changed", []byte("other"), body, good, false},
		{"empty secret refuses", nil, body, SignBody(nil, body), false},
		{"no prefix", secret, body, digest, false},
		{"other algorithm", secret, body, "sha1=" + digest, false},
		{"upper-case prefix", secret, body, "SHA256=" + digest, false},
		{"truncated", secret, body, good[:len(good)-2], false},
		{"extended", secret, body, good + "00", false},
		{"odd length", secret, body, good[:len(good)-1], false},
		{"not hex", secret, body, BodySignaturePrefix + strings.Repeat("zz", 32), false},
		{"empty header", secret, body, "", false},
		{"prefix only", secret, body, BodySignaturePrefix, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := VerifyBody(tt.secret, tt.body, tt.header); got != tt.want {
				t.Fatalf("VerifyBody = %v, want %v", got, tt.want)
			}
		})
	}
}
