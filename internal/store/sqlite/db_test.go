package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"roomcast/internal/store"
	"roomcast/internal/store/internal/schema"
)

func TestOpenPragmas(t *testing.T) {
	db := openTest(t)
	ctx := t.Context()
	for _, tc := range []struct {
		pool   string
		pragma string
		want   string
	}{
		{"writer", "journal_mode", "wal"},
		{"writer", "synchronous", "2"}, // FULL
		{"writer", "foreign_keys", "1"},
		{"writer", "busy_timeout", "5000"},
		{"writer", "query_only", "0"},
		{"reader", "synchronous", "2"},
		{"reader", "foreign_keys", "1"},
		{"reader", "busy_timeout", "5000"},
		{"reader", "query_only", "1"},
	} {
		t.Run(tc.pool+"/"+tc.pragma, func(t *testing.T) {
			pool := db.w
			if tc.pool == "reader" {
				pool = db.r
			}
			var got string
			if err := pool.QueryRowContext(ctx, "PRAGMA "+tc.pragma).Scan(&got); err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("PRAGMA %s = %q, want %q", tc.pragma, got, tc.want)
			}
		})
	}
	if _, err := db.r.ExecContext(ctx, `DELETE FROM users`); err == nil {
		t.Error("the read pool accepted a write")
	}
	if err := db.Ping(ctx); err != nil {
		t.Errorf("Ping: %v", err)
	}
}

func TestOpenRejectsPath(t *testing.T) {
	dir := t.TempDir()
	for _, p := range []string{"", ":memory:", "file:x.db", filepath.Join(dir, "a?b.db"), filepath.Join(dir, "a#b.db")} {
		if db, err := Open(t.Context(), p, nil); err == nil {
			db.Close()
			t.Errorf("Open(%q) succeeded", p)
		}
	}
}

func TestOpenCreatesDirectory(t *testing.T) {
	path := filepath.Join(t.TempDir(), "data", "nested", FileName)
	db := openPath(t, path)
	if db.Path() != path {
		t.Errorf("Path() = %q, want %q", db.Path(), path)
	}
}

func TestEmbeddedMigrations(t *testing.T) {
	ms, err := Migrations()
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) == 0 {
		t.Fatal("no migrations embedded")
	}
	// Version numbers are handed out to branches developed side by side,
	// so a branch may hold a later number before the earlier ones land:
	// they must start at 1 and increase, gaps allowed (migrate applies
	// whichever are missing).
	if ms[0].Version != 1 {
		t.Errorf("first migration %s has version %d, want 1", ms[0].Name, ms[0].Version)
	}
	for i := 1; i < len(ms); i++ {
		if ms[i].Version <= ms[i-1].Version {
			t.Errorf("migration %d (%s) has version %d after %d: versions must increase", i, ms[i].Name, ms[i].Version, ms[i-1].Version)
		}
	}
}

