// Package postgres is the store of a cluster: every node uses the same
// Postgres database, through github.com/jackc/pgx/v5 (pgxpool).
//
// It has the methods and contracts of store/sqlite, on the same schema and
// migration versions written for Postgres; the store conformance suite
// (store/storetest) runs on both.
//
// # Migrations
//
// Open applies the migrations the database lacks while holding a session
// advisory lock, so nodes started at once migrate one after the other: the
// first applies them, the others find them applied. A database that records a
// version above the newest this build knows is refused with a
// *store.SchemaTooNewError: an older node must not write to a newer schema.
//
// # Connection loss
//
// Errors that mean the server cannot be reached (connection refused or cut,
// server shutting down or starting up) wrap store.ErrUnavailable, which the
// API answers with 503 "unavailable". The pool drops broken connections and
// dials new ones on demand, so the store works again as soon as Postgres is
// back, without a restart.
//
// # Concurrency
//
// Several nodes write at once. Read-modify-writes (UpdateRoom,
// SetRoomStatus, UpdateRecording) lock the row (SELECT … FOR UPDATE); a
// room's chat sequence numbers are allocated under a transaction-scoped
// advisory lock of that room; the webhook outbox is claimed with FOR UPDATE
// SKIP LOCKED and a lease (see ClaimDeliveries).
package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"roomcast/internal/store"
)

// connectTimeout bounds one connection attempt when the URL sets none, so
// that an unreachable server fails a request instead of hanging it.
const connectTimeout = 5 * time.Second

// DB is the Postgres store. Its methods are safe for concurrent use, also by
// several processes on the same database. Domain packages do not name this
// type: each declares an interface with the methods it needs.
type DB struct {
	pool *pgxpool.Pool
	addr string // the URL without its password, for logs
	log  *slog.Logger
	now  func() time.Time // default for zero CreatedAt/UpdatedAt; tests replace it
}

// Open connects to the database at rawURL (postgres:// or postgresql://,
// with any libpq setting pgx accepts) and applies the embedded migrations the
// database lacks. It fails with an error wrapping store.ErrSchemaTooNew when
// the database was migrated by a newer build, and with one wrapping
// store.ErrUnavailable when the server cannot be reached. log may be nil.
func Open(ctx context.Context, rawURL string, log *slog.Logger) (*DB, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	addr, err := Redact(rawURL)
	if err != nil {
		return nil, fmt.Errorf("postgres: open: %w", err)
	}
	cfg, err := pgxpool.ParseConfig(rawURL)
	if err != nil {
		return nil, fmt.Errorf("postgres: open %s: %w", addr, err)
	}
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = connectTimeout
	}
	cfg.ConnConfig.RuntimeParams["timezone"] = "UTC"
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: open %s: %w", addr, mapErr(err))
	}
	db := &DB{pool: pool, addr: addr, log: log, now: func() time.Time { return time.Now().UTC() }}
	migs, err := Migrations()
	if err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: open %s: %w", addr, err)
	}
	version, applied, err := migrate(ctx, pool, migs, db.now)
	if err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: open %s: %w", addr, mapErr(err))
	}
	log.Info("database opened", "url", addr, "schema_version", version, "migrations_applied", applied)
	return db, nil
}

// Redact returns rawURL without its password, for logs and errors, after
// checking that it is a postgres:// or postgresql:// URL.
func Redact(rawURL string) (string, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "", errors.New("database URL is not a URL")
	}
	if u.Scheme != "postgres" && u.Scheme != "postgresql" {
		return "", fmt.Errorf("database URL scheme %q: want postgres:// or postgresql://", u.Scheme)
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	q := u.Query()
	if q.Has("password") {
		q.Set("password", "xxxxx")
		u.RawQuery = q.Encode()
	}
	return u.String(), nil
}

// Addr returns the database URL without its password.
func (db *DB) Addr() string { return db.addr }

// Ping checks that the database answers, for health checks.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.pool.Ping(ctx); err != nil {
		return fmt.Errorf("postgres: ping: %w", mapErr(err))
	}
	return nil
}

// Close closes the pool's connections. Call it once, after everything using
// the store has stopped.
func (db *DB) Close() error {
	db.pool.Close()
	db.log.Info("database closed", "url", db.addr)
	return nil
}

// inTx runs fn in a transaction and commits it if fn returns nil.
func (db *DB) inTx(ctx context.Context, fn func(tx pgx.Tx) error) error {
	return pgx.BeginFunc(ctx, db.pool, fn)
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
	if errors.Is(err, pgx.ErrNoRows) {
		return store.ErrNotFound
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch {
		case pe.Code == "23505": // unique_violation
			return fmt.Errorf("%w: %w", store.ErrConflict, err)
		case pe.Code == "23503": // foreign_key_violation
			return fmt.Errorf("%w: %w", errFK, err)
		case unavailableCode(pe.Code):
			return fmt.Errorf("%w: %w", store.ErrUnavailable, err)
		}
		return err
	}
	if unreachable(err) {
		return fmt.Errorf("%w: %w", store.ErrUnavailable, err)
	}
	return err
}

// unavailableCode reports whether a server error code means the server
// cannot serve now: connection exceptions (class 08), shutting down
// (57P01 admin_shutdown, 57P02 crash_shutdown), starting up (57P03
// cannot_connect_now) or out of connections (53300).
func unavailableCode(code string) bool {
	return strings.HasPrefix(code, "08") || code == "57P01" || code == "57P02" || code == "57P03" || code == "53300"
}

// unreachable reports whether err (not from the server) means that the
// server could not be reached or the connection broke.
func unreachable(err error) bool {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		// The caller gave up; whether the server is up is not known.
		var ce *pgconn.ConnectError
		return errors.As(err, &ce)
	}
	var ce *pgconn.ConnectError
	var ne net.Error
	return errors.As(err, &ce) || errors.As(err, &ne) ||
		errors.Is(err, pgconn.ErrConnClosed) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

// rowScanner is pgx.Row or pgx.Rows.
type rowScanner interface{ Scan(dest ...any) error }

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

// utcPtr returns an optional time read from the database in UTC.
func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	v := t.UTC()
	return &v
}

// nullString stores "" as NULL, for optional unique columns.
func nullString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// deref returns the string a nullable column held, "" for NULL.
func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// affected returns store.ErrNotFound when tag changed no row.
func affected(tag pgconn.CommandTag) error {
	if tag.RowsAffected() == 0 {
		return store.ErrNotFound
	}
	return nil
}

// fromMicros returns the time of a cursor's Unix microseconds.
func fromMicros(v int64) time.Time { return time.UnixMicro(v).UTC() }
