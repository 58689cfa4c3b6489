package postgres

import (
	"errors"
	"testing"
	"time"

	"roomcast/internal/pgtest"
	"roomcast/internal/store"
)

// While Postgres is down every kind of operation fails with
// store.ErrUnavailable; once it is back the same DB works again, without
// being reopened.
func TestConnectionLossAndRecovery(t *testing.T) {
	pg := pgtest.Start(t) // a server of its own: this test stops it
	db := openURL(t, pg.NewDatabase(t))
	ctx := t.Context()
	if err := db.CreateUser(ctx, &store.User{ID: "u1", Name: "alice"}); err != nil {
		t.Fatal(err)
	}
	if err := pg.Stop(); err != nil {
		t.Fatal(err)
	}
	ops := []struct {
		name string
		run  func() error
	}{
		{"read", func() error { _, err := db.UserByID(ctx, "u1"); return err }},
		{"write", func() error { return db.CreateUser(ctx, &store.User{ID: "u2"}) }},
		{"transaction", func() error {
			_, err := db.UpdateRoom(ctx, "r1", func(*store.Room) error { return nil })
			return err
		}},
		{"list", func() error { _, _, err := db.ListUsers(ctx, "", 10); return err }},
		{"ping", func() error { return db.Ping(ctx) }},
	}
	for _, op := range ops {
		if err := op.run(); !errors.Is(err, store.ErrUnavailable) {
			t.Errorf("%s while Postgres is down: %v, want ErrUnavailable", op.name, err)
		}
	}

	if err := pg.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		u, err := db.UserByID(ctx, "u1")
		if err == nil {
			if u.Name != "alice" {
				t.Fatalf("after recovery: %+v", u)
			}
			break
		}
		if !errors.Is(err, store.ErrUnavailable) {
			t.Fatalf("after restart: %v", err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("still unavailable 30s after Postgres came back: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	for _, op := range ops[1:] {
		if err := op.run(); errors.Is(err, store.ErrUnavailable) {
			t.Errorf("%s after recovery: %v", op.name, err)
		}
	}
}
