package storetest

import (
	"fmt"
	"testing"
	"time"

	"roomcast/internal/store"
)

// pruneBatch is the back-ends' batch of PruneChatHistory: the suite prunes
// more than one batch.
const pruneBatch = 1000

// testPruneChatHistory keeps the newest messages per room by count and by
// age, never reuses a seq, and leaves other rooms alone.
func testPruneChatHistory(t *testing.T, open Opener) {
	tests := []struct {
		name     string
		n        int // messages in r1, one a minute from t0
		keep     int
		before   time.Time
		wantSeqs []int64 // r1's visible messages after the prune
		deleted  int64
	}{
		{"count", 10, 3, time.Time{}, []int64{8, 9, 10}, 7},
		{"count above a batch", pruneBatch + 5, 2, time.Time{}, []int64{pruneBatch + 4, pruneBatch + 5}, pruneBatch + 3},
		{"age", 10, 0, t0.Add(6 * time.Minute), []int64{7, 8, 9, 10}, 6},
		{"both: age wins", 10, 8, t0.Add(7 * time.Minute), []int64{8, 9, 10}, 7},
		{"both: count wins", 10, 2, t0.Add(time.Minute), []int64{9, 10}, 8},
		{"all too old: the newest stays, blanked", 4, 0, t0.Add(time.Hour), nil, 3},
		{"no limits", 5, 0, time.Time{}, []int64{1, 2, 3, 4, 5}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := openFresh(t, open)
			ctx := t.Context()
			mustUser(t, db, "u1", 0)
			mustRoom(t, db, "r1", "u1", 0)
			mustRoom(t, db, "r2", "u1", 0)
			for i := range tt.n {
				m := &store.ChatMessage{RoomID: "r1", ID: fmt.Sprintf("m%d", i+1), UserID: "u1", Text: "hi", CreatedAt: t0.Add(time.Duration(i) * time.Minute)}
				checkErr(t, "append", db.AppendChatMessage(ctx, m), nil)
			}
			// r2's one recent message is under every limit but age.
			checkErr(t, "append r2", db.AppendChatMessage(ctx, &store.ChatMessage{RoomID: "r2", ID: "x", UserID: "u1", Text: "other", CreatedAt: t0.Add(2 * time.Hour)}), nil)

			n, err := db.PruneChatHistory(ctx, tt.keep, tt.before)
			checkErr(t, "PruneChatHistory", err, nil)
			if n != tt.deleted {
				t.Errorf("deleted %d, want %d", n, tt.deleted)
			}
			ms, err := db.ChatMessagesAfter(ctx, "r1", 0, store.MaxPageSize)
			checkErr(t, "ChatMessagesAfter", err, nil)
			var seqs []int64
			for _, m := range ms {
				seqs = append(seqs, m.Seq)
			}
			if fmt.Sprint(seqs) != fmt.Sprint(tt.wantSeqs) {
				t.Errorf("r1 keeps %v, want %v", seqs, tt.wantSeqs)
			}
			// The next message continues the numbering.
			next := &store.ChatMessage{RoomID: "r1", ID: "next", UserID: "u1", Text: "after"}
			checkErr(t, "append after prune", db.AppendChatMessage(ctx, next), nil)
			if next.Seq != int64(tt.n+1) {
				t.Errorf("next seq %d, want %d", next.Seq, tt.n+1)
			}
			other, err := db.ChatMessagesAfter(ctx, "r2", 0, 10)
			checkErr(t, "r2", err, nil)
			if len(other) != 1 {
				t.Errorf("r2 has %d messages, want 1", len(other))
			}
		})
	}
}

// testRecordingBytesOfOwner sums the recordings of the owner's rooms only.
func testRecordingBytesOfOwner(t *testing.T, open Opener) {
	db := openFresh(t, open)
	ctx := t.Context()
	mustUser(t, db, "u1", 0)
	mustUser(t, db, "u2", 0)
	mustRoom(t, db, "r1", "u1", 0)
	mustRoom(t, db, "r2", "u1", 0)
	mustRoom(t, db, "r3", "u2", 0)
	n, err := db.RecordingBytesOfOwner(ctx, "u1")
	checkErr(t, "no recordings", err, nil)
	if n != 0 {
		t.Fatalf("no recordings: %d bytes", n)
	}
	for i, r := range []struct {
		room  string
		bytes int64
	}{{"r1", 100}, {"r2", 20}, {"r3", 5000}, {"r1", 3}} {
		rec := &store.Recording{ID: fmt.Sprintf("rec%d", i), RoomID: r.room, Stream: "s"}
		checkErr(t, "CreateRecording", db.CreateRecording(ctx, rec), nil)
		_, err := db.UpdateRecording(ctx, rec.ID, func(x *store.Recording) error { x.Bytes = r.bytes; return nil })
		checkErr(t, "UpdateRecording", err, nil)
	}
	for owner, want := range map[string]int64{"u1": 123, "u2": 5000, "nobody": 0} {
		n, err := db.RecordingBytesOfOwner(ctx, owner)
		checkErr(t, "RecordingBytesOfOwner", err, nil)
		if n != want {
			t.Errorf("%s: %d bytes, want %d", owner, n, want)
		}
	}
}
