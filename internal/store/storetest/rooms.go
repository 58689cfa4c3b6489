package storetest

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"roomcast/internal/store"
)

func testCreateRoom(t *testing.T, open Opener) {
	db := openFresh(t, open)
	ctx := t.Context()
	mustUser(t, db, "u1", 0)
	live := t0.Add(-time.Minute)
	for _, tc := range []struct {
		name string
		room store.Room
		want error
	}{
		{"minimal", store.Room{ID: "r1", OwnerID: "u1", Stream: "s1"}, nil},
		{"full", store.Room{ID: "r2", OwnerID: "u1", Stream: "s2", Title: "t", Description: "d", Private: true,
			Status: store.StatusLive, LiveSince: &live, Likes: 7, Record: true, CreatedAt: t0.Add(-time.Hour), UpdatedAt: t0}, nil},
		{"stream taken", store.Room{ID: "r3", OwnerID: "u1", Stream: "s1"}, store.ErrConflict},
		{"id taken", store.Room{ID: "r1", OwnerID: "u1", Stream: "s4"}, store.ErrConflict},
		{"unknown owner", store.Room{ID: "r5", OwnerID: "ghost", Stream: "s5"}, store.ErrNotFound},
		{"no id", store.Room{OwnerID: "u1", Stream: "s6"}, errAny},
		{"no owner", store.Room{ID: "r7", Stream: "s7"}, errAny},
		{"no stream", store.Room{ID: "r8", OwnerID: "u1"}, errAny},
		{"bad status", store.Room{ID: "r9", OwnerID: "u1", Stream: "s9", Status: "paused"}, errAny},
		{"live without start", store.Room{ID: "r10", OwnerID: "u1", Stream: "s10", Status: store.StatusLive}, errAny},
		{"negative likes", store.Room{ID: "r11", OwnerID: "u1", Stream: "s11", Likes: -1}, errAny},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.room
			err := db.CreateRoom(ctx, &r)
			checkErr(t, "CreateRoom", err, tc.want)
			if err != nil {
				return
			}
			byID, err := db.RoomByID(ctx, r.ID)
			checkErr(t, "RoomByID", err, nil)
			same(t, "by ID", byID, &r)
			byStream, err := db.RoomByStream(ctx, r.Stream)
			checkErr(t, "RoomByStream", err, nil)
			same(t, "by stream", byStream, &r)
		})
	}
	r1, _ := db.RoomByID(ctx, "r1")
	if r1.Status != store.StatusIdle || !r1.CreatedAt.Equal(t0) || !r1.UpdatedAt.Equal(t0) {
		t.Errorf("defaults: status %q, created %v, updated %v", r1.Status, r1.CreatedAt, r1.UpdatedAt)
	}
	_, err := db.RoomByID(ctx, "nope")
	checkErr(t, "RoomByID(nope)", err, store.ErrNotFound)
	_, err = db.RoomByStream(ctx, "nope")
	checkErr(t, "RoomByStream(nope)", err, store.ErrNotFound)
}

