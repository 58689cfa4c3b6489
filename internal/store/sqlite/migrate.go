package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"time"

	"roomcast/internal/store/internal/schema"
)

// migrationFiles holds the schema migrations, applied in version order.
// A migration file is never edited once released: changes go in a new file.
// store/postgres has the same versions and names in its own dialect.
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

// Migrations returns the embedded migrations in version order, so that
// tests can check that every back-end has the same versions.
func Migrations() ([]schema.Migration, error) { return schema.Load(migrationFS()) }

// migrate brings the database on w to the latest of ms, each migration in its
// own transaction, recording each in schema_migrations. It returns the schema
// version and how many migrations it applied. It refuses a database that
// records a version it does not know: with a *store.SchemaTooNewError when
// that version is above the newest it knows.
func migrate(ctx context.Context, w *sql.DB, ms []schema.Migration, now func() time.Time) (version, applied int, err error) {
	if _, err := w.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    INTEGER PRIMARY KEY,
		name       TEXT    NOT NULL,
		applied_at INTEGER NOT NULL
	) STRICT`); err != nil {
		return 0, 0, fmt.Errorf("migrate: %w", err)
	}

	done, err := appliedVersions(ctx, w)
	if err != nil {
		return 0, 0, err
	}
	if err := schema.Check(done, ms); err != nil {
		return 0, 0, err
	}
	for _, m := range ms {
		if done[m.Version] {
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
	return schema.Latest(ms), applied, nil
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
func applyMigration(ctx context.Context, w *sql.DB, m schema.Migration, now func() time.Time) (bool, error) {
	tx, err := w.BeginTx(ctx, nil) // BEGIN IMMEDIATE: excludes a concurrent migrator
	if err != nil {
		return false, fmt.Errorf("migrate %04d_%s: %w", m.Version, m.Name, err)
	}
	defer tx.Rollback()
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations WHERE version = ?`, m.Version).Scan(&n); err != nil {
		return false, fmt.Errorf("migrate %04d_%s: %w", m.Version, m.Name, err)
	}
	if n > 0 {
		return false, nil
	}
	if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
		return false, fmt.Errorf("migrate %04d_%s: %w", m.Version, m.Name, err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
		m.Version, m.Name, micros(now())); err != nil {
		return false, fmt.Errorf("migrate %04d_%s: %w", m.Version, m.Name, err)
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("migrate %04d_%s: %w", m.Version, m.Name, err)
	}
	return true, nil
}
