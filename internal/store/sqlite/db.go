// Package sqlite is the default store: one SQLite file in the data directory,
// through the cgo-free modernc.org/sqlite driver.
//
// # Durability
//
// The database runs in WAL mode with synchronous=FULL. In WAL mode
// synchronous=NORMAL only syncs the WAL at checkpoints, so a transaction that
// has committed (and been acknowledged to a client) survives an application
// crash but can be rolled back by a power loss or OS crash. FULL syncs the WAL
// on every commit, which is what "nothing acknowledged is lost" needs; the
// cost is one fsync per write transaction, which the live-room write rate
// (logins, room edits, stream events, batched likes) easily affords.
//
// # Connections
//
// SQLite allows one writer at a time. Rather than let several pooled
// connections race for the write lock and spin in busy_timeout, all writes go
// through a pool of exactly one connection, so in-process writers queue in
// database/sql (honouring their contexts) and never see SQLITE_BUSY. Write
// transactions start with BEGIN IMMEDIATE (_txlock=immediate): a
// read-modify-write such as UpdateRoom takes the write lock before it reads,
// so it can neither deadlock on a lock upgrade nor act on a stale read.
// Reads go through a separate pool of query_only connections; in WAL mode
// they run concurrently with each other and with the writer and see every
// transaction committed before they start. busy_timeout still matters for the
// rare contention with another process (the roomcast CLI on the same data
// directory) and for checkpoints.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	msqlite "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"roomcast/internal/store"
)

// FileName is the name of the database file inside the data directory.
const FileName = "roomcast.db"

// readConns is the size of the read pool. Reads are short; a few connections
// keep API requests from queueing behind one another on a 2-core machine.
const readConns = 4

// busyTimeoutMS is how long a statement waits for a lock held by another
// connection or process before failing with SQLITE_BUSY.
const busyTimeoutMS = 5000

// DB is the SQLite store. Its methods are safe for concurrent use. Domain
// packages do not name this type: each declares an interface with the
// methods it needs, and *DB satisfies it.
type DB struct {
	w    *sql.DB // exactly one connection: every write goes through it
	r    *sql.DB // query_only connections for reads
	path string
	log  *slog.Logger
	now  func() time.Time // default for zero CreatedAt/UpdatedAt; tests replace it
}

// Open opens (creating if needed) the database file at path, usually
// filepath.Join(dataDir, FileName), creates its directory, and applies the
// embedded migrations the file lacks. It fails with an error wrapping
// store.ErrSchemaTooNew when the file was migrated by a newer build. log may
// be nil.
func Open(ctx context.Context, path string, log *slog.Logger) (*DB, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if path == "" || strings.ContainsAny(path, "?#") || strings.HasPrefix(path, "file:") || path == ":memory:" {
		return nil, fmt.Errorf("sqlite: open: %q is not a plain file path", path)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, fmt.Errorf("sqlite: open: %w", err)
	}
	db := &DB{path: path, log: log, now: func() time.Time { return time.Now().UTC() }}
	ok := false
	defer func() {
		if !ok {
			db.closePools()
		}
	}()

	var err error
	if db.w, err = sql.Open("sqlite", dsn(path, true)); err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	db.w.SetMaxOpenConns(1)
	db.w.SetMaxIdleConns(1)
	db.w.SetConnMaxLifetime(0)
	db.w.SetConnMaxIdleTime(0)

	var mode string
	if err := db.w.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	if !strings.EqualFold(mode, "wal") {
		return nil, fmt.Errorf("sqlite: open %s: journal_mode is %q, want wal (is the file system local?)", path, mode)
	}

	migs, err := Migrations()
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	version, applied, err := migrate(ctx, db.w, migs, db.now)
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}

	if db.r, err = sql.Open("sqlite", dsn(path, false)); err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	db.r.SetMaxOpenConns(readConns)
	db.r.SetMaxIdleConns(readConns)
	db.r.SetConnMaxLifetime(0)
	if err := db.r.PingContext(ctx); err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}

	ok = true
	log.Info("database opened", "path", path, "schema_version", version, "migrations_applied", applied)
	return db, nil
}

