package auth

import (
	"errors"
	"fmt"

	"golang.org/x/crypto/bcrypt"
)

// Password length limits, in bytes. bcrypt ignores everything after byte 72,
// so longer passwords are refused rather than silently truncated.
const (
	// MinPasswordLen is the shortest password accepted.
	MinPasswordLen = 8
	// MaxPasswordLen is the longest password accepted (bcrypt's limit).
	MaxPasswordLen = 72
)

// DefaultPasswordCost is the bcrypt cost used by HashPassword and by a
// PasswordHasher whose Cost is zero.
const DefaultPasswordCost = 12

// Password errors.
var (
	// ErrPasswordTooShort means the password has fewer than MinPasswordLen bytes.
	ErrPasswordTooShort = errors.New("auth: password too short")
	// ErrPasswordTooLong means the password has more than MaxPasswordLen bytes.
	ErrPasswordTooLong = errors.New("auth: password too long")
	// ErrWrongPassword means the password does not match the stored hash.
	ErrWrongPassword = errors.New("auth: wrong password")
)

// ValidatePassword checks the password policy: MinPasswordLen to
// MaxPasswordLen bytes (a non-ASCII character takes 2–4 bytes). The error
// wraps ErrPasswordTooShort or ErrPasswordTooLong and its message can be shown
// to the user.
func ValidatePassword(pw string) error {
	switch n := len(pw); {
	case n < MinPasswordLen:
		return fmt.Errorf("password must be at least %d bytes long, got %d: %w", MinPasswordLen, n, ErrPasswordTooShort)
	case n > MaxPasswordLen:
		return fmt.Errorf("password must be at most %d bytes long, got %d: %w", MaxPasswordLen, n, ErrPasswordTooLong)
	}
	return nil
}

// PasswordHasher hashes passwords with bcrypt at a chosen cost. The zero
// value uses DefaultPasswordCost; tests use bcrypt.MinCost to run fast.
type PasswordHasher struct {
	// Cost is the bcrypt cost (bcrypt.MinCost to bcrypt.MaxCost); zero means
	// DefaultPasswordCost.
	Cost int
}

// Hash validates pw with ValidatePassword and returns its bcrypt hash
// ("$2a$…"), which embeds the salt and the cost.
func (h PasswordHasher) Hash(pw string) (string, error) {
	if err := ValidatePassword(pw); err != nil {
		return "", fmt.Errorf("auth: hash password: %w", err)
	}
	cost := h.Cost
	if cost == 0 {
		cost = DefaultPasswordCost
	}
	if cost < bcrypt.MinCost || cost > bcrypt.MaxCost {
		return "", fmt.Errorf("auth: bcrypt cost %d outside %d..%d", cost, bcrypt.MinCost, bcrypt.MaxCost)
	}
	b, err := bcrypt.GenerateFromPassword([]byte(pw), cost)
	if err != nil {
		return "", fmt.Errorf("auth: hash password: %w", err)
	}
	return string(b), nil
}

// HashPassword hashes pw with bcrypt at DefaultPasswordCost after checking it
// with ValidatePassword.
func HashPassword(pw string) (string, error) {
	return PasswordHasher{}.Hash(pw)
}

// CheckPassword reports whether pw matches hash (from HashPassword or
// PasswordHasher.Hash). It returns nil on a match, an error wrapping
// ErrWrongPassword on a mismatch, and a different error if hash is not a
// valid bcrypt hash (a server-side fault, not the user's).
func CheckPassword(hash, pw string) error {
	if len(pw) > MaxPasswordLen {
		// No stored hash can be of such a password; bcrypt refuses to compare.
		return fmt.Errorf("auth: check password: %w", ErrWrongPassword)
	}
	err := bcrypt.CompareHashAndPassword([]byte(hash), []byte(pw))
	switch {
	case err == nil:
		return nil
	case errors.Is(err, bcrypt.ErrMismatchedHashAndPassword):
		return fmt.Errorf("auth: check password: %w", ErrWrongPassword)
	default:
		return fmt.Errorf("auth: check password: stored hash unusable: %w", err)
	}
}
