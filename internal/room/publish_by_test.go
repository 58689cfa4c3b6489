package room

import (
	"errors"
	"testing"

	"roomcast/internal/store"
)

func TestAuthorizePublishBy(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	mine := f.room(t, false)
	banned, err := f.svc.Create(ctx, f.other, Input{Title: ptr("soon banned")})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.db.SetUserBanned(ctx, f.other.ID, true); err != nil {
		t.Fatal(err)
	}
	co, co2, gone := f.user(t, "user_co"), f.user(t, "user_co2"), f.user(t, "user_gone")
	for _, u := range []*store.User{co, co2} {
		if _, _, _, err := f.svc.AddCohost(ctx, f.owner, mine.ID, u.ID); err != nil {
			t.Fatal(err)
		}
	}
	users := map[string]*store.User{"owner": f.owner, "admin": f.ad, "other": f.other, "co": co, "co2": co2, "gone": gone}
	for _, tc := range []struct {
		name   string
		user   string
		stream string
		want   error
	}{
		{"co-host its own stream", "co", MemberStream(mine.Stream, co.ID), nil},
		{"co-host the host's stream", "co", mine.Stream, ErrForbidden},
		{"co-host another co-host's stream", "co", MemberStream(mine.Stream, co2.ID), ErrForbidden},
		{"owner a co-host's stream", "owner", MemberStream(mine.Stream, co.ID), ErrForbidden},
		{"a user who is not a co-host", "gone", MemberStream(mine.Stream, gone.ID), ErrNotCohost},
		{"the programme", "owner", ProgrammeStream(mine.Stream), ErrReservedStream},
		{"owner", "owner", mine.Stream, nil},
		{"admin", "admin", mine.Stream, nil},
		{"another user", "other", mine.Stream, ErrForbidden},
		{"admin for a banned owner", "admin", banned.Stream, ErrOwnerBanned},
		{"unknown stream", "owner", "s_nosuchroom", ErrNoRoom},
		{"invalid stream", "owner", "a/b", ErrInvalidStream},
	} {
		t.Run(tc.name, func(t *testing.T) {
			who := users[tc.user]
			err := f.svc.AuthorizePublishBy(ctx, who, tc.stream)
			if tc.want == nil {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if !errors.Is(err, tc.want) || !errors.Is(err, ErrDenied) {
				t.Fatalf("err = %v, want %v and ErrDenied", err, tc.want)
			}
		})
	}
}

func TestPublisherOf(t *testing.T) {
	f := newFixture(t)
	mine := f.room(t, false)
	for _, tc := range []struct{ stream, want string }{
		{mine.Stream, f.owner.ID},
		{MemberStream(mine.Stream, "user_x"), "user_x"},
		{ProgrammeStream(mine.Stream), ""},
		{"s_nosuchroom", ""},
		{"not-a-room-stream", ""},
	} {
		got, err := f.svc.PublisherOf(t.Context(), tc.stream)
		if err != nil || got != tc.want {
			t.Errorf("PublisherOf(%q) = %q, %v; want %q", tc.stream, got, err, tc.want)
		}
	}
}
