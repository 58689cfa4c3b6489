package webhook_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"roomcast/internal/auth"
	"roomcast/internal/webhook"
)

func TestDeliverySignedWithHeaders(t *testing.T) {
	db := openDB(t, t.TempDir())
	rc := newReceiver(t, nil)
	cfg := testConfig(rc.URL + "/hook")
	clock := time.Date(2026, 3, 1, 8, 30, 0, 123456789, time.UTC)
	cfg.Now = func() time.Time { return clock }
	d := webhook.New(db, cfg, testLog(t))
	emit(t, d, webhook.Event{
		Type:   webhook.TypeStreamUnpublished,
		Room:   "room_1",
		Stream: "s1",
		Data:   map[string]any{"duration_ms": int64(1834250), "bytes": int64(73400320), "reason": "closed"},
	})
	run(t, d)
	waitFor(t, 5*time.Second, "the delivery", func() bool { return d.Stats().Delivered == 1 })

	reqs := rc.requests()
	if len(reqs) != 1 {
		t.Fatalf("receiver got %d requests, want 1", len(reqs))
	}
	r := reqs[0]
	var p webhook.Payload
	if err := json.Unmarshal(r.body, &p); err != nil {
		t.Fatalf("body %s: %v", r.body, err)
	}
	if !strings.HasPrefix(p.ID, "evt_") || len(p.ID) != len("evt_")+26 {
		t.Errorf("event id %q, want evt_ and 26 characters", p.ID)
	}
	want := fmt.Sprintf(`{"id":%q,"type":"stream.unpublished","time":"2026-03-01T08:30:00.123Z","room":"room_1","stream":"s1",`+
		`"data":{"bytes":73400320,"duration_ms":1834250,"reason":"closed"}}`, p.ID)
	if string(r.body) != want {
		t.Errorf("body\n got  %s\n want %s", r.body, want)
	}
	if r.method != http.MethodPost {
		t.Errorf("method %s, want POST", r.method)
	}
	for name, want := range map[string]string{
		"Content-Type":          "application/json",
		"User-Agent":            "roomcast-webhook",
		"X-Roomcast-Event":      "stream.unpublished",
		"X-Roomcast-Delivery":   p.ID,
		webhook.HeaderSignature: auth.SignBody([]byte(testSecret), r.body),
	} {
		if got := r.header.Get(name); got != want {
			t.Errorf("header %s = %q, want %q", name, got, want)
		}
	}
	sig := r.header.Get("X-Roomcast-Signature")
	if !auth.VerifyBody([]byte(testSecret), r.body, sig) {
		t.Errorf("signature %q does not verify", sig)
	}
	if auth.VerifyBody([]byte("other"), r.body, sig) {
		t.Errorf("signature %q verifies under another secret", sig)
	}
	if len(due(t, db, clock.Add(time.Hour))) != 0 {
		t.Error("the delivery is still due")
	}
	wantStats(t, d, webhook.Stats{Emitted: 1, Delivered: 1})
}

func TestNoSecretNoSignature(t *testing.T) {
	db := openDB(t, t.TempDir())
	rc := newReceiver(t, nil)
	cfg := testConfig(rc.URL)
	cfg.Secret = ""
	d := webhook.New(db, cfg, testLog(t))
	emit(t, d, webhook.Event{Type: webhook.TypeRoomLive, Stream: "s1"})
	run(t, d)
	waitFor(t, 5*time.Second, "the delivery", func() bool { return d.Stats().Delivered == 1 })
	r := rc.requests()[0]
	if _, ok := r.header[webhook.HeaderSignature]; ok {
		t.Errorf("request without a secret has a signature header %q", r.header.Get(webhook.HeaderSignature))
	}
	var p map[string]any
	if err := json.Unmarshal(r.body, &p); err != nil {
		t.Fatal(err)
	}
	if data, ok := p["data"].(map[string]any); !ok || len(data) != 0 || p["room"] != "" {
		t.Errorf("event without data or room: data %#v, room %#v; want {} and \"\"", p["data"], p["room"])
	}
}

