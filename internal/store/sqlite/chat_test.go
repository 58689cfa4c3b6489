package sqlite

import (
	"path/filepath"
	"testing"

	"roomcast/internal/store"
)

func TestChatSeqDurable(t *testing.T) {
	path := filepath.Join(t.TempDir(), FileName)
	db := openPath(t, path)
	ctx := t.Context()
	mustUser(t, db, "u1", 0)
	mustRoom(t, db, "r1", "u1", 0)
	checkErr(t, "append", db.AppendChatMessage(ctx, &store.ChatMessage{RoomID: "r1", ID: "a", UserID: "u1", Text: "x"}), nil)
	checkErr(t, "append", db.AppendChatMessage(ctx, &store.ChatMessage{RoomID: "r1", ID: "b", UserID: "u1", Text: "x"}), nil)
	_, err := db.DeleteChatMessage(ctx, "r1", "b")
	checkErr(t, "delete", err, nil)
	checkErr(t, "close", db.Close(), nil)
	db2 := openPath(t, path)
	m := &store.ChatMessage{RoomID: "r1", ID: "c", UserID: "u1", Text: "x"}
	checkErr(t, "append after reopen", db2.AppendChatMessage(ctx, m), nil)
	if m.Seq != 3 {
		t.Errorf("seq after reopen = %d, want 3 (deleted seqs are not reused)", m.Seq)
	}
}

// The pin survives closing and reopening the file.
func TestChatPinDurable(t *testing.T) {
	path := filepath.Join(t.TempDir(), FileName)
	db := openPath(t, path)
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
	checkErr(t, "close", db.Close(), nil)

	db = openPath(t, path) // the pin survives a restart
	if text, err := db.ChatPin(ctx, "r1"); err != nil || text != "giveaway at 8" {
		t.Fatalf("after reopen: %q, %v", text, err)
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
