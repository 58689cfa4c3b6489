package auth

import (
	"encoding/base64"
	"encoding/hex"
	"regexp"
	"strings"
	"testing"
)

func TestNewToken(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		tok, err := NewToken()
		if err != nil {
			t.Fatal(err)
		}
		if len(tok) != 43 || !regexp.MustCompile(`^[A-Za-z0-9_-]+$`).MatchString(tok) {
			t.Fatalf("token %q is not 43 characters of base64url", tok)
		}
		if raw, err := base64.RawURLEncoding.DecodeString(tok); err != nil || len(raw) != TokenBytes {
			t.Fatalf("token %q decodes to %d bytes, %v", tok, len(raw), err)
		}
		if seen[tok] {
			t.Fatalf("token %q repeated", tok)
		}
		seen[tok] = true
	}
}

func TestHashToken(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
		{"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
	}
	for _, tt := range tests {
		if got := HashToken(tt.in); got != tt.want {
			t.Errorf("HashToken(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestNewID(t *testing.T) {
	tests := []struct {
		name, prefix string
		wantErr      bool
	}{
		{"no prefix", "", false},
		{"room", "room_", false},
		{"all allowed characters", "Az09_-", false},
		{"32-byte prefix", strings.Repeat("p", MaxIDPrefixLen), false},
		{"33-byte prefix", strings.Repeat("p", MaxIDPrefixLen+1), true},
		{"slash", "live/", true},
		{"dot", "a.b", true},
		{"space", "a b", true},
		{"non-ASCII", "房间", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, err := NewID(tt.prefix)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("NewID(%q) = %q, want error", tt.prefix, id)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			re := regexp.MustCompile(`^` + regexp.QuoteMeta(tt.prefix) + `[a-z2-7]{26}$`)
			if !re.MatchString(id) {
				t.Fatalf("NewID(%q) = %q, want prefix + 26 of [a-z2-7]", tt.prefix, id)
			}
			if !regexp.MustCompile(`^[A-Za-z0-9_-]+$`).MatchString(id) {
				t.Fatalf("id %q is not usable as a stream name", id)
			}
			if other, _ := NewID(tt.prefix); other == id {
				t.Fatalf("NewID repeated %q", id)
			}
		})
	}
}

func TestRandomKey(t *testing.T) {
	tests := []struct {
		n       int
		wantErr bool
	}{
		{-1, true},
		{0, true},
		{1, false},
		{32, false},
		{MaxRandomKeyBytes, false},
		{MaxRandomKeyBytes + 1, true},
	}
	for _, tt := range tests {
		key, err := RandomKey(tt.n)
		if (err != nil) != tt.wantErr {
			t.Fatalf("RandomKey(%d) = %q, %v; want error %v", tt.n, key, err, tt.wantErr)
		}
		if err != nil {
			continue
		}
		if raw, err := hex.DecodeString(key); err != nil || len(raw) != tt.n || strings.ToLower(key) != key {
			t.Fatalf("RandomKey(%d) = %q: not %d bytes of lower-case hex", tt.n, key, tt.n)
		}
	}
}
