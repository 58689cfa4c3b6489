package storetest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"roomcast/internal/store"
)

func testClaimDeliveries(t *testing.T, open Opener) {
	db := openFresh(t, open)
	ctx := t.Context()
	minute := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }
	for _, ev := range []struct {
		id   string
		at   int
		urls []string
	}{{"e1", 0, []string{"A", "B"}}, {"e2", 1, []string{"A"}}} {
		checkErr(t, "EnqueueEvent", db.EnqueueEvent(ctx, store.Event{ID: ev.id, Type: "room.live", Payload: []byte(`{}`), CreatedAt: minute(ev.at)}, ev.urls), nil)
	}
	claim := func(claimer string, now time.Time, limit int) []string {
		t.Helper()
		ps, err := db.ClaimDeliveries(ctx, claimer, now, time.Minute, limit)
		checkErr(t, "ClaimDeliveries", err, nil)
		var out []string
		for _, p := range ps {
			out = append(out, p.EventID+" "+p.URL)
		}
		return out
	}

	same(t, "n1 claims two", claim("n1", minute(1), 2), []string{"e1 A", "e1 B"})
	same(t, "n2 gets the rest", claim("n2", minute(1), 10), []string{"e2 A"})
	same(t, "n1 renews its own", claim("n1", minute(1), 10), []string{"e1 A", "e1 B"})
	same(t, "n3 gets nothing", claim("n3", minute(1), 10), nil)
	same(t, "n2 within its lease", claim("n2", minute(1).Add(59*time.Second), 10), []string{"e2 A"})
	// n1's claims (renewed at 1) end at 2, n2's (renewed at 1:59) at 2:59.
	same(t, "n3 after n1's lease", claim("n3", minute(2), 10), []string{"e1 A", "e1 B"})
	same(t, "n3 after both leases", claim("n3", minute(3), 10), []string{"e1 A", "e1 B", "e2 A"})

	// Recording an outcome ends the claim: a failed delivery is anyone's when due again.
	checkErr(t, "MarkFailed", db.MarkFailed(ctx, "e1", "A", 1, minute(3), "HTTP 500"), nil)
	same(t, "n1 takes the failed one", claim("n1", minute(3), 10), []string{"e1 A"})
	checkErr(t, "MarkDelivered", db.MarkDelivered(ctx, "e1", "A", minute(3)), nil)
	same(t, "delivered is not claimed", claim("n1", minute(3), 10), nil)

	// Released claims are free at once.
	checkErr(t, "ReleaseDeliveries", db.ReleaseDeliveries(ctx, "n3"), nil)
	same(t, "n2 after n3 released", claim("n2", minute(3), 10), []string{"e1 B", "e2 A"})
	checkErr(t, "ReleaseDeliveries of nothing", db.ReleaseDeliveries(ctx, "n9"), nil)

	ps, err := db.ClaimDeliveries(ctx, "n2", minute(3), time.Minute, 1)
	checkErr(t, "ClaimDeliveries", err, nil)
	same(t, "claimed delivery", ps, []store.PendingDelivery{{
		Delivery: store.Delivery{EventID: "e1", URL: "B", NextAttemptAt: minute(0)},
		Event:    store.Event{ID: "e1", Type: "room.live", Payload: []byte(`{}`), CreatedAt: minute(0)},
	}})
	_, err = db.ClaimDeliveries(ctx, "", minute(3), time.Minute, 1)
	checkErr(t, "no claimer", err, errAny)
	_, err = db.ClaimDeliveries(ctx, "n1", minute(3), 0, 1)
	checkErr(t, "no lease", err, errAny)
}

// Claimers of several nodes claiming at once never get the same delivery.
func testClaimDeliveriesConcurrent(t *testing.T, open Opener) {
	db := openFresh(t, open)
	ctx := t.Context()
	const events = 40
	for i := range events {
		ev := store.Event{ID: fmt.Sprintf("e%02d", i), Type: "room.live", Payload: []byte(`{}`), CreatedAt: t0}
		checkErr(t, "EnqueueEvent", db.EnqueueEvent(ctx, ev, []string{"A"}), nil)
	}
	var (
		mu    sync.Mutex
		owner = map[string]string{}
		wg    sync.WaitGroup
	)
	for c := range 4 {
		claimer := fmt.Sprintf("n%d", c)
		wg.Go(func() {
			for {
				// Claim a few, deliver them, repeat: as a dispatcher does.
				ps, err := db.ClaimDeliveries(ctx, claimer, t0, time.Hour, 3)
				if err != nil || len(ps) == 0 {
					checkErrNow(t, err)
					return
				}
				for _, p := range ps {
					mu.Lock()
					if o, ok := owner[p.EventID]; ok {
						t.Errorf("%s claimed by %s, then by %s", p.EventID, o, claimer)
					}
					owner[p.EventID] = claimer
					mu.Unlock()
					if err := db.MarkDelivered(ctx, p.EventID, p.URL, t0); err != nil {
						t.Error(err)
						return
					}
				}
			}
		})
	}
	wg.Wait()
	if len(owner) != events {
		// Every delivery was claimed once, by whichever claimer got there first.
		t.Errorf("%d of %d deliveries claimed", len(owner), events)
	}
}

// checkErrNow reports err, if any, from a goroutine that then returns.
func checkErrNow(t *testing.T, err error) {
	if err != nil {
		t.Error(err)
	}
}
