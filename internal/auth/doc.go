// Package auth holds the security building blocks shared by the API and the
// media servers: Tencent-compatible signed push/play URLs, bcrypt password
// hashing, session tokens and random identifiers, WeChat mini program login
// (code2session) and webhook body signatures.
//
// The package has no HTTP handlers, no storage and no package-level mutable
// state: clocks are passed in as func() time.Time and HTTP clients as
// *http.Client. Every failure a caller may want to tell apart is an exported
// sentinel error, always wrapped with context, so callers test it with
// errors.Is.
package auth
