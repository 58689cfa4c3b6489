package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"regexp"
	"slices"
	"strconv"
	"time"

	"roomcast/internal/store"
)

// migrationFiles holds the schema migrations, applied in version order.
// A migration file is never edited once released: changes go in a new file.
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

// migrationFS returns the embedded migrations directory.
func migrationFS() fs.FS {
	sub, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		panic(err) // the directory is embedded at build time
	}
	return sub
}

// migration is one schema change: NNNN_name.sql.
type migration struct {
	version int
	name    string
	sql     string
}

var migrationName = regexp.MustCompile(`^([0-9]{4})_([a-z0-9_]+)\.sql$`)

// loadMigrations reads the *.sql files at the root of fsys, sorted by version.
// Every file must be named NNNN_name.sql with a unique version above 0.
func loadMigrations(fsys fs.FS) ([]migration, error) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, fmt.Errorf("read migrations: %w", err)
	}
	var ms []migration
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		m := migrationName.FindStringSubmatch(e.Name())
		if m == nil {
			return nil, fmt.Errorf("migration file %q: name is not NNNN_name.sql", e.Name())
		}
		v, _ := strconv.Atoi(m[1])
		if v == 0 {
			return nil, fmt.Errorf("migration file %q: version 0", e.Name())
		}
		b, err := fs.ReadFile(fsys, e.Name())
		if err != nil {
			return nil, fmt.Errorf("read migration: %w", err)
		}
		ms = append(ms, migration{version: v, name: m[2], sql: string(b)})
	}
	slices.SortFunc(ms, func(a, b migration) int { return a.version - b.version })
	for i := 1; i < len(ms); i++ {
		if ms[i].version == ms[i-1].version {
			return nil, fmt.Errorf("migrations %q and %q share version %d", ms[i-1].name, ms[i].name, ms[i].version)
		}
	}
	return ms, nil
}

// migrate brings the database on w to the latest of ms, each migration in its
// own transaction, recording each in schema_migrations. It returns the schema
// version and how many migrations it applied. It refuses a database that
// records a version it does not know: with store.ErrSchemaTooNew when that
// version is above the newest it knows.
func migrate(ctx context.Context, w *sql.DB, ms []migration, now func() time.Time) (version, applied int, err error) {
	if _, err := w.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    INTEGER PRIMARY KEY,
		name       TEXT    NOT NULL,
		applied_at INTEGER NOT NULL
	) STRICT`); err != nil {
		return 0, 0, fmt.Errorf("migrate: %w", err)
	}

	known := make(map[int]bool, len(ms))
	latest := 0
	for _, m := range ms {
		known[m.version] = true
		latest = max(latest, m.version)
	}
	done, err := appliedVersions(ctx, w)
	if err != nil {
		return 0, 0, err
	}
	for v := range done {
		if known[v] {
			continue
		}
		if v > latest {
			return 0, 0, fmt.Errorf("%w: the database is at schema version %d, this build knows versions up to %d; run a newer roomcast or restore a backup",
				store.ErrSchemaTooNew, v, latest)
		}
		return 0, 0, fmt.Errorf("migrate: the database records migration %d, which this build does not have", v)
	}

	for _, m := range ms {
		if done[m.version] {
			continue
		}
		ran, err := applyMigration(ctx, w, m, now)
		if err != nil {
			return 0, 0, err
		}
		if ran {
			applied++
		}
	}
	return latest, applied, nil
}

// appliedVersions returns the versions recorded in schema_migrations.
func appliedVersions(ctx context.Context, w *sql.DB) (map[int]bool, error) {
	rows, err := w.QueryContext(ctx, `SELECT version FROM schema_migrations`)
	if err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	defer rows.Close()
	done := map[int]bool{}
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			return nil, fmt.Errorf("migrate: %w", err)
		}
		done[v] = true
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	return done, nil
}

// applyMigration runs m and records it in one transaction, unless another
// process recorded it first. It reports whether it ran m.
func applyMigration(ctx context.Context, w *sql.DB, m migration, now func() time.Time) (bool, error) {
	tx, err := w.BeginTx(ctx, nil) // BEGIN IMMEDIATE: excludes a concurrent migrator
	if err != nil {
		return false, fmt.Errorf("migrate %04d_%s: %w", m.version, m.name, err)
	}
	defer tx.Rollback()
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations WHERE version = ?`, m.version).Scan(&n); err != nil {
		return false, fmt.Errorf("migrate %04d_%s: %w", m.version, m.name, err)
	}
	if n > 0 {
		return false, nil
	}
	if _, err := tx.ExecContext(ctx, m.sql); err != nil {
		return false, fmt.Errorf("migrate %04d_%s: %w", m.version, m.name, err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
		m.version, m.name, micros(now())); err != nil {
		return false, fmt.Errorf("migrate %04d_%s: %w", m.version, m.name, err)
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("migrate %04d_%s: %w", m.version, m.name, err)
	}
	return true, nil
}
