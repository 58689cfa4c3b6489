package sqlite

import (
	"context"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"roomcast/internal/store"
	"roomcast/internal/store/storetest"
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

// The shared checks of the conformance suite.
var (
	checkErr = storetest.CheckErr
	errAny   = storetest.ErrAny
)

func same[T any](t *testing.T, what string, got, want T) {
	t.Helper()
	storetest.Same(t, what, got, want)
}
