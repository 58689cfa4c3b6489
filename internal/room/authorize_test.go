package room

import (
	"errors"
	"net/url"
	"testing"
	"time"

	"roomcast/internal/auth"
)

func TestAuthorizePublish(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	mine, theirs := f.room(t, false), f.room(t, true)
	push := &auth.Signer{Key: pushKey}
	play := &auth.Signer{Key: playKey}
	valid := push.Sign(mine.Stream, t0.Add(time.Hour))

	// A room of a user who will be banned.
	banned, err := f.svc.Create(ctx, f.other, Input{Title: ptr("soon banned")})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.db.SetUserBanned(ctx, f.other.ID, true); err != nil {
		t.Fatal(err)
	}

	tamper := func(q url.Values, k, v string) url.Values {
		out := url.Values{}
		for kk, vv := range q {
			out[kk] = append([]string(nil), vv...)
		}
		out.Set(k, v)
		return out
	}
	for _, tc := range []struct {
		name   string
		stream string
		q      url.Values
		want   error
	}{
		{"valid", mine.Stream, valid, nil},
		{"valid upper-case secret", mine.Stream, tamper(valid, "txSecret", upper(valid.Get("txSecret"))), nil},
		{"private room valid", theirs.Stream, push.Sign(theirs.Stream, t0.Add(time.Minute)), nil},
		{"no signature", mine.Stream, url.Values{}, auth.ErrMissingSignature},
		{"no txTime", mine.Stream, url.Values{"txSecret": valid["txSecret"]}, auth.ErrMissingSignature},
		{"expired", mine.Stream, push.Sign(mine.Stream, t0.Add(-time.Second)), auth.ErrExpired},
		{"too far ahead", mine.Stream, push.Sign(mine.Stream, t0.Add(DefaultPushTTL+time.Hour)), auth.ErrBadTxTime},
		{"forged key", mine.Stream, (&auth.Signer{Key: "guess"}).Sign(mine.Stream, t0.Add(time.Hour)), auth.ErrBadSignature},
		{"play key", mine.Stream, play.Sign(mine.Stream, t0.Add(time.Hour)), auth.ErrBadSignature},
		{"another room's signature", mine.Stream, push.Sign(theirs.Stream, t0.Add(time.Hour)), auth.ErrBadSignature},
		{"txTime changed", mine.Stream, tamper(valid, "txTime", auth.TxTime(t0.Add(2*time.Hour))), auth.ErrBadSignature},
		{"malformed txTime", mine.Stream, tamper(valid, "txTime", "zz"), auth.ErrBadTxTime},
		{"unknown stream", "s_nosuchroom", push.Sign("s_nosuchroom", t0.Add(time.Hour)), ErrNoRoom},
		{"unknown stream forged", "s_nosuchroom", (&auth.Signer{Key: "x"}).Sign("s_nosuchroom", t0.Add(time.Hour)), auth.ErrBadSignature},
		{"invalid stream name", "a/b", push.Sign("a/b", t0.Add(time.Hour)), ErrInvalidStream},
		{"banned owner", banned.Stream, push.Sign(banned.Stream, t0.Add(time.Hour)), ErrOwnerBanned},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := f.svc.AuthorizePublish(ctx, tc.stream, tc.q)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if !errors.Is(err, tc.want) || !errors.Is(err, ErrDenied) {
				t.Fatalf("err = %v, want %v and ErrDenied", err, tc.want)
			}
			t.Logf("message: %v", err)
		})
	}
}

func TestAuthorizePlay(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	pub, priv := f.room(t, false), f.room(t, true)
	play := &auth.Signer{Key: playKey}
	push := &auth.Signer{Key: pushKey}
	for _, tc := range []struct {
		name   string
		stream string
		q      url.Values
		want   error
	}{
		{"public unsigned", pub.Stream, nil, nil},
		{"public with junk", pub.Stream, url.Values{"txSecret": {"x"}}, nil},
		{"private signed", priv.Stream, play.Sign(priv.Stream, t0.Add(time.Hour)), nil},
		{"private unsigned", priv.Stream, nil, auth.ErrMissingSignature},
		{"private expired", priv.Stream, play.Sign(priv.Stream, t0.Add(-time.Minute)), auth.ErrExpired},
		{"private too far ahead", priv.Stream, play.Sign(priv.Stream, t0.Add(DefaultPlayTTL+time.Minute)), auth.ErrBadTxTime},
		{"private push key", priv.Stream, push.Sign(priv.Stream, t0.Add(time.Hour)), auth.ErrBadSignature},
		{"private other stream", priv.Stream, play.Sign(pub.Stream, t0.Add(time.Hour)), auth.ErrBadSignature},
		{"unknown stream", "s_none", nil, ErrNoRoom},
		{"invalid name", "", nil, ErrInvalidStream},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := f.svc.AuthorizePlay(ctx, tc.stream, tc.q)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if !errors.Is(err, tc.want) || !errors.Is(err, ErrDenied) {
				t.Fatalf("err = %v, want %v and ErrDenied", err, tc.want)
			}
		})
	}
}

func upper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'a' <= c && c <= 'z' {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}
