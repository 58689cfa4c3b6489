package room

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Field limits, in characters (Unicode code points).
const (
	MaxTitleLen       = 100
	MaxDescriptionLen = 2000
)

// ValidationError says which input field is invalid and why. Its message
// can be shown to the user.
type ValidationError struct {
	Field   string
	Message string
}

// Error implements error.
func (e *ValidationError) Error() string { return e.Field + ": " + e.Message }

// ValidateTitle trims surrounding white space from a title and checks it:
// 1 to MaxTitleLen characters of valid UTF-8 without control characters.
func ValidateTitle(t string) (string, error) {
	t = strings.TrimSpace(t)
	n := utf8.RuneCountInString(t)
	switch {
	case !utf8.ValidString(t):
		return "", &ValidationError{Field: "title", Message: "must be valid UTF-8"}
	case n < 1 || n > MaxTitleLen:
		return "", &ValidationError{Field: "title", Message: fmt.Sprintf("must be 1-%d characters", MaxTitleLen)}
	case strings.ContainsFunc(t, unicode.IsControl):
		return "", &ValidationError{Field: "title", Message: "must not contain control characters"}
	}
	return t, nil
}

// ValidateDescription trims surrounding white space from a description and
// checks it: at most MaxDescriptionLen characters of valid UTF-8 without
// control characters other than newline and tab.
func ValidateDescription(d string) (string, error) {
	d = strings.TrimSpace(d)
	switch {
	case !utf8.ValidString(d):
		return "", &ValidationError{Field: "description", Message: "must be valid UTF-8"}
	case utf8.RuneCountInString(d) > MaxDescriptionLen:
		return "", &ValidationError{Field: "description", Message: fmt.Sprintf("must be at most %d characters", MaxDescriptionLen)}
	case strings.ContainsFunc(d, func(r rune) bool { return unicode.IsControl(r) && r != '\n' && r != '\t' }):
		return "", &ValidationError{Field: "description", Message: "must not contain control characters other than newline and tab"}
	}
	return d, nil
}