func testListRooms(t *testing.T, open Opener) {
	db := openFresh(t, open)
	ctx := t.Context()
	mustUser(t, db, "alice", 0)
	mustUser(t, db, "bob", 0)
	// Ten rooms: r00 oldest … r09 newest, r04 and r05 created at the same time.
	type spec struct {
		owner   string
		private bool
		liveAgo time.Duration // 0: not live
		ended   bool
	}
	specs := []spec{
		{"alice", false, 5 * time.Minute, false}, // r00
		{"bob", false, 0, true},                  // r01
		{"alice", true, 1 * time.Minute, false},  // r02
		{"bob", false, 0, false},                 // r03
		{"alice", false, 9 * time.Minute, false}, // r04
		{"bob", false, 2 * time.Minute, false},   // r05
		{"alice", false, 0, false},               // r06
		{"bob", true, 0, false},                  // r07
		{"alice", false, 3 * time.Minute, false}, // r08
		{"bob", false, 3 * time.Minute, false},   // r09: same live start as r08
	}
	for i, s := range specs {
		id := fmt.Sprintf("r%02d", i)
		offset := time.Duration(i) * time.Second
		if i == 5 {
			offset = 4 * time.Second
		}
		mustRoom(t, db, id, s.owner, offset)
		_, err := db.UpdateRoom(ctx, id, func(r *store.Room) error { r.Private = s.private; return nil })
		checkErr(t, "UpdateRoom", err, nil)
		if s.liveAgo != 0 {
			_, err := db.SetRoomStatus(ctx, id, store.StatusLive, t0.Add(time.Hour-s.liveAgo))
			checkErr(t, "SetRoomStatus", err, nil)
		}
		if s.ended {
			_, err := db.SetRoomStatus(ctx, id, store.StatusEnded, t0.Add(time.Hour))
			checkErr(t, "SetRoomStatus", err, nil)
		}
	}

	for _, tc := range []struct {
		name   string
		filter store.RoomFilter
		want   []string
	}{
		{"all", store.RoomFilter{}, []string{"r09", "r08", "r07", "r06", "r05", "r04", "r03", "r02", "r01", "r00"}},
		{"public", store.RoomFilter{PublicOnly: true}, []string{"r09", "r08", "r06", "r05", "r04", "r03", "r01", "r00"}},
		{"owner", store.RoomFilter{OwnerID: "alice"}, []string{"r08", "r06", "r04", "r02", "r00"}},
		{"live by start", store.RoomFilter{Status: store.StatusLive}, []string{"r02", "r05", "r09", "r08", "r00", "r04"}},
		{"live public of bob", store.RoomFilter{Status: store.StatusLive, OwnerID: "bob", PublicOnly: true}, []string{"r05", "r09"}},
		{"idle", store.RoomFilter{Status: store.StatusIdle}, []string{"r07", "r06", "r03"}},
		{"ended", store.RoomFilter{Status: store.StatusEnded}, []string{"r01"}},
		{"nobody's", store.RoomFilter{OwnerID: "carol"}, nil},
	} {
		for _, limit := range []int{1, 2, 4, 0} {
			t.Run(fmt.Sprintf("%s/limit %d", tc.name, limit), func(t *testing.T) {
				f := tc.filter
				f.Limit = limit
				var ids []string
				for pages := 0; ; pages++ {
					if pages > len(tc.want) {
						t.Fatal("paging does not end")
					}
					rooms, next, err := db.ListRooms(ctx, f)
					checkErr(t, "ListRooms", err, nil)
					if limit > 0 && len(rooms) > limit {
						t.Fatalf("page of %d rooms, limit %d", len(rooms), limit)
					}
					for _, r := range rooms {
						ids = append(ids, r.ID)
					}
					if next == "" {
						break
					}
					f.Cursor = next
				}
				same(t, "ids", ids, tc.want)
			})
		}
	}

	t.Run("live room restarts between pages", func(t *testing.T) {
		f := store.RoomFilter{Status: store.StatusLive, Limit: 2}
		first, next, err := db.ListRooms(ctx, f)
		checkErr(t, "ListRooms", err, nil)
		// r04 (last on the full list) goes live again: it moves to the front,
		// before the cursor, so the remaining pages neither repeat nor show it.
		_, err = db.SetRoomStatus(ctx, "r04", store.StatusEnded, t0.Add(2*time.Hour))
		checkErr(t, "SetRoomStatus", err, nil)
		_, err = db.SetRoomStatus(ctx, "r04", store.StatusLive, t0.Add(2*time.Hour))
		checkErr(t, "SetRoomStatus", err, nil)
		f.Cursor, f.Limit = next, 100
		rest, _, err := db.ListRooms(ctx, f)
		checkErr(t, "ListRooms", err, nil)
		var ids []string
		for _, r := range slices.Concat(first, rest) {
			ids = append(ids, r.ID)
		}
		same(t, "ids", ids, []string{"r02", "r05", "r09", "r08", "r00"})
	})

	t.Run("errors", func(t *testing.T) {
		_, createdCursor, err := db.ListRooms(ctx, store.RoomFilter{Limit: 1})
		checkErr(t, "ListRooms", err, nil)
		_, liveCursor, err := db.ListRooms(ctx, store.RoomFilter{Status: store.StatusLive, Limit: 1})
		checkErr(t, "ListRooms", err, nil)
		_, _, err = db.ListRooms(ctx, store.RoomFilter{Status: store.StatusLive, Cursor: createdCursor})
		checkErr(t, "created-order cursor on live list", err, store.ErrInvalidCursor)
		_, _, err = db.ListRooms(ctx, store.RoomFilter{Cursor: liveCursor})
		checkErr(t, "live cursor on created-order list", err, store.ErrInvalidCursor)
		_, _, err = db.ListRooms(ctx, store.RoomFilter{Cursor: "%%%"})
		checkErr(t, "garbage cursor", err, store.ErrInvalidCursor)
		_, _, err = db.ListRooms(ctx, store.RoomFilter{Status: "paused"})
		checkErr(t, "bad status", err, errAny)
	})
}

