// Package storetest is the conformance suite of the store implementations:
// every back-end (store/sqlite, store/postgres) runs the same tests of the
// contracts its methods document, from its own test package:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T, now func() time.Time) storetest.Store {
//			… open a fresh, empty database whose default clock is now …
//		})
//	}
//
// Tests of what only one back-end has (SQLite's file and pragmas, Postgres'
// connection loss) stay in its package.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"roomcast/internal/store"
)

// Store is every method the suite tests: what a store implementation has.
type Store interface {
	CreateUser(ctx context.Context, u *store.User) error
	UserByID(ctx context.Context, id string) (*store.User, error)
	UserByName(ctx context.Context, name string) (*store.User, error)
	UserByOpenID(ctx context.Context, openID string) (*store.User, error)
	ListUsers(ctx context.Context, cursor string, limit int) ([]store.User, string, error)
	SetUserBanned(ctx context.Context, id string, banned bool) error
	CountAdmins(ctx context.Context) (int, error)
	DeleteUser(ctx context.Context, id string) error

	CreateSession(ctx context.Context, s *store.Session) error
	SessionByTokenHash(ctx context.Context, tokenHash string, now time.Time) (*store.Session, error)
	DeleteSession(ctx context.Context, tokenHash string) error
	DeleteUserSessions(ctx context.Context, userID string) error
	DeleteExpiredSessions(ctx context.Context, now time.Time) (int64, error)

	CreateRoom(ctx context.Context, r *store.Room) error
	RoomByID(ctx context.Context, id string) (*store.Room, error)
	RoomByStream(ctx context.Context, stream string) (*store.Room, error)
	ListRooms(ctx context.Context, f store.RoomFilter) ([]store.Room, string, error)
	UpdateRoom(ctx context.Context, id string, fn func(*store.Room) error) (*store.Room, error)
	DeleteRoom(ctx context.Context, id string) error
	SetRoomStatus(ctx context.Context, stream, status string, at time.Time) (*store.Room, error)
	AddLikes(ctx context.Context, roomID string, n int64) (int64, error)

	AppendChatMessage(ctx context.Context, m *store.ChatMessage) error
	LastChatSeq(ctx context.Context, roomID string) (int64, error)
	ChatMessagesBefore(ctx context.Context, roomID string, before int64, limit int) ([]store.ChatMessage, error)
	ChatMessagesAfter(ctx context.Context, roomID string, after int64, limit int) ([]store.ChatMessage, error)
	DeleteChatMessage(ctx context.Context, roomID, id string) (*store.ChatMessage, error)
	PutChatSanction(ctx context.Context, s *store.ChatSanction) error
	DeleteChatSanction(ctx context.Context, roomID, userID, kind string) error
	ChatSanctions(ctx context.Context, roomID, userID string) ([]store.ChatSanction, error)
	SetChatPin(ctx context.Context, roomID, text string) error
	ChatPin(ctx context.Context, roomID string) (string, error)

	CreateRecording(ctx context.Context, r *store.Recording) error
	RecordingByID(ctx context.Context, id string) (*store.Recording, error)
	ListRecordings(ctx context.Context, roomID, cursor string, limit int) ([]store.Recording, string, error)
	RecordingsByStatus(ctx context.Context, status string) ([]store.Recording, error)
	UpdateRecording(ctx context.Context, id string, fn func(*store.Recording) error) (*store.Recording, error)
	DeleteRecording(ctx context.Context, id string) error

	EnqueueEvent(ctx context.Context, ev store.Event, urls []string) error
	DueDeliveries(ctx context.Context, now time.Time, limit int) ([]store.PendingDelivery, error)
	MarkDelivered(ctx context.Context, eventID, url string, at time.Time) error
	MarkFailed(ctx context.Context, eventID, url string, attempts int, next time.Time, lastErr string) error
	MarkAbandoned(ctx context.Context, eventID, url string, attempts int, at time.Time, lastErr string) error
	PruneDelivered(ctx context.Context, before time.Time) (int64, error)
	ClaimDeliveries(ctx context.Context, claimer string, now time.Time, lease time.Duration, limit int) ([]store.PendingDelivery, error)
	ReleaseDeliveries(ctx context.Context, claimer string) error

	PruneChatHistory(ctx context.Context, keep int, before time.Time) (int64, error)
	RecordingBytesOfOwner(ctx context.Context, ownerID string) (int64, error)

	AddCohost(ctx context.Context, roomID, userID string, max int, at time.Time) (*store.Member, error)
	RemoveCohost(ctx context.Context, roomID, userID string) error
	Cohosts(ctx context.Context, roomID string) ([]store.Member, error)
	IsCohost(ctx context.Context, roomID, userID string) (bool, error)
	PutRoomCover(ctx context.Context, c *store.RoomCover) error
	RoomCover(ctx context.Context, roomID string, withJPEG bool) (*store.RoomCover, error)

	Ping(ctx context.Context) error
	Close() error
}

// Opener opens a fresh, empty database for t, whose store uses now as its
// clock for defaults (zero CreatedAt and the like), and closes it when t
// ends. It fails t if it cannot.
type Opener func(t *testing.T, now func() time.Time) Store

// t0 is the fixed "now" of the suite's stores.
var t0 = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

