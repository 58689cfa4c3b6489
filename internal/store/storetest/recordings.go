package storetest

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"roomcast/internal/store"
)

func testCreateRecording(t *testing.T, open Opener) {
	db := openFresh(t, open)
	ctx := t.Context()
	mustUser(t, db, "u1", 0)
	mustRoom(t, db, "r1", "u1", 0)
	ended := t0.Add(time.Minute)
	for _, tc := range []struct {
		name string
		rec  store.Recording
		want error
	}{
		{"minimal", store.Recording{ID: "rec1", RoomID: "r1"}, nil},
		{"full", store.Recording{ID: "rec2", RoomID: "r1", Stream: "s", Status: store.RecordingReady,
			StartedAt: t0.Add(-time.Hour), EndedAt: &ended, DurationMS: 60_000, Bytes: 1 << 20, Segments: 30,
			Recovered: true, Error: "note"}, nil},
		{"id taken", store.Recording{ID: "rec1", RoomID: "r1"}, store.ErrConflict},
		{"unknown room", store.Recording{ID: "rec3", RoomID: "ghost"}, store.ErrNotFound},
		{"no id", store.Recording{RoomID: "r1"}, errAny},
		{"no room", store.Recording{ID: "rec4"}, errAny},
		{"bad status", store.Recording{ID: "rec5", RoomID: "r1", Status: "paused"}, errAny},
		{"negative bytes", store.Recording{ID: "rec6", RoomID: "r1", Bytes: -1}, errAny},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.rec
			err := db.CreateRecording(ctx, &r)
			checkErr(t, "CreateRecording", err, tc.want)
			if err != nil {
				return
			}
			got, err := db.RecordingByID(ctx, r.ID)
			checkErr(t, "RecordingByID", err, nil)
			same(t, "by ID", got, &r)
		})
	}
	r1, _ := db.RecordingByID(ctx, "rec1")
	if r1.Status != store.RecordingActive || !r1.StartedAt.Equal(t0) {
		t.Errorf("defaults: status %q, started %v", r1.Status, r1.StartedAt)
	}
	_, err := db.RecordingByID(ctx, "nope")
	checkErr(t, "RecordingByID(nope)", err, store.ErrNotFound)
}

func testUpdateRecording(t *testing.T, open Opener) {
	db := openFresh(t, open)
	ctx := t.Context()
	mustUser(t, db, "u1", 0)
	mustRoom(t, db, "r1", "u1", 0)
	rec := store.Recording{ID: "rec1", RoomID: "r1", Stream: "s1"}
	checkErr(t, "CreateRecording", db.CreateRecording(ctx, &rec), nil)

	ended := t0.Add(90*time.Second + time.Nanosecond)
	got, err := db.UpdateRecording(ctx, "rec1", func(r *store.Recording) error {
		r.Status, r.EndedAt = store.RecordingReady, &ended
		r.DurationMS, r.Bytes, r.Segments = 90_000, 12345, 45
		r.ID, r.RoomID, r.StartedAt = "other", "other", t0.Add(time.Hour) // ignored
		return nil
	})
	checkErr(t, "UpdateRecording", err, nil)
	want := rec
	want.Status, want.EndedAt = store.RecordingReady, ptr(t0.Add(90*time.Second))
	want.DurationMS, want.Bytes, want.Segments = 90_000, 12345, 45
	same(t, "returned", got, &want)
	stored, err := db.RecordingByID(ctx, "rec1")
	checkErr(t, "RecordingByID", err, nil)
	same(t, "stored", stored, &want)

	boom := errors.New("boom")
	_, err = db.UpdateRecording(ctx, "rec1", func(r *store.Recording) error {
		r.Status = store.RecordingFailed
		return boom
	})
	if err != boom {
		t.Fatalf("fn error: got %v", err)
	}
	_, err = db.UpdateRecording(ctx, "rec1", func(r *store.Recording) error {
		r.Status = "bogus"
		return nil
	})
	checkErr(t, "invalid status", err, errAny)
	stored, _ = db.RecordingByID(ctx, "rec1")
	same(t, "unchanged", stored, &want)

	_, err = db.UpdateRecording(ctx, "nope", func(*store.Recording) error { return nil })
	checkErr(t, "update missing", err, store.ErrNotFound)
}

