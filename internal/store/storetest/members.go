package storetest

import (
	"context"
	"sync"
	"testing"
	"time"

	"roomcast/internal/store"
)

// testCohosts adds co-hosts under a limit, refuses duplicates and unknown
// rows, lists them in order, removes them, and drops them with their user
// or room.
func testCohosts(t *testing.T, open Opener) {
	db := openFresh(t, open)
	ctx := t.Context()
	mustUser(t, db, "owner", 0)
	for _, id := range []string{"u1", "u2", "u3"} {
		mustUser(t, db, id, time.Second)
	}
	mustRoom(t, db, "r1", "owner", 0)
	mustRoom(t, db, "r2", "owner", time.Second)
	sec := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Second) }

	for _, tc := range []struct {
		name       string
		room, user string
		max, at    int
		want       error
	}{
		{"first", "r1", "u1", 2, 1, nil},
		{"second", "r1", "u2", 2, 2, nil},
		{"past the limit", "r1", "u3", 2, 3, store.ErrLimit},
		{"twice", "r1", "u1", 5, 4, store.ErrConflict},
		{"unknown user", "r1", "nobody", 5, 5, store.ErrNotFound},
		{"unknown room", "nowhere", "u1", 5, 6, store.ErrNotFound},
		{"other room", "r2", "u1", 1, 7, nil},
	} {
		m, err := db.AddCohost(ctx, tc.room, tc.user, tc.max, sec(tc.at))
		checkErr(t, tc.name, err, tc.want)
		if tc.want == nil && (m.RoomID != tc.room || m.UserID != tc.user || !m.AddedAt.Equal(sec(tc.at))) {
			t.Errorf("%s: got %+v", tc.name, m)
		}
	}
	ms, err := db.Cohosts(ctx, "r1")
	checkErr(t, "Cohosts", err, nil)
	same(t, "co-hosts of r1", ms, []store.Member{{RoomID: "r1", UserID: "u1", AddedAt: sec(1)}, {RoomID: "r1", UserID: "u2", AddedAt: sec(2)}})
	if ok, err := db.IsCohost(ctx, "r1", "u2"); err != nil || !ok {
		t.Errorf("IsCohost(r1, u2) = %v, %v", ok, err)
	}
	if ok, err := db.IsCohost(ctx, "r1", "u3"); err != nil || ok {
		t.Errorf("IsCohost(r1, u3) = %v, %v", ok, err)
	}

	checkErr(t, "remove u1", db.RemoveCohost(ctx, "r1", "u1"), nil)
	checkErr(t, "remove u1 again", db.RemoveCohost(ctx, "r1", "u1"), store.ErrNotFound)
	_, err = db.AddCohost(ctx, "r1", "u3", 2, sec(8))
	checkErr(t, "add u3 after a removal", err, nil)

	// Deleting a user or a room deletes its memberships.
	checkErr(t, "delete u2", db.DeleteUser(ctx, "u2"), nil)
	checkErr(t, "delete r2", db.DeleteRoom(ctx, "r2"), nil)
	ms, _ = db.Cohosts(ctx, "r1")
	same(t, "co-hosts of r1 after deletes", ms, []store.Member{{RoomID: "r1", UserID: "u3", AddedAt: sec(8)}})
	if ms, _ = db.Cohosts(ctx, "r2"); len(ms) != 0 {
		t.Errorf("deleted room keeps co-hosts %+v", ms)
	}
}

// testCohostsLimitConcurrent adds many co-hosts at once: the limit holds.
func testCohostsLimitConcurrent(t *testing.T, open Opener) {
	db := openFresh(t, open)
	ctx := context.Background()
	mustUser(t, db, "owner", 0)
	mustRoom(t, db, "r1", "owner", 0)
	ids := []string{"a", "b", "c", "d", "e", "f", "g", "h"}
	for _, id := range ids {
		mustUser(t, db, id, 0)
	}
	var wg sync.WaitGroup
	for _, id := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _ = db.AddCohost(ctx, "r1", id, 3, t0)
		}()
	}
	wg.Wait()
	if ms, _ := db.Cohosts(ctx, "r1"); len(ms) != 3 {
		t.Errorf("%d co-hosts after concurrent adds, want 3", len(ms))
	}
}