// Run runs the whole suite on the stores open opens, each test in a
// parallel subtest with a database of its own.
func Run(t *testing.T, open Opener) {
	for _, tc := range []struct {
		name string
		fn   func(*testing.T, Opener)
	}{
		{"CreateUser", testCreateUser},
		{"UserLookups", testUserLookups},
		{"ListUsers", testListUsers},
		{"BanAndCountAdmins", testBanAndCountAdmins},
		{"DeleteUserCascades", testDeleteUserCascades},
		{"UserNamesAreExact", testUserNamesAreExact},
		{"CreateSession", testCreateSession},
		{"SessionExpiry", testSessionExpiry},
		{"DeleteSessions", testDeleteSessions},
		{"CreateRoom", testCreateRoom},
		{"ListRooms", testListRooms},
		{"UpdateRoom", testUpdateRoom},
		{"UpdateRoomIsAtomic", testUpdateRoomIsAtomic},
		{"SetRoomStatus", testSetRoomStatus},
		{"AddLikes", testAddLikes},
		{"DeleteRoom", testDeleteRoom},
		{"CreateRecording", testCreateRecording},
		{"UpdateRecording", testUpdateRecording},
		{"ListRecordings", testListRecordings},
		{"DeleteRecording", testDeleteRecording},
		{"ChatMessages", testChatMessages},
		{"ChatSanctions", testChatSanctions},
		{"ChatPin", testChatPin},
		{"ChatSeqConcurrent", testChatSeqConcurrent},
		{"EnqueueEvent", testEnqueueEvent},
		{"OutboxLifecycle", testOutboxLifecycle},
		{"MarkAbandoned", testMarkAbandoned},
		{"ClaimDeliveries", testClaimDeliveries},
		{"ClaimDeliveriesConcurrent", testClaimDeliveriesConcurrent},
		{"ForeignKeyAndConflict", testForeignKeyAndConflict},
		{"PruneChatHistory", testPruneChatHistory},
		{"RecordingBytesOfOwner", testRecordingBytesOfOwner},
		{"Cohosts", testCohosts},
		{"CohostsLimitConcurrent", testCohostsLimitConcurrent},
		{"RoomCovers", testRoomCovers},
		{"Ping", testPing},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, open)
		})
	}
}

// openFresh opens a fresh store whose clock is fixed at t0.
func openFresh(t *testing.T, open Opener) Store {
	t.Helper()
	return open(t, func() time.Time { return t0 })
}

func testForeignKeyAndConflict(t *testing.T, open Opener) {
	db := openFresh(t, open)
	ctx := t.Context()
	err := db.CreateRoom(ctx, &store.Room{ID: "r1", OwnerID: "ghost", Stream: "s1"})
	checkErr(t, "room of missing owner", err, store.ErrNotFound)
	mustUser(t, db, "u1", 0)
	err = db.CreateUser(ctx, &store.User{ID: "u1"})
	checkErr(t, "duplicate user id", err, store.ErrConflict)
}

func testPing(t *testing.T, open Opener) {
	db := openFresh(t, open)
	if err := db.Ping(t.Context()); err != nil {
		t.Fatalf("Ping: %v", err)
	}
}

// mustUser creates a user named after id, created at t0 plus offset.
func mustUser(t *testing.T, db Store, id string, offset time.Duration) *store.User {
	t.Helper()
	u := &store.User{ID: id, Name: "name-" + id, CreatedAt: t0.Add(offset)}
	if err := db.CreateUser(context.Background(), u); err != nil {
		t.Fatalf("CreateUser(%s): %v", id, err)
	}
	return u
}

// mustRoom creates an idle room of owner whose stream is its ID, created at
// t0 plus offset.
func mustRoom(t *testing.T, db Store, id, owner string, offset time.Duration) *store.Room {
	t.Helper()
	r := &store.Room{ID: id, OwnerID: owner, Stream: id, Title: "title " + id, CreatedAt: t0.Add(offset)}
	if err := db.CreateRoom(context.Background(), r); err != nil {
		t.Fatalf("CreateRoom(%s): %v", id, err)
	}
	return r
}

// CheckErr fails the test unless err matches want: nil means no error,
// ErrAny any error, anything else errors.Is.
func CheckErr(t *testing.T, what string, err, want error) {
	t.Helper()
	switch {
	case want == nil && err != nil:
		t.Fatalf("%s: unexpected error %v", what, err)
	case want == ErrAny && err == nil, want != nil && want != ErrAny && !errors.Is(err, want):
		t.Fatalf("%s: error = %v, want %v", what, err, want)
	}
}

// ErrAny makes CheckErr accept any non-nil error.
var ErrAny = errors.New("any error")

// Same fails the test unless got and want are deeply equal.
func Same[T any](t *testing.T, what string, got, want T) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%s:\n got  %s\n want %s", what, show(got), show(want))
	}
}

// The package's own tests use the short names.
var (
	checkErr = CheckErr
	errAny   = ErrAny
)

func same[T any](t *testing.T, what string, got, want T) {
	t.Helper()
	Same(t, what, got, want)
}

// show formats v with pointers followed, for failure messages.
func show(v any) string {
	rv := reflect.ValueOf(v)
	for rv.Kind() == reflect.Pointer && !rv.IsNil() {
		rv = rv.Elem()
	}
	if rv.Kind() != reflect.Struct {
		return fmt.Sprintf("%+v", rv)
	}
	s := "{"
	for i := range rv.NumField() {
		f := rv.Field(i)
		if f.Kind() == reflect.Pointer && !f.IsNil() {
			f = f.Elem()
		}
		s += fmt.Sprintf("%s:%v ", rv.Type().Field(i).Name, f)
	}
	return s + "}"
}

func ptr[T any](v T) *T { return &v }