func TestRetryWithBackoff(t *testing.T) {
	db := openDB(t, t.TempDir())
	rc := newReceiver(t, func(n int, w http.ResponseWriter, _ *http.Request) {
		switch n {
		case 1:
			http.Error(w, "boom", http.StatusInternalServerError)
		case 2:
			w.WriteHeader(http.StatusServiceUnavailable)
		default:
			w.WriteHeader(http.StatusOK)
		}
	})
	cfg := testConfig(rc.URL)
	cfg.MinBackoff, cfg.MaxBackoff = 30*time.Millisecond, 100*time.Millisecond
	cfg.PollInterval = time.Minute // the retries must not wait for a poll
	d := webhook.New(db, cfg, testLog(t))
	run(t, d)
	emit(t, d, webhook.Event{Type: webhook.TypeRoomEnded, Room: "r", Stream: "s"})
	waitFor(t, 5*time.Second, "the delivery", func() bool { return d.Stats().Delivered == 1 })

	reqs := rc.requests()
	if len(reqs) != 3 {
		t.Fatalf("receiver got %d requests, want 3", len(reqs))
	}
	for i, r := range reqs[1:] {
		if string(r.body) != string(reqs[0].body) || r.header.Get(webhook.HeaderDelivery) != reqs[0].header.Get(webhook.HeaderDelivery) {
			t.Errorf("retry %d differs: %s %s", i+1, r.header.Get(webhook.HeaderDelivery), r.body)
		}
		if gap := r.at.Sub(reqs[i].at); gap < cfg.MinBackoff {
			t.Errorf("retry %d came %v after the previous attempt, want at least %v", i+1, gap, cfg.MinBackoff)
		}
	}
	if len(due(t, db, time.Now().Add(time.Hour))) != 0 {
		t.Error("the delivery is still due")
	}
	wantStats(t, d, webhook.Stats{Emitted: 1, Delivered: 1, Failed: 2})
}

func TestAbandonAfterMaxAttempts(t *testing.T) {
	db := openDB(t, t.TempDir())
	rc := newReceiver(t, status(http.StatusInternalServerError))
	cfg := testConfig(rc.URL)
	cfg.MaxAttempts = 3
	cfg.MinBackoff, cfg.MaxBackoff = time.Millisecond, 5*time.Millisecond
	d := webhook.New(db, cfg, testLog(t))
	run(t, d)
	emit(t, d, webhook.Event{Type: webhook.TypeRoomLive, Stream: "s"})
	waitFor(t, 5*time.Second, "abandonment", func() bool { return d.Stats().Abandoned == 1 })
	time.Sleep(50 * time.Millisecond) // ten times the longest backoff: no more attempts
	if n := rc.count(); n != 3 {
		t.Errorf("receiver got %d requests, want 3", n)
	}
	if ps := due(t, db, time.Now().Add(time.Hour)); len(ps) != 0 {
		t.Errorf("abandoned delivery still due: %+v", ps)
	}
	wantStats(t, d, webhook.Stats{Emitted: 1, Failed: 3, Abandoned: 1})
}

func TestURLsAreIndependent(t *testing.T) {
	db := openDB(t, t.TempDir())
	failing := newReceiver(t, func(_ int, w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusInternalServerError)
		fmt.Fprint(w, "database is down\n\tretry later")
	})
	ok := newReceiver(t, nil)
	cfg := testConfig(failing.URL, ok.URL)
	cfg.MinBackoff, cfg.MaxBackoff = time.Minute, time.Hour // one attempt in this test
	d := webhook.New(db, cfg, testLog(t))
	run(t, d)
	start := time.Now()
	emit(t, d, webhook.Event{Type: webhook.TypeStreamPublished, Stream: "s"})
	waitFor(t, 5*time.Second, "one delivery and one failure", func() bool {
		st := d.Stats()
		return st.Delivered == 1 && st.Failed == 1
	})
	if failing.count() != 1 || ok.count() != 1 {
		t.Errorf("requests: %d to the failing URL, %d to the good one; want 1 and 1", failing.count(), ok.count())
	}
	ps := due(t, db, start.Add(3*time.Minute))
	if len(ps) != 1 {
		t.Fatalf("%d deliveries due, want the failing one: %+v", len(ps), ps)
	}
	p := ps[0]
	if p.URL != failing.URL || p.Attempts != 1 || p.LastError != "HTTP 500 Internal Server Error: database is down retry later" {
		t.Errorf("failed delivery: url %s, attempts %d, last error %q", p.URL, p.Attempts, p.LastError)
	}
	if wait := p.NextAttemptAt.Sub(start); wait < time.Minute || wait > 2*time.Minute+time.Second {
		t.Errorf("retry %v after the event, want 1 to 2 minutes", wait)
	}
}

