package sqlite

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"roomcast/internal/store"
)

// t0 is the fixed "now" of test databases.
var t0 = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

// openTest opens a fresh database in a temporary directory whose clock is
// fixed at t0, and closes it when the test ends.
func openTest(t *testing.T) *DB {
	t.Helper()
	db := openPath(t, filepath.Join(t.TempDir(), FileName))
	db.now = func() time.Time { return t0 }
	return db
}

// openPath opens the database at path and closes it when the test ends.
func openPath(t *testing.T, path string) *DB {
	t.Helper()
	db, err := Open(t.Context(), path, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return db
}

// mustUser creates a user named after id, created at t0 plus offset.
func mustUser(t *testing.T, db *DB, id string, offset time.Duration) *store.User {
	t.Helper()
	u := &store.User{ID: id, Name: "name-" + id, CreatedAt: t0.Add(offset)}
	if err := db.CreateUser(context.Background(), u); err != nil {
		t.Fatalf("CreateUser(%s): %v", id, err)
	}
	return u
}

// mustRoom creates an idle room of owner whose stream is its ID, created at
// t0 plus offset.
func mustRoom(t *testing.T, db *DB, id, owner string, offset time.Duration) *store.Room {
	t.Helper()
	r := &store.Room{ID: id, OwnerID: owner, Stream: id, Title: "title " + id, CreatedAt: t0.Add(offset)}
	if err := db.CreateRoom(context.Background(), r); err != nil {
		t.Fatalf("CreateRoom(%s): %v", id, err)
	}
	return r
}

// checkErr fails the test unless err matches want: nil means no error,
// errAny any error, anything else errors.Is.
func checkErr(t *testing.T, what string, err, want error) {
	t.Helper()
	switch {
	case want == nil && err != nil:
		t.Fatalf("%s: unexpected error %v", what, err)
	case want == errAny && err == nil, want != nil && want != errAny && !errors.Is(err, want):
		t.Fatalf("%s: error = %v, want %v", what, err, want)
	}
}

// errAny makes checkErr accept any non-nil error.
var errAny = errors.New("any error")

// same fails the test unless got and want are deeply equal.
func same[T any](t *testing.T, what string, got, want T) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%s:\n got  %s\n want %s", what, show(got), show(want))
	}
}

// show formats v with pointers followed, for failure messages.
func show(v any) string {
	rv := reflect.ValueOf(v)
	for rv.Kind() == reflect.Pointer && !rv.IsNil() {
		rv = rv.Elem()
	}
	if rv.Kind() != reflect.Struct {
		return fmt.Sprintf("%+v", rv)
	}
	s := "{"
	for i := range rv.NumField() {
		f := rv.Field(i)
		if f.Kind() == reflect.Pointer && !f.IsNil() {
			f = f.Elem()
		}
		s += fmt.Sprintf("%s:%v ", rv.Type().Field(i).Name, f)
	}
	return s + "}"
}
