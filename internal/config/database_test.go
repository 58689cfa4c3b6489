package config

import (
	"strings"
	"testing"
)

func TestDatabaseURL(t *testing.T) {
	for _, tc := range []struct {
		url string
		ok  bool
	}{
		{"", true},
		{"postgres://roomcast:pw@db:5432/roomcast?sslmode=disable", true},
		{"postgresql://db/roomcast", true},
		{"postgres:///roomcast?host=/var/run/postgresql", true},
		{"mysql://db/roomcast", false},
		{"sqlite:///data/roomcast.db", false},
		{"/data/roomcast.db", false},
		{"postgres:///roomcast", false},
		{"postgres://u:secret@db:5432/x%zz", false},
	} {
		c := Default()
		c.DatabaseURL = tc.url
		err := c.Validate()
		if (err == nil) != tc.ok {
			t.Errorf("database-url %q: Validate = %v, want ok=%v", tc.url, err, tc.ok)
		}
		if err != nil && (!strings.Contains(err.Error(), "database-url") || strings.Contains(err.Error(), "secret")) {
			t.Errorf("database-url %q: error %q should name the key and not the password", tc.url, err)
		}
	}
	c, err := Load("serve", nil, func(k string) string {
		if k == "ROOMCAST_DATABASE_URL" {
			return "postgres://db/roomcast"
		}
		return ""
	}, nil)
	if err != nil || c.DatabaseURL != "postgres://db/roomcast" {
		t.Fatalf("from the environment: %q, %v", c.DatabaseURL, err)
	}
}
