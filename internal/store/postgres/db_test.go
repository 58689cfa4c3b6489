package postgres

import (
	"context"
	"errors"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"

	"roomcast/internal/store"
	"roomcast/internal/store/sqlite"
)

// Both back-ends have the same migrations: versions and names.
func TestMigrationsMatchSQLite(t *testing.T) {
	pg, err := Migrations()
	if err != nil {
		t.Fatal(err)
	}
	lite, err := sqlite.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	if len(pg) != len(lite) {
		t.Fatalf("postgres has %d migrations, sqlite %d", len(pg), len(lite))
	}
	for i := range pg {
		if pg[i].Version != lite[i].Version || pg[i].Name != lite[i].Name {
			t.Errorf("migration %d: postgres %04d_%s, sqlite %04d_%s", i, pg[i].Version, pg[i].Name, lite[i].Version, lite[i].Name)
		}
	}
}

// Several nodes starting at once on a fresh database: one migrates, the
// others wait for the lock and find the schema done.
func TestParallelOpensMigrateOnce(t *testing.T) {
	url := cluster.NewDatabase(t)
	const nodes = 6
	var wg sync.WaitGroup
	errs := make([]error, nodes)
	for i := range nodes {
		wg.Go(func() {
			db, err := Open(t.Context(), url, nil)
			if err == nil {
				err = db.CreateUser(t.Context(), &store.User{ID: "u" + strconv.Itoa(i)})
				db.Close()
			}
			errs[i] = err
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("node %d: %v", i, err)
		}
	}
	ms, _ := Migrations()
	var n, latest int
	conn := rawConn(t, url)
	if err := conn.QueryRow(t.Context(), `SELECT count(*), max(version) FROM schema_migrations`).Scan(&n, &latest); err != nil {
		t.Fatal(err)
	}
	if n != len(ms) || latest != ms[len(ms)-1].Version {
		t.Fatalf("schema_migrations has %d rows up to %d, want %d", n, latest, len(ms))
	}
	if err := conn.QueryRow(t.Context(), `SELECT count(*) FROM users`).Scan(&n); err != nil || n != nodes {
		t.Fatalf("%d users, %v; want %d", n, err, nodes)
	}
}

func rawConn(t *testing.T, url string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func TestOpenRefusesNewerSchema(t *testing.T) {
	url := cluster.NewDatabase(t)
	db, err := Open(t.Context(), url, nil)
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	if _, err := rawConn(t, url).Exec(t.Context(), `INSERT INTO schema_migrations (version, name, applied_at) VALUES (9999, 'from_the_future', now())`); err != nil {
		t.Fatal(err)
	}
	ms, _ := Migrations()
	db, err = Open(t.Context(), url, nil)
	if err == nil {
		db.Close()
		t.Fatal("Open succeeded on a database from a newer build")
	}
	want := "database schema version 9999 is newer than this roomcast (" + strconv.Itoa(ms[len(ms)-1].Version) + "); upgrade roomcast"
	if !errors.Is(err, store.ErrSchemaTooNew) || !strings.Contains(err.Error(), want) {
		t.Fatalf("Open error = %v, want ErrSchemaTooNew saying %q", err, want)
	}
}

func TestOpenReopens(t *testing.T) {
	url := cluster.NewDatabase(t)
	for i := range 3 {
		db, err := Open(t.Context(), url, nil)
		if err != nil {
			t.Fatalf("open #%d: %v", i, err)
		}
		if err := db.CreateUser(t.Context(), &store.User{ID: "u" + strconv.Itoa(i)}); err != nil {
			t.Fatalf("open #%d: %v", i, err)
		}
		db.Close()
	}
}

func TestOpenRejectsBadURLs(t *testing.T) {
	for _, u := range []string{"", "mysql://x/y", "sqlite:///tmp/x.db", "::", "postgres://127.0.0.1:1/x?sslmode=bogus"} {
		db, err := Open(t.Context(), u, nil)
		if err == nil {
			db.Close()
			t.Errorf("Open(%q) succeeded", u)
		}
	}
}

func TestOpenUnreachable(t *testing.T) {
	_, err := Open(t.Context(), "postgres://postgres@127.0.0.1:1/x?sslmode=disable&connect_timeout=2", nil)
	if !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("Open of a closed port = %v, want ErrUnavailable", err)
	}
}

func TestRedact(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"postgres://u:secret@h:5432/db?sslmode=disable", "postgres://u:xxxxx@h:5432/db?sslmode=disable"},
		{"postgresql://h/db?password=secret", "postgresql://h/db?password=xxxxx"},
		{"postgres://u@h/db", "postgres://u@h/db"},
	} {
		got, err := Redact(tc.in)
		if err != nil || got != tc.want || strings.Contains(got, "secret") {
			t.Errorf("Redact(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	if _, err := Redact("mysql://h/db"); err == nil {
		t.Error("Redact accepted mysql://")
	}
}

// Every method of the SQLite store has a Postgres twin with the same
// signature (but the file path and the URL, which only one of them has), so
// the app can run on either.
func TestMethodsMatchSQLite(t *testing.T) {
	lite, pg := reflect.TypeFor[*sqlite.DB](), reflect.TypeFor[*DB]()
	for i := range lite.NumMethod() {
		m := lite.Method(i)
		if m.Name == "Path" {
			continue
		}
		twin, ok := pg.MethodByName(m.Name)
		if !ok {
			t.Errorf("sqlite.DB has %s, postgres.DB does not", m.Name)
			continue
		}
		// Compare without the receiver.
		if a, b := signature(m.Type), signature(twin.Type); a != b {
			t.Errorf("%s: sqlite %s, postgres %s", m.Name, a, b)
		}
	}
	for i := range pg.NumMethod() {
		if m := pg.Method(i); m.Name != "Addr" {
			if _, ok := lite.MethodByName(m.Name); !ok {
				t.Errorf("postgres.DB has %s, sqlite.DB does not", m.Name)
			}
		}
	}
}

// signature renders a method type without its receiver.
func signature(f reflect.Type) string {
	var in, out []string
	for i := 1; i < f.NumIn(); i++ {
		in = append(in, f.In(i).String())
	}
	for i := range f.NumOut() {
		out = append(out, f.Out(i).String())
	}
	return "(" + strings.Join(in, ", ") + ") (" + strings.Join(out, ", ") + ")"
}
