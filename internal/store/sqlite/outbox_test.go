package sqlite

import (
	"database/sql"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"roomcast/internal/store"
)

func TestEnqueueEvent(t *testing.T) {
	db := openTest(t)
	ctx := t.Context()
	for _, tc := range []struct {
		name    string
		ev      store.Event
		urls    []string
		want    error
		wantDue int
	}{
		{"two urls", store.Event{ID: "e1", Type: "room.live", Payload: []byte(`{"room":"r1"}`)}, []string{"http://a", "http://b"}, nil, 2},
		{"duplicate urls collapse", store.Event{ID: "e2", Type: "room.ended", Payload: []byte(`{}`)}, []string{"http://a", "http://a"}, nil, 3},
		{"no urls", store.Event{ID: "e3", Type: "room.ended", Payload: []byte(`[]`)}, nil, nil, 3},
		{"id taken", store.Event{ID: "e1", Type: "x", Payload: []byte(`{}`)}, []string{"http://c"}, store.ErrConflict, 3},
		{"payload not JSON", store.Event{ID: "e4", Type: "x", Payload: []byte(`{`)}, []string{"http://a"}, errAny, 3},
		{"empty payload", store.Event{ID: "e5", Type: "x"}, []string{"http://a"}, errAny, 3},
		{"no type", store.Event{ID: "e6", Payload: []byte(`{}`)}, []string{"http://a"}, errAny, 3},
		{"no id", store.Event{Type: "x", Payload: []byte(`{}`)}, []string{"http://a"}, errAny, 3},
		{"empty url rolls back", store.Event{ID: "e7", Type: "x", Payload: []byte(`{}`)}, []string{"http://a", ""}, errAny, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			checkErr(t, "EnqueueEvent", db.EnqueueEvent(ctx, tc.ev, tc.urls), tc.want)
			due, err := db.DueDeliveries(ctx, t0, 100)
			checkErr(t, "DueDeliveries", err, nil)
			if len(due) != tc.wantDue {
				t.Fatalf("%d due deliveries, want %d", len(due), tc.wantDue)
			}
		})
	}
	var events int
	if err := db.r.QueryRowContext(ctx, `SELECT count(*) FROM events`).Scan(&events); err != nil {
		t.Fatal(err)
	}
	if events != 3 {
		t.Errorf("%d events stored, want 3: a failed enqueue left its event behind", events)
	}
}

