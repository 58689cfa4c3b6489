package user

import (
	"fmt"
	"strings"
)

// User name limits: names are MinNameLen to MaxNameLen characters of
// [a-z0-9_] after lower-casing.
const (
	MinNameLen = 3
	MaxNameLen = 32
)

// ValidationError says which input field is invalid and why. Its message
// can be shown to the user.
type ValidationError struct {
	Field   string
	Message string
}

// Error implements error.
func (e *ValidationError) Error() string { return e.Field + ": " + e.Message }

// NormalizeName lower-cases a user name and checks it: MinNameLen to
// MaxNameLen characters of a-z, 0-9 and '_'. The error is a
// *ValidationError for the field "name".
func NormalizeName(name string) (string, error) {
	n := strings.ToLower(name)
	bad := func() (string, error) {
		return "", &ValidationError{Field: "name", Message: fmt.Sprintf("must be %d-%d characters of a-z, 0-9 and _", MinNameLen, MaxNameLen)}
	}
	if len(n) < MinNameLen || len(n) > MaxNameLen {
		return bad()
	}
	for i := 0; i < len(n); i++ {
		c := n[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return bad()
		}
	}
	return n, nil
}