func testUpdateRoom(t *testing.T, open Opener) {
	db := openFresh(t, open)
	ctx := t.Context()
	mustUser(t, db, "u1", 0)
	mustUser(t, db, "u2", 0)
	orig := mustRoom(t, db, "r1", "u1", 0)
	mustRoom(t, db, "r2", "u1", 0)
	errDomain := errors.New("domain says no")
	later := t0.Add(time.Hour)
	live := t0.Add(time.Minute)

	for _, tc := range []struct {
		name   string
		fn     func(*store.Room) error
		want   error
		expect func(r *store.Room) // how the stored room must differ from before; nil: unchanged
	}{
		{"edit fields", func(r *store.Room) error {
			r.Title, r.Description, r.Private, r.Record = "new", "desc", true, true
			return nil
		}, nil, func(r *store.Room) {
			r.Title, r.Description, r.Private, r.Record, r.UpdatedAt = "new", "desc", true, true, t0
		}},
		{"explicit UpdatedAt and new owner and stream", func(r *store.Room) error {
			r.UpdatedAt, r.OwnerID, r.Stream = later, "u2", "s-new"
			return nil
		}, nil, func(r *store.Room) { r.UpdatedAt, r.OwnerID, r.Stream = later, "u2", "s-new" }},
		{"ID and CreatedAt are kept", func(r *store.Room) error {
			r.ID, r.CreatedAt, r.Title = "other", later, "kept"
			return nil
		}, nil, func(r *store.Room) { r.Title, r.UpdatedAt = "kept", t0 }},
		{"fn error", func(r *store.Room) error { r.Title = "lost"; return errDomain }, errDomain, nil},
		{"stream taken", func(r *store.Room) error { r.Title, r.Stream = "lost", "r2"; return nil }, store.ErrConflict, nil},
		{"unknown owner", func(r *store.Room) error { r.OwnerID = "ghost"; return nil }, store.ErrNotFound, nil},
		{"live without LiveSince", func(r *store.Room) error { r.Status = store.StatusLive; return nil }, errAny, nil},
		{"bad status", func(r *store.Room) error { r.Status = "paused"; return nil }, errAny, nil},
		{"go live", func(r *store.Room) error { r.Status, r.LiveSince = store.StatusLive, &live; return nil }, nil,
			func(r *store.Room) { r.Status, r.LiveSince, r.UpdatedAt = store.StatusLive, ptr(live), t0 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before, err := db.RoomByID(ctx, "r1")
			checkErr(t, "RoomByID", err, nil)
			got, err := db.UpdateRoom(ctx, "r1", tc.fn)
			checkErr(t, "UpdateRoom", err, tc.want)
			if tc.want == errDomain && err != errDomain {
				t.Errorf("fn's error came back as %v, want it unwrapped", err)
			}
			want := *before
			if tc.expect != nil {
				tc.expect(&want)
				same(t, "returned room", got, &want)
			}
			stored, err := db.RoomByID(ctx, "r1")
			checkErr(t, "RoomByID", err, nil)
			same(t, "stored room", stored, &want)
		})
	}
	if _, err := db.UpdateRoom(ctx, "nope", func(*store.Room) error { t.Error("fn called"); return nil }); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("UpdateRoom(nope) error = %v", err)
	}
	if !orig.CreatedAt.Equal(t0) {
		t.Errorf("CreatedAt changed: %v", orig.CreatedAt)
	}
}

