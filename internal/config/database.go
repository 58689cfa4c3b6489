package config

import (
	"errors"
	"fmt"
	"net/url"
)

// checkDatabaseURL reports what is wrong with a -database-url value: empty
// (SQLite) or a postgres:// or postgresql:// URL with a host or a socket
// directory (host=… in the query). The error never quotes a password.
func checkDatabaseURL(s string) error {
	if s == "" {
		return nil
	}
	u, err := url.Parse(s)
	if err != nil {
		return errors.New("not a URL (want postgres://USER:PASSWORD@HOST:5432/DB)")
	}
	if u.Scheme != "postgres" && u.Scheme != "postgresql" {
		return fmt.Errorf("scheme %q: want postgres:// (leave it empty for SQLite in the data directory)", u.Scheme)
	}
	if u.Host == "" && u.Query().Get("host") == "" {
		return errors.New("no host: want postgres://USER:PASSWORD@HOST:5432/DB")
	}
	return nil
}