// A receiver that does not answer holds back neither the other URLs nor the
// rest of its own queue: its other deliveries fail without a request until
// its backoff expires.
func TestUnreachableURL(t *testing.T) {
	db := openDB(t, t.TempDir())
	slow := newReceiver(t, hang)
	fast := newReceiver(t, nil)
	cfg := testConfig(slow.URL, fast.URL)
	cfg.Timeout = time.Second
	cfg.MinBackoff, cfg.MaxBackoff = time.Minute, time.Hour
	d := webhook.New(db, cfg, testLog(t))
	for i := range 3 {
		emit(t, d, webhook.Event{Type: webhook.TypeRoomLive, Stream: fmt.Sprint("s", i)})
	}
	run(t, d)
	waitFor(t, 5*time.Second, "the fast URL's deliveries", func() bool { return fast.count() == 3 })
	if st := d.Stats(); st.Failed != 0 || slow.count() != 1 {
		t.Errorf("when the fast URL had all: %d requests to the slow one, %d failures; want 1 in flight and 0",
			slow.count(), st.Failed)
	}
	waitFor(t, 5*time.Second, "the slow URL's failures", func() bool { return d.Stats().Failed == 3 })
	if n := slow.count(); n != 1 {
		t.Errorf("slow URL got %d requests, want 1", n)
	}
	ps := due(t, db, time.Now().Add(3*time.Minute))
	if len(ps) != 3 {
		t.Fatalf("%d deliveries due, want 3", len(ps))
	}
	timeouts, skipped := 0, 0
	for _, p := range ps {
		switch {
		case p.URL != slow.URL || p.Attempts != 1:
			t.Errorf("due: %s attempts %d", p.URL, p.Attempts)
		case p.LastError == "no answer within 1s":
			timeouts++
		case p.LastError == "not sent: receiver unreachable: no answer within 1s":
			skipped++
		default:
			t.Errorf("last error %q", p.LastError)
		}
	}
	if timeouts != 1 || skipped != 2 {
		t.Errorf("%d timeouts and %d skipped, want 1 and 2", timeouts, skipped)
	}
	wantStats(t, d, webhook.Stats{Emitted: 3, Delivered: 3, Failed: 3})
}

func TestRedirectIsAFailure(t *testing.T) {
	db := openDB(t, t.TempDir())
	target := newReceiver(t, nil)
	rc := newReceiver(t, func(_ int, w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target.URL, http.StatusFound)
	})
	cfg := testConfig(rc.URL)
	cfg.MinBackoff, cfg.MaxBackoff = time.Minute, time.Hour
	cfg.HTTP = &http.Client{} // a caller's client is not allowed to follow either
	d := webhook.New(db, cfg, testLog(t))
	run(t, d)
	emit(t, d, webhook.Event{Type: webhook.TypeRoomLive, Stream: "s"})
	waitFor(t, 5*time.Second, "the failure", func() bool { return d.Stats().Failed == 1 })
	if target.count() != 0 {
		t.Error("the redirect was followed")
	}
	ps := due(t, db, time.Now().Add(3*time.Minute))
	if len(ps) != 1 || !strings.HasPrefix(ps[0].LastError, "HTTP 302 Found") {
		t.Errorf("due after a redirect: %+v", ps)
	}
}

// Events survive a restart: one that failed and one emitted while nothing
// ran are both delivered by the next process.
func TestSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	rc := newReceiver(t, status(http.StatusServiceUnavailable))
	cfg := testConfig(rc.URL)
	cfg.MinBackoff, cfg.MaxBackoff = time.Minute, time.Hour

	db := openDB(t, dir)
	d := webhook.New(db, cfg, testLog(t))
	emit(t, d, webhook.Event{Type: webhook.TypeStreamPublished, Stream: "s"})
	stop := run(t, d)
	waitFor(t, 5*time.Second, "the failure", func() bool { return d.Stats().Failed == 1 })
	stop()
	emit(t, d, webhook.Event{Type: webhook.TypeStreamUnpublished, Stream: "s"})
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	first := rc.requests()[0].header.Get(webhook.HeaderDelivery)

	rc.setAnswer(status(http.StatusOK))
	db = openDB(t, dir)
	cfg.Now = func() time.Time { return time.Now().Add(2 * time.Hour) } // the retry is due
	d = webhook.New(db, cfg, testLog(t))
	run(t, d)
	waitFor(t, 5*time.Second, "both deliveries", func() bool { return d.Stats().Delivered == 2 })
	reqs := rc.requests()
	if len(reqs) != 3 {
		t.Fatalf("receiver got %d requests, want 3", len(reqs))
	}
	types := map[string]string{}
	for _, r := range reqs[1:] {
		types[r.header.Get(webhook.HeaderEvent)] = r.header.Get(webhook.HeaderDelivery)
	}
	if types["stream.published"] != first || types["stream.unpublished"] == "" {
		t.Errorf("after restart got %v; want stream.published %s again and stream.unpublished", types, first)
	}
	wantStats(t, d, webhook.Stats{Delivered: 2})
}