func TestOutboxLifecycle(t *testing.T) {
	db := openTest(t)
	ctx := t.Context()
	minute := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }
	enqueue := func(id string, at time.Time, urls ...string) {
		t.Helper()
		ev := store.Event{ID: id, Type: "room.live", Payload: []byte(`{"id":"` + id + `"}`), CreatedAt: at}
		checkErr(t, "EnqueueEvent", db.EnqueueEvent(ctx, ev, urls), nil)
	}
	due := func(now time.Time, limit int) []string {
		t.Helper()
		ps, err := db.DueDeliveries(ctx, now, limit)
		checkErr(t, "DueDeliveries", err, nil)
		var out []string
		for _, p := range ps {
			out = append(out, p.EventID+" "+p.URL)
		}
		return out
	}

	enqueue("e1", minute(0), "A", "B")
	enqueue("e2", minute(1), "A")

	// Due in order of next attempt; the event comes along.
	same(t, "due at 0", due(minute(0), 10), []string{"e1 A", "e1 B"})
	same(t, "due at 1", due(minute(1), 10), []string{"e1 A", "e1 B", "e2 A"})
	same(t, "limit", due(minute(1), 2), []string{"e1 A", "e1 B"})
	ps, err := db.DueDeliveries(ctx, minute(0), 1)
	checkErr(t, "DueDeliveries", err, nil)
	same(t, "pending delivery", ps, []store.PendingDelivery{{
		Delivery: store.Delivery{EventID: "e1", URL: "A", NextAttemptAt: minute(0)},
		Event:    store.Event{ID: "e1", Type: "room.live", Payload: []byte(`{"id":"e1"}`), CreatedAt: minute(0)},
	}})

	// A fails and is retried later; B is delivered.
	long := strings.Repeat("é", maxLastError) // 2 bytes a rune
	checkErr(t, "MarkFailed", db.MarkFailed(ctx, "e1", "A", 1, minute(5), long), nil)
	checkErr(t, "MarkDelivered", db.MarkDelivered(ctx, "e1", "B", minute(1)), nil)
	same(t, "due at 1 after", due(minute(1), 10), []string{"e2 A"})
	same(t, "due at 5", due(minute(5), 10), []string{"e2 A", "e1 A"})
	ps, err = db.DueDeliveries(ctx, minute(5), 10)
	checkErr(t, "DueDeliveries", err, nil)
	if p := ps[1]; p.Attempts != 1 || !p.NextAttemptAt.Equal(minute(5)) || len(p.LastError) > maxLastError || !utf8.ValidString(p.LastError) || p.LastError == "" {
		t.Errorf("failed delivery: attempts %d, next %v, last error %d bytes (valid UTF-8: %v)",
			p.Attempts, p.NextAttemptAt, len(p.LastError), utf8.ValidString(p.LastError))
	}

	// Marking again, or failing after delivery, changes nothing; unknown ones are not found.
	checkErr(t, "MarkDelivered again", db.MarkDelivered(ctx, "e1", "B", minute(9)), nil)
	checkErr(t, "MarkFailed after delivery", db.MarkFailed(ctx, "e1", "B", 5, minute(9), "late"), nil)
	checkErr(t, "MarkDelivered unknown", db.MarkDelivered(ctx, "e1", "C", minute(1)), store.ErrNotFound)
	checkErr(t, "MarkFailed unknown", db.MarkFailed(ctx, "e9", "A", 1, minute(1), "x"), store.ErrNotFound)
	var (
		attempts  int
		delivered int64
		lastErr   string
	)
	if err := db.r.QueryRowContext(ctx, `SELECT attempts, delivered_at, last_error FROM deliveries WHERE event_id = 'e1' AND url = 'B'`).
		Scan(&attempts, &delivered, &lastErr); err != nil {
		t.Fatal(err)
	}
	if attempts != 1 || delivered != micros(minute(1)) || lastErr != "" {
		t.Errorf("delivered B: attempts %d, delivered_at %v, last error %q", attempts, fromMicros(delivered), lastErr)
	}

	// Pruning removes old deliveries only once delivered, and events once
	// none of their deliveries is left.
	count := func(table string) int {
		t.Helper()
		var n int
		if err := db.r.QueryRowContext(ctx, `SELECT count(*) FROM `+table).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	n, err := db.PruneDelivered(ctx, minute(1)) // B was delivered at 1: not before 1
	checkErr(t, "PruneDelivered", err, nil)
	if n != 0 || count("deliveries") != 3 {
		t.Fatalf("PruneDelivered(1) deleted %d", n)
	}
	n, err = db.PruneDelivered(ctx, minute(60))
	checkErr(t, "PruneDelivered", err, nil)
	if n != 1 || count("deliveries") != 2 || count("events") != 2 {
		t.Fatalf("PruneDelivered(60) deleted %d; %d deliveries, %d events left", n, count("deliveries"), count("events"))
	}
	checkErr(t, "MarkDelivered", db.MarkDelivered(ctx, "e1", "A", minute(6)), nil)
	checkErr(t, "MarkDelivered", db.MarkDelivered(ctx, "e2", "A", minute(7)), nil)
	same(t, "nothing due", due(minute(60), 10), nil)
	n, err = db.PruneDelivered(ctx, minute(60))
	checkErr(t, "PruneDelivered", err, nil)
	if n != 2 || count("deliveries") != 0 || count("events") != 0 {
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

func TestMarkAbandoned(t *testing.T) {
	db := openTest(t)
	ctx := t.Context()
	minute := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }
	ev := store.Event{ID: "e1", Type: "room.live", Payload: []byte(`{}`), CreatedAt: minute(0)}
	checkErr(t, "EnqueueEvent", db.EnqueueEvent(ctx, ev, []string{"A", "B"}), nil)
	delivery := func(url string) (attempts int, abandoned sql.NullInt64, lastErr string) {
		t.Helper()
		if err := db.r.QueryRowContext(ctx, `SELECT attempts, abandoned_at, last_error FROM deliveries WHERE event_id = 'e1' AND url = ?`, url).
			Scan(&attempts, &abandoned, &lastErr); err != nil {
			t.Fatal(err)
		}
		return
	}

	// An abandoned delivery is never due again, and keeps its attempts and error.
	checkErr(t, "MarkFailed", db.MarkFailed(ctx, "e1", "A", 1, minute(1), "HTTP 500"), nil)
	checkErr(t, "MarkAbandoned", db.MarkAbandoned(ctx, "e1", "A", 2, minute(2), "HTTP 503"), nil)
	ps, err := db.DueDeliveries(ctx, minute(1000), 10)
	checkErr(t, "DueDeliveries", err, nil)
	if len(ps) != 1 || ps[0].URL != "B" {
		t.Fatalf("due after abandoning A: %+v, want only B", ps)
	}
	if n, at, msg := delivery("A"); n != 2 || !at.Valid || at.Int64 != micros(minute(2)) || msg != "HTTP 503" {
		t.Errorf("abandoned A: attempts %d, abandoned_at %v, last error %q", n, at, msg)
	}

	// Abandoning again, or after delivery, changes nothing; unknown ones are not found.
	checkErr(t, "MarkAbandoned again", db.MarkAbandoned(ctx, "e1", "A", 9, minute(9), "late"), nil)
	if n, at, msg := delivery("A"); n != 2 || at.Int64 != micros(minute(2)) || msg != "HTTP 503" {
		t.Errorf("A abandoned twice: attempts %d, abandoned_at %v, last error %q", n, at, msg)
	}
	checkErr(t, "MarkDelivered", db.MarkDelivered(ctx, "e1", "B", minute(3)), nil)
	checkErr(t, "MarkAbandoned after delivery", db.MarkAbandoned(ctx, "e1", "B", 5, minute(4), "late"), nil)
	if n, at, msg := delivery("B"); n != 1 || at.Valid || msg != "" {
		t.Errorf("delivered B after MarkAbandoned: attempts %d, abandoned_at %v, last error %q", n, at, msg)
	}
	checkErr(t, "MarkAbandoned unknown", db.MarkAbandoned(ctx, "e9", "A", 1, minute(1), "x"), store.ErrNotFound)

	// Pruning removes abandoned deliveries by the time they were abandoned,
	// then the event once none is left.
	n, err := db.PruneDelivered(ctx, minute(2)) // A abandoned at 2, B delivered at 3
	checkErr(t, "PruneDelivered", err, nil)
	if n != 0 {
		t.Fatalf("PruneDelivered(2) deleted %d, want 0", n)
	}
	n, err = db.PruneDelivered(ctx, minute(3))
	checkErr(t, "PruneDelivered", err, nil)
	if n != 1 {
		t.Fatalf("PruneDelivered(3) deleted %d, want 1 (abandoned A)", n)
	}
	n, err = db.PruneDelivered(ctx, minute(60))
	checkErr(t, "PruneDelivered", err, nil)
	var events int
	if err := db.r.QueryRowContext(ctx, `SELECT count(*) FROM events`).Scan(&events); err != nil {
		t.Fatal(err)
	}
	if n != 1 || events != 0 {
		t.Fatalf("PruneDelivered(60) deleted %d deliveries, left %d events; want 1 and 0", n, events)
	}
}
