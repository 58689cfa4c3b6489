package auth

import (
	"errors"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

func TestValidatePassword(t *testing.T) {
	tests := []struct {
		name string
		pw   string
		want error
	}{
		{"empty", "", ErrPasswordTooShort},
		{"7 bytes", "1234567", ErrPasswordTooShort},
		{"8 bytes", "12345678", nil},
		{"72 bytes", strings.Repeat("a", 72), nil},
		{"73 bytes", strings.Repeat("a", 73), ErrPasswordTooLong},
		{"3 CJK characters are 9 bytes", "密码好", nil},
		{"24 CJK characters are 72 bytes", strings.Repeat("密", 24), nil},
		{"25 CJK characters are 75 bytes", strings.Repeat("密", 25), ErrPasswordTooLong},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ValidatePassword(tt.pw)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("ValidatePassword = %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("ValidatePassword = %v, want %v", err, tt.want)
			}
			if !strings.Contains(err.Error(), "password must be at") {
				t.Errorf("message %q is not user-readable", err)
			}
		})
	}
}

func TestPasswordHasher(t *testing.T) {
	h := PasswordHasher{Cost: bcrypt.MinCost}
	hash, err := h.Hash("correct horse")
	if err != nil {
		t.Fatal(err)
	}
	if cost, err := bcrypt.Cost([]byte(hash)); err != nil || cost != bcrypt.MinCost {
		t.Errorf("cost = %d, %v; want %d", cost, err, bcrypt.MinCost)
	}
	if again, _ := h.Hash("correct horse"); again == hash {
		t.Error("two hashes of one password are equal: no salt")
	}
	long := strings.Repeat("p", 72)
	longHash, err := h.Hash(long)
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name      string
		hash, pw  string
		wantWrong bool // want ErrWrongPassword
		wantErr   bool // want some error
	}{
		{"match", hash, "correct horse", false, false},
		{"72-byte match", longHash, long, false, false},
		{"wrong", hash, "correct horsf", true, true},
		{"case matters", hash, "Correct horse", true, true},
		{"prefix", hash, "correct hors", true, true},
		{"empty", hash, "", true, true},
		{"73 bytes, bcrypt would truncate", longHash, long + "x", true, true},
		{"malformed hash is a server fault", "not-a-hash", "correct horse", false, true},
		{"empty hash is a server fault", "", "correct horse", false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckPassword(tt.hash, tt.pw)
			if (err != nil) != tt.wantErr {
				t.Fatalf("CheckPassword = %v, want error %v", err, tt.wantErr)
			}
			if errors.Is(err, ErrWrongPassword) != tt.wantWrong {
				t.Fatalf("CheckPassword = %v, want ErrWrongPassword %v", err, tt.wantWrong)
			}
		})
	}
}

func TestPasswordHasherRefuses(t *testing.T) {
	tests := []struct {
		name string
		cost int
		pw   string
		want error // nil: any error
	}{
		{"too short", bcrypt.MinCost, "short", ErrPasswordTooShort},
		{"too long", bcrypt.MinCost, strings.Repeat("a", 73), ErrPasswordTooLong},
		{"cost too low", bcrypt.MinCost - 1, "long enough", nil},
		{"cost too high", bcrypt.MaxCost + 1, "long enough", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hash, err := PasswordHasher{Cost: tt.cost}.Hash(tt.pw)
			if err == nil || hash != "" {
				t.Fatalf("Hash = %q, %v; want an error", hash, err)
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("Hash = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestHashPasswordDefaultCost(t *testing.T) {
	if testing.Short() {
		t.Skip("bcrypt cost 12 is slow")
	}
	hash, err := HashPassword("correct horse")
	if err != nil {
		t.Fatal(err)
	}
	if cost, err := bcrypt.Cost([]byte(hash)); err != nil || cost != DefaultPasswordCost {
		t.Errorf("cost = %d, %v; want %d", cost, err, DefaultPasswordCost)
	}
}