func testListRecordings(t *testing.T, open Opener) {
	db := openFresh(t, open)
	ctx := t.Context()
	mustUser(t, db, "u1", 0)
	mustRoom(t, db, "ra", "u1", 0)
	mustRoom(t, db, "rb", "u1", 0)
	// rec00 oldest … rec09 newest; rec04 and rec05 start at the same time.
	for i := range 10 {
		room := "ra"
		if i%3 == 0 {
			room = "rb"
		}
		at := t0.Add(time.Duration(i) * time.Minute)
		if i == 5 {
			at = t0.Add(4 * time.Minute)
		}
		r := store.Recording{ID: fmt.Sprintf("rec%02d", i), RoomID: room, StartedAt: at}
		if i%2 == 0 {
			r.Status = store.RecordingReady
		}
		checkErr(t, "CreateRecording", db.CreateRecording(ctx, &r), nil)
	}
	pages := func(roomID string, limit int) []string {
		t.Helper()
		var ids []string
		cursor := ""
		for range 20 {
			recs, next, err := db.ListRecordings(ctx, roomID, cursor, limit)
			checkErr(t, "ListRecordings", err, nil)
			if len(recs) > limit {
				t.Fatalf("page of %d, limit %d", len(recs), limit)
			}
			for _, r := range recs {
				ids = append(ids, r.ID)
			}
			if next == "" {
				return ids
			}
			cursor = next
		}
		t.Fatal("paging does not end")
		return nil
	}
	same(t, "all", pages("", 3), []string{"rec09", "rec08", "rec07", "rec06", "rec05", "rec04", "rec03", "rec02", "rec01", "rec00"})
	same(t, "room a", pages("ra", 2), []string{"rec08", "rec07", "rec05", "rec04", "rec02", "rec01"})
	same(t, "room b", pages("rb", 100), []string{"rec09", "rec06", "rec03", "rec00"})
	same(t, "unknown room", pages("zz", 0), []string(nil))

	_, _, err := db.ListRecordings(ctx, "", "garbage", 0)
	checkErr(t, "bad cursor", err, store.ErrInvalidCursor)

	active, err := db.RecordingsByStatus(ctx, store.RecordingActive)
	checkErr(t, "RecordingsByStatus", err, nil)
	var ids []string
	for _, r := range active {
		ids = append(ids, r.ID)
	}
	same(t, "active", ids, []string{"rec01", "rec03", "rec05", "rec07", "rec09"})
	_, err = db.RecordingsByStatus(ctx, "bogus")
	checkErr(t, "bad status", err, errAny)
}

func testDeleteRecording(t *testing.T, open Opener) {
	db := openFresh(t, open)
	ctx := t.Context()
	mustUser(t, db, "u1", 0)
	mustRoom(t, db, "r1", "u1", 0)
	for _, id := range []string{"rec1", "rec2"} {
		checkErr(t, "CreateRecording", db.CreateRecording(ctx, &store.Recording{ID: id, RoomID: "r1"}), nil)
	}
	checkErr(t, "DeleteRecording", db.DeleteRecording(ctx, "rec1"), nil)
	checkErr(t, "DeleteRecording again", db.DeleteRecording(ctx, "rec1"), store.ErrNotFound)
	_, err := db.RecordingByID(ctx, "rec1")
	checkErr(t, "deleted", err, store.ErrNotFound)
	// Deleting the room deletes its recordings' rows.
	checkErr(t, "DeleteRoom", db.DeleteRoom(ctx, "r1"), nil)
	_, err = db.RecordingByID(ctx, "rec2")
	checkErr(t, "room deleted", err, store.ErrNotFound)
}
