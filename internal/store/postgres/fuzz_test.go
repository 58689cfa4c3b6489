package postgres

import (
	"net/url"
	"strings"
	"testing"
)

// FuzzRedact: whatever the URL, Redact either refuses it or returns it
// without its password.
func FuzzRedact(f *testing.F) {
	for _, s := range []string{
		"postgres://u:secret@h:5432/db?sslmode=disable",
		"postgresql://h/db?password=secret&user=u",
		"postgres://u@h/db",
		"postgres://u:p%40ss@h/db",
		"mysql://u:p@h/db",
		"",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		got, err := Redact(raw)
		if err != nil {
			return
		}
		u, perr := url.Parse(raw)
		if perr != nil {
			t.Fatalf("Redact accepted %q, which url.Parse refuses", raw)
		}
		if p, ok := u.User.Password(); ok && len(p) >= 4 && p != "xxxxx" && strings.Contains(got, ":"+url.UserPassword("", p).String()[1:]) {
			t.Fatalf("Redact(%q) = %q keeps the password", raw, got)
		}
		if p := u.Query().Get("password"); len(p) >= 4 && p != "xxxxx" && strings.Contains(got, "password="+url.QueryEscape(p)) {
			t.Fatalf("Redact(%q) = %q keeps the password parameter", raw, got)
		}
	})
}
