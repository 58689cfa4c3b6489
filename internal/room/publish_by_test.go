package room

import (
	"errors"
	"testing"
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
	for _, tc := range []struct {
		name   string
		user   string
		stream string
		want   error
	}{
		{"owner", "owner", mine.Stream, nil},
		{"admin", "admin", mine.Stream, nil},
		{"another user", "other", mine.Stream, ErrForbidden},
		{"admin for a banned owner", "admin", banned.Stream, ErrOwnerBanned},
		{"unknown stream", "owner", "s_nosuchroom", ErrNoRoom},
		{"invalid stream", "owner", "a/b", ErrInvalidStream},
	} {
		t.Run(tc.name, func(t *testing.T) {
			who := f.owner
			switch tc.user {
			case "admin":
				who = f.ad
			case "other":
				who = f.other
			}
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
