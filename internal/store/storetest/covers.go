package storetest

import (
	"bytes"
	"testing"
	"time"

	"roomcast/internal/store"
)

func testRoomCovers(t *testing.T, open Opener) {
	db := openFresh(t, open)
	ctx := t.Context()
	mustUser(t, db, "u1", 0)
	mustRoom(t, db, "r1", "u1", 0)
	_, err := db.RoomCover(ctx, "r1", true)
	checkErr(t, "RoomCover of none", err, store.ErrNotFound)

	for _, tc := range []struct {
		name string
		c    store.RoomCover
		want error
	}{
		{"unknown room", store.RoomCover{RoomID: "ghost", Source: store.CoverLive, JPEG: []byte{1}, Width: 1, Height: 1}, store.ErrNotFound},
		{"bad source", store.RoomCover{RoomID: "r1", Source: "other", JPEG: []byte{1}, Width: 1, Height: 1}, errAny},
		{"empty", store.RoomCover{RoomID: "r1", Source: store.CoverLive, Width: 1, Height: 1}, errAny},
		{"no size", store.RoomCover{RoomID: "r1", Source: store.CoverLive, JPEG: []byte{1}}, errAny},
	} {
		c := tc.c
		checkErr(t, tc.name, db.PutRoomCover(ctx, &c), tc.want)
	}

	live := store.RoomCover{RoomID: "r1", Source: store.CoverLive, JPEG: []byte("live1"), Width: 640, Height: 360}
	checkErr(t, "put live", db.PutRoomCover(ctx, &live), nil)
	got, err := db.RoomCover(ctx, "r1", true)
	checkErr(t, "RoomCover", err, nil)
	same(t, "live cover", got, &live)

	live.JPEG, live.UpdatedAt = []byte("live2"), t0.Add(time.Minute)
	checkErr(t, "replace live", db.PutRoomCover(ctx, &live), nil)
	up := store.RoomCover{RoomID: "r1", Source: store.CoverUpload, JPEG: []byte("up"), Width: 100, Height: 50}
	checkErr(t, "put upload", db.PutRoomCover(ctx, &up), nil)
	got, err = db.RoomCover(ctx, "r1", true)
	checkErr(t, "RoomCover", err, nil)
	if got.Source != store.CoverUpload || !bytes.Equal(got.JPEG, []byte("up")) {
		t.Fatalf("cover with an upload = %+v, want the upload", got)
	}
	meta, err := db.RoomCover(ctx, "r1", false)
	checkErr(t, "RoomCover without JPEG", err, nil)
	if meta.JPEG != nil || meta.Width != 100 || !meta.UpdatedAt.Equal(up.UpdatedAt) {
		t.Fatalf("metadata = %+v", meta)
	}

	checkErr(t, "delete room", db.DeleteRoom(ctx, "r1"), nil)
	_, err = db.RoomCover(ctx, "r1", false)
	checkErr(t, "cover of a deleted room", err, store.ErrNotFound)
}
