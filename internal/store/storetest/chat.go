package storetest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"roomcast/internal/store"
)

func testChatMessages(t *testing.T, open Opener) {
	db := openFresh(t, open)
	ctx := t.Context()
	mustUser(t, db, "u1", 0)
	mustRoom(t, db, "r1", "u1", 0)
	mustRoom(t, db, "r2", "u1", 0)
	for i := 1; i <= 5; i++ {
		m := &store.ChatMessage{RoomID: "r1", ID: fmt.Sprintf("m%d", i), UserID: "u1", UserName: "one", Text: "hi"}
		checkErr(t, "AppendChatMessage", db.AppendChatMessage(ctx, m), nil)
		if m.Seq != int64(i) || !m.CreatedAt.Equal(t0) {
			t.Fatalf("message %d: seq %d created %v", i, m.Seq, m.CreatedAt)
		}
	}
	other := &store.ChatMessage{RoomID: "r2", ID: "x1", UserID: "u1", Text: "other room"}
	checkErr(t, "append r2", db.AppendChatMessage(ctx, other), nil)
	if other.Seq != 1 {
		t.Errorf("r2 seq = %d, want 1", other.Seq)
	}
	checkErr(t, "duplicate id", db.AppendChatMessage(ctx, &store.ChatMessage{RoomID: "r1", ID: "m1", UserID: "u1", Text: "x"}), store.ErrConflict)
	checkErr(t, "no room", db.AppendChatMessage(ctx, &store.ChatMessage{RoomID: "nope", ID: "n1", UserID: "u1", Text: "x"}), store.ErrNotFound)

	del, err := db.DeleteChatMessage(ctx, "r1", "m3")
	checkErr(t, "DeleteChatMessage", err, nil)
	if del.Seq != 3 || del.DeletedAt == nil {
		t.Errorf("deleted = %+v", del)
	}
	_, err = db.DeleteChatMessage(ctx, "r1", "m3")
	checkErr(t, "delete again", err, store.ErrNotFound)
	_, err = db.DeleteChatMessage(ctx, "r2", "m1")
	checkErr(t, "delete in other room", err, store.ErrNotFound)

	seqs := func(ms []store.ChatMessage) []int64 {
		var s []int64
		for _, m := range ms {
			s = append(s, m.Seq)
		}
		return s
	}
	for _, tc := range []struct {
		name  string
		after bool
		at    int64
		limit int
		want  []int64
	}{
		{"newest", false, 0, 0, []int64{1, 2, 4, 5}},
		{"newest two", false, 0, 2, []int64{4, 5}},
		{"before 4", false, 4, 10, []int64{1, 2}},
		{"after 1", true, 1, 10, []int64{2, 4, 5}},
		{"after 2 limit 1", true, 2, 1, []int64{4}},
		{"after last", true, 5, 10, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var ms []store.ChatMessage
			var err error
			if tc.after {
				ms, err = db.ChatMessagesAfter(ctx, "r1", tc.at, tc.limit)
			} else {
				ms, err = db.ChatMessagesBefore(ctx, "r1", tc.at, tc.limit)
			}
			checkErr(t, "list", err, nil)
			same(t, "seqs", seqs(ms), tc.want)
		})
	}
	last, err := db.LastChatSeq(ctx, "r1")
	checkErr(t, "LastChatSeq", err, nil)
	if last != 5 {
		t.Errorf("LastChatSeq = %d, want 5", last)
	}
}

