package room

import (
	"errors"
	"log/slog"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"roomcast/internal/auth"
	"roomcast/internal/store"
	"roomcast/internal/store/sqlite"
)

const (
	pushKey = "push-key-for-tests"
	playKey = "play-key-for-tests"
)

// t0 is the fixed clock of the tests.
var t0 = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

type fixture struct {
	svc              *Service
	db               *sqlite.DB
	owner, other, ad *store.User
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	db, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), sqlite.FileName), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	svc, err := New(db, Config{
		PushKey: pushKey, PlayKey: playKey,
		PublicURL: "https://live.example.com/", PublicRTMP: "rtmp://live.example.com:1935",
		Viewers: func(stream string) int { return len(stream) },
		Now:     func() time.Time { return t0 },
	})
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{svc: svc, db: db}
	mk := func(id, role string) *store.User {
		u := &store.User{ID: id, Name: id, Role: role}
		if err := db.CreateUser(t.Context(), u); err != nil {
			t.Fatal(err)
		}
		return u
	}
	f.owner, f.other, f.ad = mk("owner", store.RoleUser), mk("other", store.RoleUser), mk("admin", store.RoleAdmin)
	return f
}

func ptr[T any](v T) *T { return &v }

func (f *fixture) room(t *testing.T, private bool) *store.Room {
	t.Helper()
	r, err := f.svc.Create(t.Context(), f.owner, Input{Title: ptr("  My room "), Private: ptr(private)})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestCreate(t *testing.T) {
	f := newFixture(t)
	r := f.room(t, false)
	if r.Title != "My room" || r.OwnerID != "owner" || r.Status != store.StatusIdle || r.Private {
		t.Fatalf("room = %+v", r)
	}
	if !strings.HasPrefix(r.ID, "room_") || len(r.ID) != 5+26 || !strings.HasPrefix(r.Stream, "s_") || len(r.Stream) != 2+26 {
		t.Fatalf("id %q, stream %q", r.ID, r.Stream)
	}
	for _, in := range []Input{
		{},
		{Title: ptr("   ")},
		{Title: ptr(strings.Repeat("é", 101))},
		{Title: ptr("a\x00b")},
		{Title: ptr("a\nb")},
		{Title: ptr("\xff")},
		{Title: ptr("ok"), Description: ptr(strings.Repeat("d", 2001))},
		{Title: ptr("ok"), Description: ptr("bell\a")},
	} {
		var ve *ValidationError
		if _, err := f.svc.Create(t.Context(), f.owner, in); !errors.As(err, &ve) {
			t.Errorf("Create(%+v): %v, want a validation error", in, err)
		}
	}
	if _, err := f.svc.Create(t.Context(), f.owner, Input{Title: ptr(strings.Repeat("é", 100)), Description: ptr("line 1\n\tline 2")}); err != nil {
		t.Errorf("longest title: %v", err)
	}
}

func TestPermissions(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	pub, priv := f.room(t, false), f.room(t, true)

	// Visibility.
	for _, tc := range []struct {
		who  *store.User
		r    *store.Room
		want error
	}{
		{nil, pub, nil}, {f.other, pub, nil}, {nil, priv, ErrNotFound},
		{f.other, priv, ErrNotFound}, {f.owner, priv, nil}, {f.ad, priv, nil},
	} {
		if _, err := f.svc.Get(ctx, tc.who, tc.r.ID); !errors.Is(err, tc.want) || (tc.want == nil && err != nil) {
			t.Errorf("Get(%v, private=%v) = %v, want %v", tc.who, tc.r.Private, err, tc.want)
		}
	}
	// Managing: another user is refused, the owner and admins may.
	if _, err := f.svc.Update(ctx, f.other, pub.ID, Input{Title: ptr("x")}); !errors.Is(err, ErrForbidden) {
		t.Errorf("other updates public room: %v", err)
	}
	if _, err := f.svc.Update(ctx, f.other, priv.ID, Input{Title: ptr("x")}); !errors.Is(err, ErrNotFound) {
		t.Errorf("other updates private room: %v", err)
	}
	if _, err := f.svc.PushURL(ctx, f.other, pub.ID); !errors.Is(err, ErrForbidden) {
		t.Errorf("other gets push URL: %v", err)
	}
	if _, err := f.svc.Delete(ctx, nil, pub.ID); !errors.Is(err, ErrForbidden) {
		t.Errorf("anonymous deletes: %v", err)
	}
	r, err := f.svc.Update(ctx, f.ad, pub.ID, Input{Description: ptr("by admin"), Private: ptr(true)})
	if err != nil || r.Description != "by admin" || !r.Private || r.Title != "My room" {
		t.Fatalf("admin update = %+v, %v", r, err)
	}
	if _, err := f.svc.Update(ctx, f.owner, pub.ID, Input{Title: ptr("")}); err == nil {
		t.Error("empty title accepted")
	}
	if got, err := f.svc.Update(ctx, f.owner, pub.ID, Input{}); err != nil || got.Description != "by admin" {
		t.Errorf("empty update = %+v, %v", got, err)
	}
	if _, err := f.svc.Delete(ctx, f.owner, pub.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Get(ctx, f.owner, pub.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("after delete: %v", err)
	}
}

func TestList(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	pub, priv := f.room(t, false), f.room(t, true)
	ids := func(rs []store.Room) []string {
		var out []string
		for _, r := range rs {
			out = append(out, r.ID)
		}
		return out
	}
	for _, tc := range []struct {
		who  *store.User
		q    ListQuery
		want int
	}{
		{nil, ListQuery{}, 1},
		{f.other, ListQuery{}, 1},
		{f.owner, ListQuery{}, 1},
		{f.owner, ListQuery{OwnerID: f.owner.ID}, 2},
		{f.other, ListQuery{OwnerID: f.owner.ID}, 1},
		{f.ad, ListQuery{}, 2},
	} {
		rooms, _, err := f.svc.List(ctx, tc.who, tc.q)
		if err != nil || len(rooms) != tc.want {
			t.Errorf("List(%v, %+v) = %v, %v; want %d rooms", tc.who, tc.q, ids(rooms), err, tc.want)
		}
	}
	if _, err := f.svc.StreamPublished(ctx, priv.Stream, t0); err != nil {
		t.Fatal(err)
	}
	streams, err := f.svc.LiveStreams(ctx, f.owner.ID)
	if err != nil || len(streams) != 1 || streams[0] != priv.Stream {
		t.Fatalf("LiveStreams = %v, %v", streams, err)
	}
	if _, _, err := f.svc.List(ctx, nil, ListQuery{Status: "bogus"}); err == nil {
		t.Error("bad status accepted")
	}
	if _, _, err := f.svc.List(ctx, nil, ListQuery{Cursor: "bogus"}); !errors.Is(err, store.ErrInvalidCursor) {
		t.Errorf("bad cursor: %v", err)
	}
	_ = pub
}

func TestStreamEvents(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	r := f.room(t, false)
	at := t0.Add(time.Minute)
	got, err := f.svc.StreamPublished(ctx, r.Stream, at)
	if err != nil || got.ID != r.ID || got.Status != store.StatusLive || !got.LiveSince.Equal(at) {
		t.Fatalf("StreamPublished = %+v, %v", got, err)
	}
	end := at.Add(time.Hour)
	got, err = f.svc.StreamEnded(ctx, r.Stream, end)
	if err != nil || got.Status != store.StatusEnded || !got.EndedAt.Equal(end) || !got.LiveSince.Equal(at) {
		t.Fatalf("StreamEnded = %+v, %v", got, err)
	}
	for _, s := range []string{"s_unknown", "bad name!", ""} {
		if _, err := f.svc.StreamPublished(ctx, s, at); !errors.Is(err, ErrNotFound) {
			t.Errorf("StreamPublished(%q): %v, want ErrNotFound", s, err)
		}
		if _, err := f.svc.StreamEnded(ctx, s, at); !errors.Is(err, ErrNotFound) {
			t.Errorf("StreamEnded(%q): %v, want ErrNotFound", s, err)
		}
	}
	// The room's viewers: of the host's stream and of the programme.
	if n := f.svc.Viewers(r); n != len(r.Stream)+len(ProgrammeStream(r.Stream)) {
		t.Errorf("Viewers = %d", n)
	}
}

func TestURLs(t *testing.T) {
	f := newFixture(t)
	pub, priv := f.room(t, false), f.room(t, true)

	p, err := f.svc.PushURL(t.Context(), f.owner, pub.ID)
	if err != nil {
		t.Fatal(err)
	}
	wantExp := t0.Add(DefaultPushTTL)
	if p.Server != "rtmp://live.example.com:1935/live/" || p.Server+p.StreamKey != p.URL || !p.ExpiresAt.Equal(wantExp) {
		t.Fatalf("push URL = %+v", p)
	}
	u, err := url.Parse(p.URL)
	if err != nil || u.Path != "/live/"+pub.Stream || u.Query().Get("txTime") != auth.TxTime(wantExp) {
		t.Fatalf("push URL %q: %v", p.URL, err)
	}
	if err := f.svc.AuthorizePublish(t.Context(), pub.Stream, u.Query()); err != nil {
		t.Fatalf("AuthorizePublish(own push URL): %v", err)
	}

	// The play URLs carry the programme.
	pgm := ProgrammeStream(pub.Stream)
	if got := f.svc.PlayURLs(nil, pub); got == nil || got.ExpiresAt != nil ||
		got.RTMP != "rtmp://live.example.com:1935/live/"+pgm ||
		got.FLV != "https://live.example.com/live/"+pgm+".flv" ||
		got.WSFLV != "wss://live.example.com/live/"+pgm+".flv" ||
		got.HLS != "https://live.example.com/live/"+pgm+".m3u8" {
		t.Fatalf("public play URLs = %+v", got)
	}
	if got := f.svc.PlayURLs(f.other, priv); got != nil {
		t.Fatalf("other user gets private play URLs %+v", got)
	}
	got := f.svc.PlayURLs(f.ad, priv)
	if got == nil || got.ExpiresAt == nil || !got.ExpiresAt.Equal(t0.Add(DefaultPlayTTL)) {
		t.Fatalf("private play URLs = %+v", got)
	}
	verifier := auth.Signer{Key: playKey, Now: func() time.Time { return t0 }}
	for _, raw := range []string{got.RTMP, got.FLV, got.WSFLV, got.HLS} {
		u, err := url.Parse(raw)
		if err != nil {
			t.Fatal(err)
		}
		if err := verifier.Verify(priv.Stream, u.Query()); err != nil {
			t.Errorf("%s: %v", raw, err)
		}
		if err := f.svc.AuthorizePlay(t.Context(), priv.Stream, u.Query()); err != nil {
			t.Errorf("AuthorizePlay(%s): %v", raw, err)
		}
	}
}

func TestNewConfig(t *testing.T) {
	f := newFixture(t)
	for _, cfg := range []Config{
		{PlayKey: "b"},
		{PushKey: "a"},
		{PushKey: "a", PlayKey: "a"},
		{PushKey: "a", PlayKey: "b", PublicURL: "ftp://x"},
		{PushKey: "a", PlayKey: "b", PublicURL: "http://x?q=1"},
		{PushKey: "a", PlayKey: "b", PublicRTMP: "http://x"},
		{PushKey: "a", PlayKey: "b", App: "a/b"},
		{PushKey: "a", PlayKey: "b", PushTTL: time.Millisecond},
	} {
		if _, err := New(f.db, cfg); err == nil {
			t.Errorf("New(%+v) accepted", cfg)
		}
	}
	s, err := New(f.db, Config{PushKey: "a", PlayKey: "b"})
	if err != nil {
		t.Fatal(err)
	}
	c := s.Config()
	if c.PushTTL != DefaultPushTTL || c.PlayTTL != DefaultPlayTTL || c.PublicURL != DefaultPublicURL ||
		c.PublicRTMP != DefaultPublicRTMP || c.App != DefaultApp {
		t.Fatalf("defaults = %+v", c)
	}
	if got := s.SignPush("s1").URL; !strings.HasPrefix(got, "rtmp://127.0.0.1:1935/live/s1?txSecret=") {
		t.Fatalf("SignPush = %q", got)
	}
}