// dsn returns the driver data source name for the file at path: the writer's
// when write is set, else a read-only connection's. Pragmas go in the DSN so
// that every connection the pools open gets them.
func dsn(path string, write bool) string {
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busyTimeoutMS))
	q.Add("_pragma", "foreign_keys(1)")
	// See the package comment: FULL, not NORMAL, so a commit is on disk.
	q.Add("_pragma", "synchronous(FULL)")
	q.Set("_dqs", "0") // "x" is an identifier, never a string literal
	if write {
		q.Add("_pragma", "journal_mode(WAL)")
		// Truncate the WAL back to 64 MiB after a checkpoint if it grew.
		q.Add("_pragma", "journal_size_limit(67108864)")
		q.Set("_txlock", "immediate")
	} else {
		q.Set("_query_only", "1")
	}
	return path + "?" + q.Encode()
}

// Path returns the database file's path.
func (db *DB) Path() string { return db.path }

// Ping checks that both pools can reach the database, for health checks.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.w.PingContext(ctx); err != nil {
		return fmt.Errorf("sqlite: ping: %w", err)
	}
	if err := db.r.PingContext(ctx); err != nil {
		return fmt.Errorf("sqlite: ping: %w", err)
	}
	return nil
}

// Close closes the database. Every committed write is already durable; Close
// lets SQLite checkpoint the WAL into the main file and remove it. Call it
// once, after everything using the store has stopped.
func (db *DB) Close() error {
	if _, err := db.w.Exec("PRAGMA optimize"); err != nil {
		db.log.Debug("database optimize failed", "error", err)
	}
	if err := db.closePools(); err != nil {
		return fmt.Errorf("sqlite: close: %w", err)
	}
	db.log.Info("database closed", "path", db.path)
	return nil
}

// closePools closes the read pool, then the writer, so the writer is the
// last connection and checkpoints the WAL.
func (db *DB) closePools() error {
	var errs []error
	if db.r != nil {
		errs = append(errs, db.r.Close())
	}
	if db.w != nil {
		errs = append(errs, db.w.Close())
	}
	return errors.Join(errs...)
}

// inTx runs fn in a write transaction (BEGIN IMMEDIATE) and commits it if fn
// returns nil. fn must not call other DB methods that write: the writer pool
// has one connection, which fn's transaction holds.
func (db *DB) inTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

// errFK is what mapErr returns for a foreign key violation: the row refers to
// a parent that does not exist.
var errFK = fmt.Errorf("%w: referenced row does not exist", store.ErrNotFound)

// mapErr translates driver errors into the store's sentinel errors, keeping
// the original in the chain.
func mapErr(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, sql.ErrNoRows) {
		return store.ErrNotFound
	}
	var se *msqlite.Error
	if errors.As(err, &se) {
		switch se.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return fmt.Errorf("%w: %w", store.ErrConflict, err)
		case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
			return fmt.Errorf("%w: %w", errFK, err)
		}
	}
	return err
}

// rowScanner is *sql.Row or *sql.Rows.
type rowScanner interface{ Scan(dest ...any) error }

// Times are stored as INTEGER Unix microseconds, UTC.

// micros returns t's database representation.
func micros(t time.Time) int64 { return t.UnixMicro() }

// fromMicros returns the time stored as v.
func fromMicros(v int64) time.Time { return time.UnixMicro(v).UTC() }

// trunc returns t as stored: UTC, to the microsecond, no monotonic reading.
func trunc(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// truncPtr is trunc for optional times.
func truncPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	v := trunc(*t)
	return &v
}

// nullMicros returns the database representation of an optional time.
func nullMicros(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.UnixMicro()
}

// timePtr returns the optional time stored as v.
func timePtr(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := fromMicros(v.Int64)
	return &t
}

// nullString stores "" as NULL, for optional unique columns.
func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// affected returns store.ErrNotFound when res changed no row.
func affected(res sql.Result) error {
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return store.ErrNotFound
	}
	return nil
}
