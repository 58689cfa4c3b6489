package e2e

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"roomcast/internal/config"
	"roomcast/internal/pgtest"
	"roomcast/internal/store/postgres"
	"roomcast/internal/store/sqlite"
)

// pgOutage is how long the outage test keeps Postgres stopped.
const pgOutage = 3 * time.Second

// A roomcast process on Postgres: accounts and rooms work; while Postgres
// is stopped the API answers 503 unavailable (JSON, Retry-After) and
// /readyz is not ready; once Postgres is back the same process answers 200
// again, without a restart.
func TestPostgresStoreOutageAndRecovery(t *testing.T) {
	pg := pgtest.Start(t) // a server of its own: this test stops it
	cfg := testConfig(t, func(c *config.Config) {
		c.DatabaseURL = pg.NewDatabase(t)
		c.Auth.RateLimit = 1000 // the test logs in many times
	})
	s := startChild(t, cfg)
	ctx := testContext(t)
	// The child's log is read on its own goroutine: the started line may
	// arrive a little after the ready line on stdout.
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(s.logs.String(), "store=postgres"); {
		if time.Now().After(deadline) {
			t.Errorf("the started line does not say store=postgres")
			break
		}
		time.Sleep(20 * time.Millisecond)
	}

	alice := s.register(ctx, t, "alice")
	s.mustCall(ctx, t, http.MethodPost, "/api/v1/auth/login", "",
		map[string]string{"name": "alice", "password": "e2e-password-alice"}, http.StatusOK, nil)
	room := s.createRoom(ctx, t, alice, "on postgres", false)
	pgExpectReady(ctx, t, s, http.StatusOK)

	if err := pg.Stop(); err != nil {
		t.Fatal(err)
	}
	down := time.Now()
	for n := 0; n == 0 || time.Since(down) < pgOutage; n++ {
		pgExpectUnavailable(ctx, t, s, http.MethodGet, "/api/v1/rooms/"+room.ID, alice.Token, nil)
		pgExpectUnavailable(ctx, t, s, http.MethodGet, "/api/v1/rooms", "", nil)
		pgExpectUnavailable(ctx, t, s, http.MethodPost, "/api/v1/auth/login", "",
			map[string]string{"name": "alice", "password": "e2e-password-alice"})
		pgExpectUnavailable(ctx, t, s, http.MethodPost, "/api/v1/rooms", alice.Token, map[string]any{"title": "lost"})
		pgExpectReady(ctx, t, s, http.StatusServiceUnavailable)
		time.Sleep(pollInterval)
	}

	if err := pg.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		r, err := s.call(ctx, http.MethodGet, "/api/v1/rooms/"+room.ID, alice.Token, nil)
		if err != nil {
			t.Fatal(err)
		}
		if r.Status == http.StatusOK {
			break
		}
		if r.Status != http.StatusServiceUnavailable || r.errorCode() != "unavailable" {
			t.Fatalf("while Postgres restarts: %v, want 200 or 503 unavailable", r)
		}
		if time.Now().After(deadline) {
			t.Fatalf("still %v 30s after Postgres came back", r)
		}
		time.Sleep(pollInterval)
	}
	s.createRoom(ctx, t, alice, "after the outage", false)
	s.mustCall(ctx, t, http.MethodPost, "/api/v1/auth/login", "",
		map[string]string{"name": "alice", "password": "e2e-password-alice"}, http.StatusOK, nil)
	s.register(ctx, t, "bob")
	pgExpectReady(ctx, t, s, http.StatusOK)
}

// pgExpectUnavailable checks that an API call is answered 503 with the
// JSON error code unavailable and a Retry-After.
func pgExpectUnavailable(ctx context.Context, t *testing.T, s *childServer, method, path, token string, in any) {
	t.Helper()
	r, err := s.call(ctx, method, path, token, in)
	if err != nil {
		t.Fatal(err)
	}
	var body errorBody
	if r.Status != http.StatusServiceUnavailable || json.Unmarshal(r.Body, &body) != nil || body.Error.Code != "unavailable" ||
		body.Error.Message == "" || r.Header.Get("Retry-After") == "" || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("%s %s with Postgres down: %v (Retry-After %q), want 503 unavailable JSON with Retry-After",
			method, path, r, r.Header.Get("Retry-After"))
	}
}

