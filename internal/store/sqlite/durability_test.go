package sqlite

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"roomcast/internal/store"
)

// writeSample stores one of everything and returns the room as stored.
func writeSample(t *testing.T, db *DB) *store.Room {
	t.Helper()
	ctx := t.Context()
	mustUser(t, db, "u1", 0)
	checkErr(t, "CreateSession", db.CreateSession(ctx, &store.Session{TokenHash: "h1", UserID: "u1", ExpiresAt: t0.Add(time.Hour)}), nil)
	mustRoom(t, db, "r1", "u1", 0)
	_, err := db.AddLikes(ctx, "r1", 42)
	checkErr(t, "AddLikes", err, nil)
	r, err := db.SetRoomStatus(ctx, "r1", store.StatusLive, t0.Add(time.Minute))
	checkErr(t, "SetRoomStatus", err, nil)
	checkErr(t, "EnqueueEvent", db.EnqueueEvent(ctx, store.Event{ID: "e1", Type: "room.live", Payload: []byte(`{}`), CreatedAt: t0}, []string{"http://hook"}), nil)
	return r
}

// checkSample fails the test unless db holds what writeSample wrote.
func checkSample(t *testing.T, db *DB, room *store.Room) {
	t.Helper()
	ctx := t.Context()
	_, err := db.UserByID(ctx, "u1")
	checkErr(t, "UserByID", err, nil)
	_, err = db.SessionByTokenHash(ctx, "h1", t0)
	checkErr(t, "SessionByTokenHash", err, nil)
	got, err := db.RoomByID(ctx, "r1")
	checkErr(t, "RoomByID", err, nil)
	same(t, "room", got, room)
	due, err := db.DueDeliveries(ctx, t0, 10)
	checkErr(t, "DueDeliveries", err, nil)
	if len(due) != 1 {
		t.Fatalf("%d due deliveries, want 1", len(due))
	}
	var ok string
	if err := db.r.QueryRowContext(ctx, `PRAGMA integrity_check`).Scan(&ok); err != nil || ok != "ok" {
		t.Fatalf("integrity_check = %q, %v", ok, err)
	}
}

func TestDurableAcrossCloseAndReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), FileName)
	db, err := Open(t.Context(), path, nil)
	if err != nil {
		t.Fatal(err)
	}
	room := writeSample(t, db)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path + "-wal"); err == nil {
		t.Error("the WAL is still there after Close: it was not checkpointed")
	}
	checkSample(t, openPath(t, path), room)
}

// TestDurableWithoutClose reads the data of a handle that was never closed:
// from a second handle on the same file, and from a copy of the files as a
// crash would leave them (main file and WAL, no shared-memory index), which
// SQLite must recover from the WAL.
func TestDurableWithoutClose(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, FileName)
	first := openPath(t, path) // closed only at the end of the test
	room := writeSample(t, first)
	if _, err := os.Stat(path + "-wal"); err != nil {
		t.Fatalf("no WAL while the first handle is open: %v", err)
	}

	t.Run("second handle", func(t *testing.T) {
		checkSample(t, openPath(t, path), room)
	})
	t.Run("crash image", func(t *testing.T) {
		crash := filepath.Join(t.TempDir(), FileName)
		for _, suffix := range []string{"", "-wal"} {
			copyFile(t, path+suffix, crash+suffix)
		}
		checkSample(t, openPath(t, crash), room)
	})
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	in, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.Create(to)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}

// crashEnv names the database TestCrashHelper writes to; set only in the
// child process TestKilledProcessLosesNothing starts.
const crashEnv = "ROOMCAST_STORE_CRASH_DB"

// TestCrashHelper is the child process of TestKilledProcessLosesNothing: it
// writes in a loop and prints "acked ID" after each write returns, as a
// server would answer its client, until it is killed.
func TestCrashHelper(t *testing.T) {
	path := os.Getenv(crashEnv)
	if path == "" {
		t.Skip("child process of TestKilledProcessLosesNothing")
	}
	ctx := context.Background()
	db, err := Open(ctx, path, nil)
	if err != nil {
		fmt.Println("error", err)
		os.Exit(2)
	}
	for i := 0; i < 10000; i++ {
		id := fmt.Sprintf("u%05d", i)
		err := db.CreateUser(ctx, &store.User{ID: id, Name: id})
		if err == nil {
			err = db.EnqueueEvent(ctx, store.Event{ID: "e" + id, Type: "user.created", Payload: []byte(`{}`)}, []string{"http://hook"})
		}
		if err != nil {
			fmt.Println("error", err)
			os.Exit(2)
		}
		fmt.Println("acked", id) // os.Stdout is unbuffered
	}
	time.Sleep(time.Minute) // wait to be killed
	os.Exit(3)
}

// TestKilledProcessLosesNothing kills (SIGKILL) a process in the middle of
// writing and checks that every write it acknowledged is in the database.
// (Power loss is beyond a test; synchronous=FULL is what covers it.)
func TestKilledProcessLosesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a child process")
	}
	path := filepath.Join(t.TempDir(), FileName)
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestCrashHelper$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashEnv+"="+path)
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	const killAfter = 100
	var acked []string
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		line := sc.Text()
		if id, ok := strings.CutPrefix(line, "acked "); ok {
			acked = append(acked, id)
			if len(acked) == killAfter {
				if err := cmd.Process.Kill(); err != nil {
					t.Fatal(err)
				}
				break
			}
		} else if strings.HasPrefix(line, "error") {
			t.Fatalf("child: %s", line)
		}
	}
	_ = cmd.Wait() // killed: the error says so
	if len(acked) < killAfter {
		t.Fatalf("child acknowledged only %d writes before it stopped", len(acked))
	}

	db := openPath(t, path)
	for _, id := range acked {
		if _, err := db.UserByID(t.Context(), id); err != nil {
			t.Fatalf("acknowledged user %s: %v", id, err)
		}
	}
	due, err := db.DueDeliveries(t.Context(), time.Now().Add(time.Hour), store.MaxPageSize)
	checkErr(t, "DueDeliveries", err, nil)
	if len(due) < len(acked) {
		t.Fatalf("%d deliveries survived, want at least the %d acknowledged", len(due), len(acked))
	}
	var ok string
	if err := db.r.QueryRowContext(t.Context(), `PRAGMA integrity_check`).Scan(&ok); err != nil || ok != "ok" {
		t.Fatalf("integrity_check = %q, %v", ok, err)
	}
	t.Logf("%d acknowledged writes survived the kill", len(acked))
}
