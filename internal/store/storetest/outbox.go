package storetest

import (
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"roomcast/internal/store"
)

// maxLastError is the bound on a delivery's stored LastError.
const maxLastError = 1024

// eventExists reports whether the event id is stored: enqueueing it again
// conflicts. An enqueue that does not conflict is left in place.
func eventExists(t *testing.T, db Store, id string) bool {
	t.Helper()
	err := db.EnqueueEvent(t.Context(), store.Event{ID: id, Type: "probe", Payload: []byte(`{}`), CreatedAt: t0}, nil)
	if err != nil && !errors.Is(err, store.ErrConflict) {
		t.Fatalf("probe event %s: %v", id, err)
	}
	return err != nil
}

func testEnqueueEvent(t *testing.T, open Opener) {
	db := openFresh(t, open)
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
	// A failed enqueue left no event behind.
	for _, id := range []string{"e4", "e5", "e6", "e7"} {
		if eventExists(t, db, id) {
			t.Errorf("the failed enqueue of %s left its event behind", id)
		}
	}
	// The payload comes back byte for byte (it is signed).
	raw := []byte(`{"b": 1,  "a":"é\u00e9"}`)
	checkErr(t, "EnqueueEvent", db.EnqueueEvent(ctx, store.Event{ID: "e8", Type: "x", Payload: raw, CreatedAt: t0.Add(-time.Hour)}, []string{"http://z"}), nil)
	due, err := db.DueDeliveries(ctx, t0, 1)
	checkErr(t, "DueDeliveries", err, nil)
	if len(due) != 1 || string(due[0].Payload) != string(raw) {
		t.Fatalf("payload came back as %q, want %q", due[0].Payload, raw)
	}
}

func testOutboxLifecycle(t *testing.T, open Opener) {
	db := openFresh(t, open)
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
	same(t, "B stays delivered", due(minute(100), 10), []string{"e2 A", "e1 A"})

	// Pruning removes old deliveries only once delivered (B at 1, not at
	// 9), and events once none of their deliveries is left.
	n, err := db.PruneDelivered(ctx, minute(1))
	checkErr(t, "PruneDelivered", err, nil)
	if n != 0 {
		t.Fatalf("PruneDelivered(1) deleted %d, want 0", n)
	}
	n, err = db.PruneDelivered(ctx, minute(2))
	checkErr(t, "PruneDelivered", err, nil)
	if n != 1 || !eventExists(t, db, "e1") {
		t.Fatalf("PruneDelivered(2) deleted %d, want 1 (B), and kept e1", n)
	}
	checkErr(t, "MarkDelivered", db.MarkDelivered(ctx, "e1", "A", minute(6)), nil)
	checkErr(t, "MarkDelivered", db.MarkDelivered(ctx, "e2", "A", minute(7)), nil)
	same(t, "nothing due", due(minute(60), 10), nil)
	n, err = db.PruneDelivered(ctx, minute(60))
	checkErr(t, "PruneDelivered", err, nil)
	if n != 2 || eventExists(t, db, "e1") || eventExists(t, db, "e2") {
		t.Fatalf("PruneDelivered(60) deleted %d deliveries, want 2 and their events", n)
	}
}

func testMarkAbandoned(t *testing.T, open Opener) {
	db := openFresh(t, open)
	ctx := t.Context()
	minute := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }
	ev := store.Event{ID: "e1", Type: "room.live", Payload: []byte(`{}`), CreatedAt: minute(0)}
	checkErr(t, "EnqueueEvent", db.EnqueueEvent(ctx, ev, []string{"A", "B"}), nil)

	// An abandoned delivery is never due again.
	checkErr(t, "MarkFailed", db.MarkFailed(ctx, "e1", "A", 1, minute(1), "HTTP 500"), nil)
	checkErr(t, "MarkAbandoned", db.MarkAbandoned(ctx, "e1", "A", 2, minute(2), "HTTP 503"), nil)
	ps, err := db.DueDeliveries(ctx, minute(1000), 10)
	checkErr(t, "DueDeliveries", err, nil)
	if len(ps) != 1 || ps[0].URL != "B" {
		t.Fatalf("due after abandoning A: %+v, want only B", ps)
	}

	// Abandoning again, or after delivery, changes nothing; unknown ones are not found.
	checkErr(t, "MarkAbandoned again", db.MarkAbandoned(ctx, "e1", "A", 9, minute(9), "late"), nil)
	checkErr(t, "MarkDelivered", db.MarkDelivered(ctx, "e1", "B", minute(3)), nil)
	checkErr(t, "MarkAbandoned after delivery", db.MarkAbandoned(ctx, "e1", "B", 5, minute(4), "late"), nil)
	checkErr(t, "MarkAbandoned unknown", db.MarkAbandoned(ctx, "e9", "A", 1, minute(1), "x"), store.ErrNotFound)

	// Pruning removes abandoned deliveries by the time they were first
	// abandoned, then the event once none is left.
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
	if n != 1 || eventExists(t, db, "e1") {
		t.Fatalf("PruneDelivered(60) deleted %d deliveries and left the event: want 1 and none", n)
	}
}