// pgExpectReady checks /readyz's status.
func pgExpectReady(ctx context.Context, t *testing.T, s *childServer, status int) {
	t.Helper()
	r, err := s.call(ctx, http.MethodGet, "/readyz", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != status {
		t.Fatalf("/readyz: %v, want %d", r, status)
	}
}

// A node whose database was migrated by a newer roomcast refuses to start:
// it exits non-zero saying so, and writes nothing.
func TestPostgresNewerSchemaRefusesToStart(t *testing.T) {
	pg := pgtest.Start(t)
	url := pg.NewDatabase(t)
	ctx := testContext(t)
	db, err := postgres.Open(ctx, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	ms, err := postgres.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	known := ms[len(ms)-1].Version
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, 'from_a_newer_roomcast', now())`, known+1); err != nil {
		t.Fatal(err)
	}

	cfg := testConfig(t, func(c *config.Config) { c.DatabaseURL = url })
	code, stderr := pgRunChildToExit(t, cfg)
	want := "database schema version " + strconv.Itoa(known+1) + " is newer than this roomcast (" + strconv.Itoa(known) + "); upgrade roomcast"
	if code == 0 || !strings.Contains(stderr, want) {
		t.Fatalf("exit code %d, stderr:\n%s\nwant a non-zero exit saying %q", code, stderr, want)
	}
	var users int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM users`).Scan(&users); err != nil || users != 0 {
		t.Fatalf("%d users, %v: the refused node wrote to the database", users, err)
	}
}

// pgRunChildToExit runs a child server with cfg, which must exit on its own
// within testTimeout, and returns its exit code and stderr.
func pgRunChildToExit(t *testing.T, cfg config.Config) (code int, stderr string) {
	t.Helper()
	raw, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), childConfigEnv+"="+string(raw))
	out := &syncBuffer{}
	cmd.Stderr = out
	err = cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("child server still running after %v; stderr:\n%s", testTimeout, out)
	}
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatal(err)
	}
	return cmd.ProcessState.ExitCode(), out.String()
}

// The same refusal on one node: a SQLite file migrated by a newer roomcast.
func TestSQLiteNewerSchemaRefusesToStart(t *testing.T) {
	cfg := testConfig(t)
	ctx := testContext(t)
	path := filepath.Join(cfg.DataDir, sqlite.FileName)
	db, err := sqlite.Open(ctx, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	ms, err := sqlite.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	known := ms[len(ms)-1].Version
	raw, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	_, err = raw.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, 'from_a_newer_roomcast', 0)`, known+1)
	raw.Close()
	if err != nil {
		t.Fatal(err)
	}
	code, stderr := pgRunChildToExit(t, cfg)
	want := "database schema version " + strconv.Itoa(known+1) + " is newer than this roomcast (" + strconv.Itoa(known) + "); upgrade roomcast"
	if code == 0 || !strings.Contains(stderr, want) {
		t.Fatalf("exit code %d, stderr:\n%s\nwant a non-zero exit saying %q", code, stderr, want)
	}
}

// A node whose Postgres cannot be reached at start exits non-zero saying
// so (a supervisor restarts it), rather than serving without a database.
func TestPostgresUnreachableAtStart(t *testing.T) {
	pg := pgtest.Start(t)
	url := pg.NewDatabase(t)
	if err := pg.Stop(); err != nil {
		t.Fatal(err)
	}
	code, stderr := pgRunChildToExit(t, testConfig(t, func(c *config.Config) { c.DatabaseURL = url }))
	if code == 0 || !strings.Contains(stderr, "store: database unavailable") {
		t.Fatalf("exit code %d, stderr:\n%s\nwant a non-zero exit saying the database is unavailable", code, stderr)
	}
}