func testUpdateRoomIsAtomic(t *testing.T, open Opener) {
	db := openFresh(t, open)
	ctx := t.Context()
	mustUser(t, db, "u1", 0)
	mustRoom(t, db, "r1", "u1", 0)
	const workers, each = 4, 10
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for range each {
				if _, err := db.UpdateRoom(ctx, "r1", func(r *store.Room) error { r.Likes++; return nil }); err != nil {
					t.Error(err)
				}
				if _, err := db.AddLikes(ctx, "r1", 1); err != nil {
					t.Error(err)
				}
				if _, err := db.RoomByID(ctx, "r1"); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	r, err := db.RoomByID(ctx, "r1")
	checkErr(t, "RoomByID", err, nil)
	if r.Likes != 2*workers*each {
		t.Fatalf("likes = %d, want %d: an update was lost", r.Likes, 2*workers*each)
	}
}

func testSetRoomStatus(t *testing.T, open Opener) {
	db := openFresh(t, open)
	ctx := t.Context()
	mustUser(t, db, "u1", 0)
	mustRoom(t, db, "r1", "u1", 0)
	at := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }
	for _, tc := range []struct {
		name      string
		status    string
		at        time.Time
		want      error
		liveSince *time.Time
		endedAt   *time.Time
		updated   time.Time
	}{
		{"idle to live", store.StatusLive, at(1), nil, ptr(at(1)), nil, at(1)},
		{"live again is a no-op", store.StatusLive, at(2), nil, ptr(at(1)), nil, at(1)},
		{"live to ended", store.StatusEnded, at(3), nil, ptr(at(1)), ptr(at(3)), at(3)},
		{"ended to live", store.StatusLive, at(4), nil, ptr(at(4)), nil, at(4)},
		{"live to idle", store.StatusIdle, at(5), nil, ptr(at(4)), nil, at(5)},
		{"idle to ended", store.StatusEnded, at(6), nil, ptr(at(4)), ptr(at(6)), at(6)},
		{"bad status", "paused", at(7), errAny, ptr(at(4)), ptr(at(6)), at(6)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before, err := db.RoomByID(ctx, "r1")
			checkErr(t, "RoomByID", err, nil)
			got, err := db.SetRoomStatus(ctx, "r1", tc.status, tc.at)
			checkErr(t, "SetRoomStatus", err, tc.want)
			stored, err := db.RoomByID(ctx, "r1")
			checkErr(t, "RoomByID", err, nil)
			want := *before
			if tc.want == nil {
				want.Status = tc.status
				same(t, "returned room", got, stored)
			}
			want.LiveSince, want.EndedAt, want.UpdatedAt = tc.liveSince, tc.endedAt, tc.updated
			same(t, "stored room", stored, &want)
		})
	}
	_, err := db.SetRoomStatus(ctx, "nope", store.StatusLive, t0)
	checkErr(t, "unknown stream", err, store.ErrNotFound)
}

func testAddLikes(t *testing.T, open Opener) {
	db := openFresh(t, open)
	ctx := t.Context()
	mustUser(t, db, "u1", 0)
	mustRoom(t, db, "r1", "u1", 0)
	for _, tc := range []struct {
		room string
		n    int64
		want int64
		err  error
	}{
		{"r1", 5, 5, nil},
		{"r1", 3, 8, nil},
		{"r1", 0, 8, nil},
		{"r1", -2, 6, nil},
		{"r1", -100, 0, nil},
		{"r1", 1, 1, nil},
		{"nope", 1, 0, store.ErrNotFound},
	} {
		got, err := db.AddLikes(ctx, tc.room, tc.n)
		checkErr(t, fmt.Sprintf("AddLikes(%s, %d)", tc.room, tc.n), err, tc.err)
		if got != tc.want {
			t.Errorf("AddLikes(%s, %d) = %d, want %d", tc.room, tc.n, got, tc.want)
		}
	}
	r, err := db.RoomByID(ctx, "r1")
	checkErr(t, "RoomByID", err, nil)
	if r.Likes != 1 || !r.UpdatedAt.Equal(t0) {
		t.Errorf("likes %d, updated %v; want 1 and UpdatedAt untouched", r.Likes, r.UpdatedAt)
	}
}

func testDeleteRoom(t *testing.T, open Opener) {
	db := openFresh(t, open)
	ctx := t.Context()
	mustUser(t, db, "u1", 0)
	mustRoom(t, db, "r1", "u1", 0)
	checkErr(t, "DeleteRoom", db.DeleteRoom(ctx, "r1"), nil)
	checkErr(t, "DeleteRoom again", db.DeleteRoom(ctx, "r1"), store.ErrNotFound)
	_, err := db.RoomByID(ctx, "r1")
	checkErr(t, "RoomByID", err, store.ErrNotFound)
	// The stream name is free again.
	mustRoom(t, db, "r1", "u1", 0)
}