func TestMigrationsFreshAndReopen(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), FileName)
	ms, err := Migrations()
	if err != nil {
		t.Fatal(err)
	}
	latest := ms[len(ms)-1].Version

	for i := range 3 { // fresh, then twice reopened
		db, err := Open(ctx, path, nil)
		if err != nil {
			t.Fatalf("open #%d: %v", i, err)
		}
		var n, maxV int
		if err := db.r.QueryRowContext(ctx, `SELECT count(*), max(version) FROM schema_migrations`).Scan(&n, &maxV); err != nil {
			t.Fatal(err)
		}
		if n != len(ms) || maxV != latest {
			t.Errorf("open #%d: schema_migrations has %d rows up to %d, want %d up to %d", i, n, maxV, len(ms), latest)
		}
		// Each open sees the previous opens' data and adds its own.
		var users int
		if err := db.r.QueryRowContext(ctx, `SELECT count(*) FROM users`).Scan(&users); err != nil {
			t.Fatal(err)
		}
		if users != i {
			t.Errorf("open #%d: %d users, want %d", i, users, i)
		}
		if err := db.CreateUser(ctx, &store.User{ID: "u" + string(rune('a'+i))}); err != nil {
			t.Fatal(err)
		}
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

func TestOpenRefusesNewerSchema(t *testing.T) {
	ctx := t.Context()
	ms, err := Migrations()
	if err != nil {
		t.Fatal(err)
	}
	latest := ms[len(ms)-1].Version
	path := filepath.Join(t.TempDir(), FileName)
	db, err := Open(ctx, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	db.Close()

	raw, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (9999, 'from_the_future', 0)`); err != nil {
		t.Fatal(err)
	}
	raw.Close()

	db, err = Open(ctx, path, nil)
	if err == nil {
		db.Close()
		t.Fatal("Open succeeded on a database from a newer build")
	}
	want := "database schema version 9999 is newer than this roomcast (" + strconv.Itoa(latest) + "); upgrade roomcast"
	if !errors.Is(err, store.ErrSchemaTooNew) || !strings.Contains(err.Error(), want) {
		t.Fatalf("Open error = %v, want ErrSchemaTooNew saying %q", err, want)
	}
}

// rawWriter opens a bare single-connection pool like the store's writer.
func rawWriter(t *testing.T) *sql.DB {
	t.Helper()
	w, err := sql.Open("sqlite", dsn(filepath.Join(t.TempDir(), FileName), true))
	if err != nil {
		t.Fatal(err)
	}
	w.SetMaxOpenConns(1)
	t.Cleanup(func() { w.Close() })
	return w
}

func tableExists(t *testing.T, w *sql.DB, name string) bool {
	t.Helper()
	var n int
	if err := w.QueryRow(`SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = ?`, name).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n == 1
}

func TestMigrateFailureRollsBack(t *testing.T) {
	ctx := t.Context()
	w := rawWriter(t)
	now := func() time.Time { return t0 }
	ms := []schema.Migration{
		{Version: 1, Name: "a", SQL: `CREATE TABLE a (x INTEGER);`},
		{Version: 2, Name: "b", SQL: `CREATE TABLE b (x INTEGER); INSERT INTO nowhere VALUES (1);`},
	}
	if _, _, err := migrate(ctx, w, ms, now); err == nil || !strings.Contains(err.Error(), "0002_b") {
		t.Fatalf("migrate error = %v, want one naming 0002_b", err)
	}
	if !tableExists(t, w, "a") || tableExists(t, w, "b") {
		t.Fatal("want migration 1 applied and migration 2 rolled back whole")
	}
	// Fixed, it applies on the next run, and only it.
	ms[1].SQL = `CREATE TABLE b (x INTEGER);`
	v, applied, err := migrate(ctx, w, ms, now)
	if err != nil || v != 2 || applied != 1 {
		t.Fatalf("migrate = (%d, %d, %v), want (2, 1, nil)", v, applied, err)
	}
	v, applied, err = migrate(ctx, w, ms, now)
	if err != nil || v != 2 || applied != 0 {
		t.Fatalf("migrate again = (%d, %d, %v), want (2, 0, nil)", v, applied, err)
	}
}

func TestMigrateRefusesUnknownVersion(t *testing.T) {
	ctx := t.Context()
	w := rawWriter(t)
	now := func() time.Time { return t0 }
	if _, _, err := migrate(ctx, w, []schema.Migration{{Version: 1, Name: "a", SQL: `CREATE TABLE a (x INTEGER);`}, {Version: 2, Name: "b", SQL: `CREATE TABLE b (x INTEGER);`}}, now); err != nil {
		t.Fatal(err)
	}
	// A build that has 1 and 3 but not 2 must not run against this file.
	_, _, err := migrate(ctx, w, []schema.Migration{{Version: 1, Name: "a", SQL: ``}, {Version: 3, Name: "c", SQL: `CREATE TABLE c (x INTEGER);`}}, now)
	if err == nil || errors.Is(err, store.ErrSchemaTooNew) || tableExists(t, w, "c") {
		t.Fatalf("migrate error = %v, want a refusal that is not ErrSchemaTooNew and no table c", err)
	}
	// A build that knows only 1 is too old.
	_, _, err = migrate(ctx, w, []schema.Migration{{Version: 1, Name: "a", SQL: ``}}, now)
	if !errors.Is(err, store.ErrSchemaTooNew) {
		t.Fatalf("migrate error = %v, want ErrSchemaTooNew", err)
	}
}

func TestForeignKeyAndConflictMapping(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	err := db.CreateRoom(ctx, &store.Room{ID: "r1", OwnerID: "ghost", Stream: "s1"})
	checkErr(t, "room of missing owner", err, store.ErrNotFound)
	mustUser(t, db, "u1", 0)
	err = db.CreateUser(ctx, &store.User{ID: "u1"})
	checkErr(t, "duplicate user id", err, store.ErrConflict)
}
