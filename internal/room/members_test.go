package room

import (
	"errors"
	"net/url"
	"testing"

	"roomcast/internal/auth"
	"roomcast/internal/quota"
	"roomcast/internal/store"
)

func (f *fixture) user(t *testing.T, id string) *store.User {
	t.Helper()
	u := &store.User{ID: id, Name: "name " + id, Role: store.RoleUser}
	if err := f.db.CreateUser(t.Context(), u); err != nil {
		t.Fatal(err)
	}
	return u
}

func TestCohostRules(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	rm := f.room(t, false)
	c1, c2, c3, c4 := f.user(t, "user_c1"), f.user(t, "user_c2"), f.user(t, "user_c3"), f.user(t, "user_c4")
	var refused []string
	f.svc.cfg.QuotaRefused = func(q string) { refused = append(refused, q) }

	for _, tc := range []struct {
		name   string
		actor  *store.User
		userID string
		want   error
	}{
		{"anonymous", nil, c1.ID, ErrForbidden},
		{"another user", f.other, c1.ID, ErrForbidden},
		{"unknown user", f.owner, "user_nobody", ErrUserNotFound},
		{"the host", f.owner, f.owner.ID, ErrIsHost},
		{"owner adds c1", f.owner, c1.ID, nil},
		{"admin adds c2", f.ad, c2.ID, nil},
		{"owner adds c1 again", f.owner, c1.ID, nil},
		{"owner adds c3", f.owner, c3.ID, nil},
		{"past the limit", f.owner, c4.ID, ErrTooManyCohosts},
	} {
		_, m, _, err := f.svc.AddCohost(ctx, tc.actor, rm.ID, tc.userID)
		if !errors.Is(err, tc.want) || (err == nil) != (tc.want == nil) {
			t.Fatalf("%s: %v, want %v", tc.name, err, tc.want)
		}
		if err == nil && (m.Role != RoleCohost || m.Stream != MemberStream(rm.Stream, tc.userID) || m.Play == nil) {
			t.Errorf("%s: member %+v", tc.name, m)
		}
	}
	if len(refused) != 1 || refused[0] != quota.CohostsPerRoom {
		t.Errorf("quota refusals counted: %v, want one %s", refused, quota.CohostsPerRoom)
	}
	ms, err := f.svc.Members(ctx, nil, rm)
	if err != nil || len(ms) != 4 || ms[0].Role != RoleHost || ms[0].Stream != rm.Stream || ms[1].UserID != c1.ID || ms[1].UserName != c1.Name {
		t.Fatalf("Members = %+v, %v", ms, err)
	}

	// A co-host's push URL is for its own stream, and publishes only while
	// it is a co-host.
	p, err := f.svc.PushURL(ctx, c1, rm.ID)
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(p.URL)
	if u.Path != "/live/"+MemberStream(rm.Stream, c1.ID) {
		t.Fatalf("co-host push URL %s", p.URL)
	}
	if err := f.svc.AuthorizePublish(ctx, MemberStream(rm.Stream, c1.ID), u.Query()); err != nil {
		t.Fatalf("co-host publish: %v", err)
	}
	if err := f.svc.AuthorizePublish(ctx, rm.Stream, u.Query()); !errors.Is(err, auth.ErrBadSignature) {
		t.Errorf("co-host's signature on the host's stream: %v", err)
	}
	if _, err := f.svc.PushURL(ctx, c4, rm.ID); !errors.Is(err, ErrForbidden) {
		t.Errorf("push URL of a non-member: %v", err)
	}
	pgm := ProgrammeStream(rm.Stream)
	if err := f.svc.AuthorizePublish(ctx, pgm, url.Values(mustQuery(t, f.svc.SignPush(pgm).URL))); !errors.Is(err, ErrReservedStream) {
		t.Errorf("publishing the programme: %v", err)
	}

	// Removing: another user may not, the co-host may leave.
	if _, _, err := f.svc.RemoveCohost(ctx, f.other, rm.ID, c1.ID); !errors.Is(err, ErrForbidden) {
		t.Errorf("another user removes c1: %v", err)
	}
	if _, _, err := f.svc.RemoveCohost(ctx, c2, rm.ID, c1.ID); !errors.Is(err, ErrForbidden) {
		t.Errorf("c2 removes c1: %v", err)
	}
	if _, s, err := f.svc.RemoveCohost(ctx, c1, rm.ID, c1.ID); err != nil || s != MemberStream(rm.Stream, c1.ID) {
		t.Errorf("c1 leaves: %q, %v", s, err)
	}
	if _, _, err := f.svc.RemoveCohost(ctx, f.owner, rm.ID, c1.ID); !errors.Is(err, ErrNotCohost) {
		t.Errorf("removing c1 twice: %v", err)
	}
	if err := f.svc.AuthorizePublish(ctx, MemberStream(rm.Stream, c1.ID), u.Query()); !errors.Is(err, ErrNotCohost) || !errors.Is(err, ErrDenied) {
		t.Errorf("publish after leaving: %v", err)
	}
	if _, err := f.svc.PushURL(ctx, c1, rm.ID); !errors.Is(err, ErrForbidden) {
		t.Errorf("push URL after leaving: %v", err)
	}

	// A banned co-host may not publish; a banned user cannot be added.
	if err := f.db.SetUserBanned(ctx, c2.ID, true); err != nil {
		t.Fatal(err)
	}
	s2 := MemberStream(rm.Stream, c2.ID)
	if err := f.svc.AuthorizePublish(ctx, s2, mustQuery(t, f.svc.SignPush(s2).URL)); !errors.Is(err, ErrUserBanned) {
		t.Errorf("banned co-host publishes: %v", err)
	}
	if err := f.db.RemoveCohost(ctx, rm.ID, c2.ID); err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := f.svc.AddCohost(ctx, f.owner, rm.ID, c2.ID); !errors.Is(err, ErrUserBanned) {
		t.Errorf("adding a banned user: %v", err)
	}
}

func TestCohostPrivateRoom(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	rm := f.room(t, true)
	c := f.user(t, "user_c")
	if _, err := f.svc.Get(ctx, c, rm.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("a stranger sees the private room: %v", err)
	}
	if _, _, _, err := f.svc.AddCohost(ctx, f.owner, rm.ID, c.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Get(ctx, c, rm.ID); err != nil {
		t.Fatalf("the co-host does not see the private room: %v", err)
	}
	ms, err := f.svc.Members(ctx, c, rm)
	if err != nil || len(ms) != 2 {
		t.Fatal(ms, err)
	}
	// One play signature, for the room's stream, plays each member stream.
	for _, m := range ms {
		q := mustQuery(t, m.Play.FLV)
		if err := f.svc.AuthorizePlay(ctx, m.Stream, q); err != nil {
			t.Errorf("play %s with its URL: %v", m.Stream, err)
		}
		if err := f.svc.AuthorizePlay(ctx, m.Stream, nil); !errors.Is(err, ErrDenied) {
			t.Errorf("play %s unsigned: %v", m.Stream, err)
		}
	}
	if err := f.svc.AuthorizePlay(ctx, ProgrammeStream(rm.Stream), mustQuery(t, ms[0].Play.FLV)); err != nil {
		t.Errorf("play the programme: %v", err)
	}
}

func mustQuery(t *testing.T, raw string) url.Values {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u.Query()
}
