package sqlite

import (
	"database/sql"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"roomcast/internal/store"
)

// The outbox's behaviour is checked on every back-end by storetest; these
// tests check what only SQLite stores: its columns in microseconds, the
// bounded last error, and that a failed enqueue leaves no row.
func TestOutboxRows(t *testing.T) {
	db := openTest(t)
	ctx := t.Context()
	minute := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }
	count := func(table string) int {
		t.Helper()
		var n int
		if err := db.r.QueryRowContext(ctx, `SELECT count(*) FROM `+table).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	type row struct {
		attempts  int
		next      int64
		delivered sql.NullInt64
		abandoned sql.NullInt64
		lastErr   string
	}
	delivery := func(url string) row {
		t.Helper()
		var r row
		if err := db.r.QueryRowContext(ctx, `SELECT attempts, next_attempt_at, delivered_at, abandoned_at, last_error FROM deliveries WHERE event_id = 'e1' AND url = ?`, url).
			Scan(&r.attempts, &r.next, &r.delivered, &r.abandoned, &r.lastErr); err != nil {
			t.Fatal(err)
		}
		return r
	}

	ev := store.Event{ID: "e1", Type: "room.live", Payload: []byte(`{}`), CreatedAt: minute(0)}
	checkErr(t, "EnqueueEvent", db.EnqueueEvent(ctx, ev, []string{"A", "B", "C"}), nil)
	checkErr(t, "EnqueueEvent with an empty url", db.EnqueueEvent(ctx, store.Event{ID: "e2", Type: "x", Payload: []byte(`{}`)}, []string{"D", ""}), errAny)
	if n, d := count("events"), count("deliveries"); n != 1 || d != 3 {
		t.Fatalf("%d events and %d deliveries stored, want 1 and 3: a failed enqueue left rows behind", n, d)
	}
	if r := delivery("A"); r.attempts != 0 || r.next != micros(minute(0)) || r.delivered.Valid || r.abandoned.Valid || r.lastErr != "" {
		t.Errorf("new delivery row: %+v", r)
	}

	// The last error is cut at maxLastError bytes on a rune boundary.
	long := strings.Repeat("é", maxLastError) // 2 bytes a rune
	checkErr(t, "MarkFailed", db.MarkFailed(ctx, "e1", "A", 1, minute(5), long), nil)
	if r := delivery("A"); r.attempts != 1 || r.next != micros(minute(5)) || len(r.lastErr) > maxLastError || len(r.lastErr) < maxLastError-1 || !utf8.ValidString(r.lastErr) {
		t.Errorf("failed delivery row: attempts %d, next %v, last error %d bytes (valid UTF-8: %v)", r.attempts, fromMicros(r.next), len(r.lastErr), utf8.ValidString(r.lastErr))
	}
	checkErr(t, "MarkDelivered", db.MarkDelivered(ctx, "e1", "B", minute(1)), nil)
	if r := delivery("B"); r.attempts != 1 || r.delivered.Int64 != micros(minute(1)) || r.abandoned.Valid || r.lastErr != "" {
		t.Errorf("delivered row: %+v", r)
	}
	checkErr(t, "MarkAbandoned", db.MarkAbandoned(ctx, "e1", "C", 2, minute(2), "HTTP 503"), nil)
	if r := delivery("C"); r.attempts != 2 || r.abandoned.Int64 != micros(minute(2)) || r.delivered.Valid || r.lastErr != "HTTP 503" {
		t.Errorf("abandoned row: %+v", r)
	}

	// Pruning deletes the rows, and the event with its last delivery.
	checkErr(t, "MarkDelivered", db.MarkDelivered(ctx, "e1", "A", minute(6)), nil)
	n, err := db.PruneDelivered(ctx, minute(60))
	checkErr(t, "PruneDelivered", err, nil)
	if n != 3 || count("deliveries") != 0 || count("events") != 0 {
		t.Fatalf("PruneDelivered(60) deleted %d; %d deliveries, %d events left", n, count("deliveries"), count("events"))
	}
}

func TestTruncateUTF8(t *testing.T) {
	for _, tc := range []struct {
		s    string
		n    int
		want string
	}{
		{"abc", 5, "abc"},
		{"abc", 3, "abc"},
		{"abc", 2, "ab"},
		{"aé", 2, "a"},
		{"éé", 3, "é"},
		{"é", 0, ""},
	} {
		if got := truncateUTF8(tc.s, tc.n); got != tc.want {
			t.Errorf("truncateUTF8(%q, %d) = %q, want %q", tc.s, tc.n, got, tc.want)
		}
	}
}