// Stopping Run cancels a request in flight and leaves its delivery due;
// Flush then delivers it.
func TestStopAndFlush(t *testing.T) {
	db := openDB(t, t.TempDir())
	rc := newReceiver(t, hang)
	cfg := testConfig(rc.URL)
	cfg.Timeout = time.Minute
	d := webhook.New(db, cfg, testLog(t))
	emit(t, d, webhook.Event{Type: webhook.TypeRoomEnded, Stream: "s"})
	stop := run(t, d)
	waitFor(t, 5*time.Second, "the request", func() bool { return rc.count() == 1 })
	if err := d.Run(t.Context()); !errors.Is(err, webhook.ErrRunning) {
		t.Errorf("second Run = %v, want ErrRunning", err)
	}
	if err := d.Flush(t.Context()); !errors.Is(err, webhook.ErrRunning) {
		t.Errorf("Flush while running = %v, want ErrRunning", err)
	}
	stop()
	ps := due(t, db, time.Now())
	if len(ps) != 1 || ps[0].Attempts != 0 || ps[0].LastError != "" {
		t.Fatalf("after stopping during the request, due: %+v; want the delivery, untouched", ps)
	}
	wantStats(t, d, webhook.Stats{Emitted: 1})

	rc.setAnswer(status(http.StatusAccepted))
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	if err := d.Flush(ctx); err != nil {
		t.Fatalf("Flush: %v", err)
	}
	if n := rc.count(); n != 2 {
		t.Errorf("receiver got %d requests, want 2", n)
	}
	if ps := due(t, db, time.Now().Add(time.Hour)); len(ps) != 0 {
		t.Errorf("due after Flush: %+v", ps)
	}
	wantStats(t, d, webhook.Stats{Emitted: 1, Delivered: 1})
}

// Flush tries each due delivery once, failing or not, and returns.
func TestFlushTriesOnce(t *testing.T) {
	db := openDB(t, t.TempDir())
	bad := newReceiver(t, status(http.StatusBadGateway))
	good := newReceiver(t, nil)
	cfg := testConfig(bad.URL, good.URL)
	cfg.MinBackoff, cfg.MaxBackoff = time.Millisecond, time.Millisecond
	d := webhook.New(db, cfg, testLog(t))
	for range 3 {
		emit(t, d, webhook.Event{Type: webhook.TypeRoomLive, Stream: "s"})
	}
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	if err := d.Flush(ctx); err != nil {
		t.Fatalf("Flush: %v", err)
	}
	if bad.count() != 3 || good.count() != 3 {
		t.Errorf("requests: %d to the bad URL, %d to the good one; want 3 and 3", bad.count(), good.count())
	}
	wantStats(t, d, webhook.Stats{Emitted: 3, Delivered: 3, Failed: 3})

	ctx, cancel = context.WithCancel(t.Context())
	cancel()
	if err := d.Flush(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Flush with a cancelled context = %v, want context.Canceled", err)
	}
}

func TestUnconfiguredURLAbandoned(t *testing.T) {
	db := openDB(t, t.TempDir())
	kept := newReceiver(t, nil)
	dropped := newReceiver(t, nil)
	emit(t, webhook.New(db, testConfig(kept.URL, dropped.URL), testLog(t)), webhook.Event{Type: webhook.TypeRoomLive, Stream: "s"})

	d := webhook.New(db, testConfig(kept.URL), testLog(t))
	run(t, d)
	waitFor(t, 5*time.Second, "delivery and abandonment", func() bool {
		st := d.Stats()
		return st.Delivered == 1 && st.Abandoned == 1
	})
	if kept.count() != 1 || dropped.count() != 0 {
		t.Errorf("requests: %d to the kept URL, %d to the dropped one; want 1 and 0", kept.count(), dropped.count())
	}
	if ps := due(t, db, time.Now().Add(time.Hour)); len(ps) != 0 {
		t.Errorf("due: %+v", ps)
	}
}

func TestNoURLsStoresNothing(t *testing.T) {
	for _, urls := range [][]string{nil, {"", "  "}} {
		d := webhook.New(refusingStore{t}, webhook.Config{URLs: urls}, testLog(t))
		if err := d.Emit(t.Context(), webhook.Event{Type: webhook.TypeRoomLive, Stream: "s"}); err != nil {
			t.Errorf("Emit with URLs %q: %v", urls, err)
		}
		wantStats(t, d, webhook.Stats{})
	}
}

func TestEmitRefusesBadEvents(t *testing.T) {
	db := openDB(t, t.TempDir())
	d := webhook.New(db, testConfig("http://127.0.0.1:1/"), testLog(t))
	for _, ev := range []webhook.Event{
		{Stream: "no type"},
		{Type: "room live\n"},
		{Type: "Room.Live"},
		{Type: strings.Repeat("a", 65)},
		{Type: webhook.TypeRoomLive, Data: map[string]any{"f": func() {}}},
	} {
		if err := d.Emit(t.Context(), ev); err == nil {
			t.Errorf("Emit(%+v) = nil, want an error", ev)
		}
	}
	if ps := due(t, db, time.Now().Add(time.Hour)); len(ps) != 0 {
		t.Errorf("refused events were stored: %+v", ps)
	}
	wantStats(t, d, webhook.Stats{})
}