func testChatSanctions(t *testing.T, open Opener) {
	db := openFresh(t, open)
	ctx := t.Context()
	mustUser(t, db, "u1", 0)
	mustRoom(t, db, "r1", "u1", 0)
	until := t0.Add(time.Minute)
	checkErr(t, "put mute", db.PutChatSanction(ctx, &store.ChatSanction{RoomID: "r1", UserID: "u2", Kind: store.SanctionMute, Until: &until}), nil)
	checkErr(t, "put ban", db.PutChatSanction(ctx, &store.ChatSanction{RoomID: "r1", UserID: "u2", Kind: store.SanctionBan}), nil)
	later := until.Add(time.Hour)
	checkErr(t, "replace mute", db.PutChatSanction(ctx, &store.ChatSanction{RoomID: "r1", UserID: "u2", Kind: store.SanctionMute, Until: &later}), nil)
	checkErr(t, "bad kind", db.PutChatSanction(ctx, &store.ChatSanction{RoomID: "r1", UserID: "u2", Kind: "jail"}), errAny)
	checkErr(t, "no room", db.PutChatSanction(ctx, &store.ChatSanction{RoomID: "nope", UserID: "u2", Kind: store.SanctionBan}), store.ErrNotFound)
	ss, err := db.ChatSanctions(ctx, "r1", "u2")
	checkErr(t, "ChatSanctions", err, nil)
	same(t, "sanctions", ss, []store.ChatSanction{
		{RoomID: "r1", UserID: "u2", Kind: store.SanctionBan, CreatedAt: t0},
		{RoomID: "r1", UserID: "u2", Kind: store.SanctionMute, Until: &later, CreatedAt: t0},
	})
	if !ss[0].Active(t0.Add(1000*time.Hour)) || !ss[1].Active(t0) || ss[1].Active(later) {
		t.Errorf("Active is wrong")
	}
	checkErr(t, "lift ban", db.DeleteChatSanction(ctx, "r1", "u2", store.SanctionBan), nil)
	checkErr(t, "lift again", db.DeleteChatSanction(ctx, "r1", "u2", store.SanctionBan), nil)
	ss, _ = db.ChatSanctions(ctx, "r1", "u2")
	if len(ss) != 1 || ss[0].Kind != store.SanctionMute {
		t.Errorf("after lift: %+v", ss)
	}
}

func testChatPin(t *testing.T, open Opener) {
	db := openFresh(t, open)
	ctx := t.Context()
	mustUser(t, db, "u1", 0)
	mustRoom(t, db, "r1", "u1", 0)
	mustRoom(t, db, "r2", "u1", 0)
	if text, err := db.ChatPin(ctx, "r1"); err != nil || text != "" {
		t.Fatalf("no pin: %q, %v", text, err)
	}
	checkErr(t, "pin", db.SetChatPin(ctx, "r1", "first"), nil)
	checkErr(t, "replace", db.SetChatPin(ctx, "r1", "giveaway at 8"), nil)
	checkErr(t, "pin r2", db.SetChatPin(ctx, "r2", "other"), nil)
	checkErr(t, "no room", db.SetChatPin(ctx, "nope", "x"), store.ErrNotFound)
	if text, err := db.ChatPin(ctx, "r1"); err != nil || text != "giveaway at 8" {
		t.Fatalf("pin: %q, %v", text, err)
	}
	checkErr(t, "unpin", db.SetChatPin(ctx, "r1", ""), nil)
	checkErr(t, "unpin again", db.SetChatPin(ctx, "r1", ""), nil)
	if text, _ := db.ChatPin(ctx, "r1"); text != "" {
		t.Errorf("after unpin: %q", text)
	}
	checkErr(t, "delete room", db.DeleteRoom(ctx, "r2"), nil)
	if text, _ := db.ChatPin(ctx, "r2"); text != "" {
		t.Errorf("pin of a deleted room: %q", text)
	}
}

// Concurrent appends to one room, as from several nodes, take distinct,
// gapless seqs.
func testChatSeqConcurrent(t *testing.T, open Opener) {
	db := openFresh(t, open)
	ctx := t.Context()
	mustUser(t, db, "u1", 0)
	mustRoom(t, db, "r1", "u1", 0)
	const workers, each = 4, 10
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				m := &store.ChatMessage{RoomID: "r1", ID: fmt.Sprintf("w%d-%d", w, i), UserID: "u1", Text: "x"}
				if err := db.AppendChatMessage(ctx, m); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	ms, err := db.ChatMessagesAfter(ctx, "r1", 0, 100)
	checkErr(t, "ChatMessagesAfter", err, nil)
	if len(ms) != workers*each {
		t.Fatalf("%d messages, want %d", len(ms), workers*each)
	}
	for i, m := range ms {
		if m.Seq != int64(i+1) {
			t.Fatalf("message %d has seq %d: seqs must be 1..n", i, m.Seq)
		}
	}
}
