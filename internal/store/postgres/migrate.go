package postgres

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"roomcast/internal/store/internal/schema"
)

// migrationFiles holds the schema migrations, applied in version order: the
// versions and names of store/sqlite's, in Postgres SQL. A migration file is
// never edited once released: changes go in a new file, in both back-ends.
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

// Migrations returns the embedded migrations in version order.
func Migrations() ([]schema.Migration, error) { return schema.Load(migrationFS()) }

// migrateLock is the key of the session advisory lock held while migrating
// ("roomcast" in ASCII). Other advisory locks of the store use the two-key
// form, whose key space is apart from this one.
const migrateLock int64 = 0x726f6f6d63617374

// migrate brings the database to the latest of ms while holding the
// migration lock, each migration in its own transaction recorded in
// schema_migrations. It returns the schema version and how many migrations
// it applied. It refuses a database that records a version it does not know:
// with a *store.SchemaTooNewError when that version is above the newest it
// knows.
func migrate(ctx context.Context, pool *pgxpool.Pool, ms []schema.Migration, now func() time.Time) (version, applied int, err error) {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return 0, 0, fmt.Errorf("migrate: %w", err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, migrateLock); err != nil {
		return 0, 0, fmt.Errorf("migrate: lock: %w", err)
	}
	defer func() {
		// Unlock even when ctx has ended; a broken connection drops the lock
		// with the session anyway.
		uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if _, uerr := conn.Exec(uctx, `SELECT pg_advisory_unlock($1)`, migrateLock); uerr != nil {
			conn.Conn().Close(uctx)
		}
	}()

	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    integer PRIMARY KEY,
		name       text NOT NULL,
		applied_at timestamptz NOT NULL
	)`); err != nil {
		return 0, 0, fmt.Errorf("migrate: %w", err)
	}
	done, err := appliedVersions(ctx, conn.Conn())
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
		err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, m.SQL); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)`,
				m.Version, m.Name, now())
			return err
		})
		if err != nil {
			return 0, 0, fmt.Errorf("migrate %04d_%s: %w", m.Version, m.Name, err)
		}
		applied++
	}
	return schema.Latest(ms), applied, nil
}

// appliedVersions returns the versions recorded in schema_migrations.
func appliedVersions(ctx context.Context, conn *pgx.Conn) (map[int]bool, error) {
	rows, err := conn.Query(ctx, `SELECT version FROM schema_migrations`)
	if err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	vs, err := pgx.CollectRows(rows, pgx.RowTo[int32])
	if err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	done := make(map[int]bool, len(vs))
	for _, v := range vs {
		done[int(v)] = true
	}
	return done, nil
}
