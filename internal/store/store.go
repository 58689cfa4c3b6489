// Package store holds the persistence model shared by the live-room backend
// (accounts, sessions, rooms, the webhook outbox) and the errors its
// implementations return.
//
// The implementations live in subpackages (store/sqlite for one node,
// store/postgres for a cluster) and expose their operations as methods on a
// concrete type, with the same contracts: store/storetest is the conformance
// suite both run. The domain
// packages (user, room, auth, webhook, …) do not import an implementation:
// each declares the small interface it needs, with a subset of those methods,
// and the app wires a concrete store in. Every implementation returns the
// sentinel errors below, so domain code checks them with errors.Is no matter
// which database is behind it.
//
// All times in the model are UTC. Implementations keep microsecond precision
// (the precision of a Postgres timestamptz) and truncate what they are given,
// writing the truncated value back into the caller's struct on create, so a
// struct read back compares equal to the one written.
package store

import (
	"errors"
	"fmt"
)

// Sentinel errors returned (wrapped) by every store implementation.
var (
	// ErrNotFound: the row asked for does not exist (or, for sessions, has
	// expired). Also returned when a row refers to a parent that does not
	// exist, e.g. a room whose owner was deleted.
	ErrNotFound = errors.New("store: not found")
	// ErrConflict: a uniqueness rule was violated, e.g. a user name, WeChat
	// openid, room stream name or primary key is already taken.
	ErrConflict = errors.New("store: conflict")
	// ErrInvalidCursor: a paging cursor was not produced by the same listing
	// (or was tampered with). API handlers map it to 400 Bad Request.
	ErrInvalidCursor = errors.New("store: invalid cursor")
	// ErrSchemaTooNew: the database was migrated by a newer build than this
	// one; opening it would risk corrupting data the newer schema relies on.
	// A *SchemaTooNewError says which versions.
	ErrSchemaTooNew = errors.New("store: database schema is newer than this build")
	// ErrUnavailable: the database cannot be reached (connection refused or
	// lost, server shutting down). The operation may succeed later without
	// any change: the API answers 503 with code "unavailable".
	ErrUnavailable = errors.New("store: database unavailable")
)

// SchemaTooNewError is the error of opening a database whose schema version
// (the newest migration it records) is above the newest this build knows.
// It matches ErrSchemaTooNew with errors.Is.
type SchemaTooNewError struct {
	Version int // the database's schema version
	Known   int // the newest version this build knows
}

func (e *SchemaTooNewError) Error() string {
	return fmt.Sprintf("database schema version %d is newer than this roomcast (%d); upgrade roomcast", e.Version, e.Known)
}

// Is reports whether target is ErrSchemaTooNew.
func (e *SchemaTooNewError) Is(target error) bool { return target == ErrSchemaTooNew }

// Paging limits for the List methods. A limit <= 0 means DefaultPageSize; a
// larger limit than MaxPageSize is reduced to it.
const (
	DefaultPageSize = 50
	MaxPageSize     = 500
)
