package storetest

import (
	"errors"
	"testing"
	"time"

	"roomcast/internal/store"
)

func testCreateSession(t *testing.T, open Opener) {
	db := openFresh(t, open)
	ctx := t.Context()
	mustUser(t, db, "u1", 0)
	exp := t0.Add(24 * time.Hour)
	for _, tc := range []struct {
		name string
		s    store.Session
		want error
	}{
		{"ok", store.Session{TokenHash: "h1", UserID: "u1", ExpiresAt: exp}, nil},
		{"explicit created", store.Session{TokenHash: "h2", UserID: "u1", ExpiresAt: exp, CreatedAt: t0.Add(-time.Minute)}, nil},
		{"hash taken", store.Session{TokenHash: "h1", UserID: "u1", ExpiresAt: exp}, store.ErrConflict},
		{"unknown user", store.Session{TokenHash: "h3", UserID: "ghost", ExpiresAt: exp}, store.ErrNotFound},
		{"no hash", store.Session{UserID: "u1", ExpiresAt: exp}, errAny},
		{"no user", store.Session{TokenHash: "h4", ExpiresAt: exp}, errAny},
		{"no expiry", store.Session{TokenHash: "h5", UserID: "u1"}, errAny},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := tc.s
			err := db.CreateSession(ctx, &s)
			checkErr(t, "CreateSession", err, tc.want)
			if err != nil {
				return
			}
			got, err := db.SessionByTokenHash(ctx, s.TokenHash, t0)
			checkErr(t, "SessionByTokenHash", err, nil)
			same(t, "session", got, &s)
			if tc.s.CreatedAt.IsZero() && !got.CreatedAt.Equal(t0) {
				t.Errorf("default CreatedAt = %v", got.CreatedAt)
			}
		})
	}
}

func testSessionExpiry(t *testing.T, open Opener) {
	db := openFresh(t, open)
	ctx := t.Context()
	mustUser(t, db, "u1", 0)
	exp := t0.Add(time.Hour)
	checkErr(t, "CreateSession", db.CreateSession(ctx, &store.Session{TokenHash: "h", UserID: "u1", ExpiresAt: exp}), nil)
	for _, tc := range []struct {
		name string
		hash string
		now  time.Time
		want error
	}{
		{"fresh", "h", t0, nil},
		{"just before expiry", "h", exp.Add(-time.Microsecond), nil},
		{"at expiry", "h", exp, store.ErrNotFound},
		{"after expiry", "h", exp.Add(time.Hour), store.ErrNotFound},
		{"unknown hash", "x", t0, store.ErrNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := db.SessionByTokenHash(ctx, tc.hash, tc.now)
			checkErr(t, "SessionByTokenHash", err, tc.want)
		})
	}
}

func testDeleteSessions(t *testing.T, open Opener) {
	db := openFresh(t, open)
	ctx := t.Context()
	mustUser(t, db, "u1", 0)
	mustUser(t, db, "u2", 0)
	add := func(hash, user string, exp time.Duration) {
		t.Helper()
		checkErr(t, "CreateSession", db.CreateSession(ctx, &store.Session{TokenHash: hash, UserID: user, ExpiresAt: t0.Add(exp)}), nil)
	}
	live := func(hash string) bool {
		t.Helper()
		// Long before any expiry: the session is found if its row is there.
		_, err := db.SessionByTokenHash(ctx, hash, t0.Add(-24*time.Hour))
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			t.Fatal(err)
		}
		return err == nil
	}
	add("a", "u1", time.Hour)
	add("b", "u1", 2*time.Hour)
	add("c", "u2", time.Hour)
	add("old1", "u2", -time.Hour)
	add("old2", "u1", -time.Minute)

	checkErr(t, "DeleteSession", db.DeleteSession(ctx, "a"), nil)
	checkErr(t, "DeleteSession again", db.DeleteSession(ctx, "a"), nil)
	if live("a") || !live("b") {
		t.Fatal("DeleteSession deleted the wrong sessions")
	}

	n, err := db.DeleteExpiredSessions(ctx, t0)
	checkErr(t, "DeleteExpiredSessions", err, nil)
	if n != 2 || live("old1") || live("old2") || !live("b") || !live("c") {
		t.Fatalf("DeleteExpiredSessions deleted %d, want the 2 expired ones", n)
	}
	n, err = db.DeleteExpiredSessions(ctx, t0.Add(time.Hour)) // c expires exactly now
	checkErr(t, "DeleteExpiredSessions", err, nil)
	if n != 1 || live("c") || !live("b") {
		t.Fatalf("DeleteExpiredSessions at c's expiry deleted %d, want c", n)
	}

	add("d", "u2", time.Hour)
	checkErr(t, "DeleteUserSessions", db.DeleteUserSessions(ctx, "u1"), nil)
	checkErr(t, "DeleteUserSessions of user without sessions", db.DeleteUserSessions(ctx, "u1"), nil)
	if live("b") || !live("d") {
		t.Fatal("DeleteUserSessions deleted the wrong sessions")
	}
}
