package api

import (
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"roomcast/internal/auth"
	"roomcast/internal/hub"
	"roomcast/internal/room"
	"roomcast/internal/store"
)

func TestRoomCRUDAndPermissions(t *testing.T) {
	e := newEnv(t)
	alice, aliceID := e.register("alice")
	bob, _ := e.register("bob")
	admin, _ := e.admin("root")

	expect(t, "create anonymous", e.request("POST", "/api/v1/rooms", "", map[string]any{"title": "x"}), http.StatusUnauthorized, "unauthorized")
	r := e.request("POST", "/api/v1/rooms", alice, map[string]any{"title": "  Alice live  ", "description": "hello"})
	expect(t, "create", r, http.StatusCreated, "")
	var rm roomAnswer
	r.decode(t, &rm)
	if rm.Title != "Alice live" || rm.Description != "hello" || rm.Private || rm.Status != "idle" || rm.LiveSince != nil ||
		rm.Owner.ID != aliceID || rm.Owner.Name != "alice" || rm.Viewers != 0 || rm.Likes != 0 ||
		!strings.HasPrefix(rm.ID, "room_") || !strings.HasPrefix(rm.Stream, "s_") || rm.Play == nil {
		t.Fatalf("created room = %s", r.body)
	}
	if loc := r.Header.Get("Location"); loc != "/api/v1/rooms/"+rm.ID {
		t.Errorf("Location = %q", loc)
	}
	for _, body := range []map[string]any{
		{},
		{"title": ""},
		{"title": strings.Repeat("t", 101)},
		{"title": "ok", "description": strings.Repeat("d", 2001)},
	} {
		expect(t, fmt.Sprint("create ", body), e.request("POST", "/api/v1/rooms", alice, body), http.StatusBadRequest, "validation_failed")
	}
	expect(t, "create with wrong type", e.request("POST", "/api/v1/rooms", alice, map[string]any{"title": 5}), http.StatusBadRequest, "invalid_request")

	path := "/api/v1/rooms/" + rm.ID
	expect(t, "get anonymous", e.request("GET", path, "", nil), http.StatusOK, "")
	expect(t, "get missing", e.request("GET", "/api/v1/rooms/room_nope", "", nil), http.StatusNotFound, "not_found")

	// Bob may not edit, delete or get a push URL for Alice's room.
	expect(t, "bob patch", e.request("PATCH", path, bob, map[string]any{"title": "mine"}), http.StatusForbidden, "forbidden")
	expect(t, "bob delete", e.request("DELETE", path, bob, nil), http.StatusForbidden, "forbidden")
	expect(t, "bob push-url", e.request("POST", path+"/push-url", bob, nil), http.StatusForbidden, "forbidden")
	expect(t, "anonymous patch", e.request("PATCH", path, "", map[string]any{"title": "x"}), http.StatusUnauthorized, "unauthorized")
	expect(t, "anonymous push-url", e.request("POST", path+"/push-url", "", nil), http.StatusUnauthorized, "unauthorized")

	// The owner may.
	r = e.request("PATCH", path, alice, map[string]any{"title": "Renamed", "description": nil})
	expect(t, "owner patch", r, http.StatusOK, "")
	r.decode(t, &rm)
	if rm.Title != "Renamed" || rm.Description != "hello" {
		t.Fatalf("after patch = %s", r.body)
	}
	expect(t, "owner patch invalid", e.request("PATCH", path, alice, map[string]any{"title": " "}), http.StatusBadRequest, "validation_failed")
	r = e.request("POST", path+"/push-url", alice, nil)
	expect(t, "owner push-url", r, http.StatusOK, "")
	// The URL reads as it is used: "&", not "\u0026", in the raw body.
	if !strings.Contains(string(r.body), "&txTime=") {
		t.Fatalf("push-url body %s: want a literal & before txTime", r.body)
	}

	// An admin may too.
	r = e.request("PATCH", path, admin, map[string]any{"description": "moderated"})
	expect(t, "admin patch", r, http.StatusOK, "")
	r.decode(t, &rm)
	if rm.Description != "moderated" || rm.Owner.ID != aliceID || rm.Owner.Name != "alice" {
		t.Fatalf("after admin patch = %s", r.body)
	}
	expect(t, "admin push-url", e.request("POST", path+"/push-url", admin, nil), http.StatusOK, "")

	// Private rooms do not exist for others.
	priv := e.createRoom(alice, "secret", true)
	ppath := "/api/v1/rooms/" + priv.ID
	expect(t, "bob get private", e.request("GET", ppath, bob, nil), http.StatusNotFound, "not_found")
	expect(t, "anonymous get private", e.request("GET", ppath, "", nil), http.StatusNotFound, "not_found")
	expect(t, "bob patch private", e.request("PATCH", ppath, bob, map[string]any{"title": "x"}), http.StatusNotFound, "not_found")
	expect(t, "bob push-url private", e.request("POST", ppath+"/push-url", bob, nil), http.StatusNotFound, "not_found")
	expect(t, "admin get private", e.request("GET", ppath, admin, nil), http.StatusOK, "")
	expect(t, "admin delete private", e.request("DELETE", ppath, admin, nil), http.StatusNoContent, "")
	expect(t, "get deleted", e.request("GET", ppath, alice, nil), http.StatusNotFound, "not_found")

	// Deleting a live room kicks its publisher.
	pub, err := e.hub.Publish(rm.Stream, hub.PublisherInfo{Protocol: "rtmp"})
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close(nil)
	expect(t, "owner delete", e.request("DELETE", path, alice, nil), http.StatusNoContent, "")
	if s := e.hub.Stream(rm.Stream); s != nil && s.Live() {
		t.Error("the deleted room's stream still has its publisher")
	}
	expect(t, "delete again", e.request("DELETE", path, alice, nil), http.StatusNotFound, "not_found")
}

func TestListRooms(t *testing.T) {
	e := newEnv(t)
	alice, _ := e.register("alice")
	bob, _ := e.register("bob")
	admin, _ := e.admin("root")
	ctx := t.Context()

	var all []roomAnswer
	for i := range 7 {
		all = append(all, e.createRoom(alice, fmt.Sprint("room ", i), false))
	}
	priv := e.createRoom(alice, "private", true)
	bobs := e.createRoom(bob, "bob's", false)

	// Two rooms go live, one after the other; one ends.
	base := time.Now().UTC()
	for i, idx := range []int{2, 5, 6} {
		if _, err := e.rooms.StreamPublished(ctx, all[idx].Stream, base.Add(time.Duration(i)*time.Second)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.rooms.StreamEnded(ctx, all[6].Stream, base.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}

	list := func(token, query string) ([]roomAnswer, string) {
		t.Helper()
		r := e.request("GET", "/api/v1/rooms"+query, token, nil)
		expect(t, "list "+query, r, http.StatusOK, "")
		var out struct {
			Rooms      []roomAnswer `json:"rooms"`
			NextCursor string       `json:"next_cursor"`
		}
		r.decode(t, &out)
		return out.Rooms, out.NextCursor
	}
	ids := func(rs []roomAnswer) string {
		var s []string
		for _, r := range rs {
			s = append(s, r.Title)
		}
		return strings.Join(s, ",")
	}

	live, next := list("", "?status=live")
	if ids(live) != "room 5,room 2" || next != "" || live[0].Status != "live" || live[0].LiveSince == nil {
		t.Fatalf("live rooms = %s (next %q)", ids(live), next)
	}
	ended, _ := list("", "?status=ended")
	if ids(ended) != "room 6" {
		t.Fatalf("ended rooms = %s", ids(ended))
	}

	// Paging through all public rooms, newest first, 3 at a time.
	var got []roomAnswer
	cursor, pages := "", 0
	for {
		q := "?status=all&limit=3"
		if cursor != "" {
			q += "&cursor=" + url.QueryEscape(cursor)
		}
		page, next := list("", q)
		pages++
		if len(page) > 3 {
			t.Fatalf("page of %d", len(page))
		}
		got = append(got, page...)
		if next == "" {
			break
		}
		cursor = next
	}
	want := []string{bobs.Title}
	for i := len(all) - 1; i >= 0; i-- {
		want = append(want, all[i].Title)
	}
	if ids(got) != strings.Join(want, ",") || pages != 3 {
		t.Fatalf("paged = %s in %d pages, want %s", ids(got), pages, strings.Join(want, ","))
	}

	// Private rooms: only for the owner's own listing and admins.
	has := func(rs []roomAnswer, id string) bool {
		for _, r := range rs {
			if r.ID == id {
				return true
			}
		}
		return false
	}
	if rs, _ := list(bob, "?limit=100"); has(rs, priv.ID) {
		t.Error("bob lists alice's private room")
	}
	if rs, _ := list(alice, "?limit=100"); has(rs, priv.ID) {
		t.Error("the public listing has a private room")
	}
	if rs, _ := list(alice, "?owner=me&limit=100"); !has(rs, priv.ID) || has(rs, bobs.ID) || len(rs) != 8 {
		t.Errorf("alice's own rooms = %s", ids(rs))
	}
	if rs, _ := list(admin, "?limit=100"); !has(rs, priv.ID) || len(rs) != 9 {
		t.Errorf("admin's listing = %s", ids(rs))
	}

	for _, q := range []string{"?status=bogus", "?limit=0", "?limit=101", "?limit=x"} {
		expect(t, "list "+q, e.request("GET", "/api/v1/rooms"+q, "", nil), http.StatusBadRequest, "validation_failed")
	}
	expect(t, "bad cursor", e.request("GET", "/api/v1/rooms?cursor=bogus", "", nil), http.StatusBadRequest, "invalid_request")
	_, liveCursor := list("", "?status=live&limit=1")
	if liveCursor == "" {
		t.Fatal("no cursor after the first live room")
	}
	expect(t, "live cursor on all", e.request("GET", "/api/v1/rooms?cursor="+url.QueryEscape(liveCursor), "", nil), http.StatusBadRequest, "invalid_request")
	expect(t, "owner=me anonymous", e.request("GET", "/api/v1/rooms?owner=me", "", nil), http.StatusUnauthorized, "unauthorized")
	expect(t, "list with a bad token", e.request("GET", "/api/v1/rooms", "bad-token", nil), http.StatusUnauthorized, "unauthorized")
}

func TestPlayURLs(t *testing.T) {
	e := newEnv(t)
	alice, _ := e.register("alice")
	admin, _ := e.admin("root")
	pub := e.createRoom(alice, "public", false)
	priv := e.createRoom(alice, "private", true)

	pgm := room.ProgrammeStream(pub.Stream) // the play URLs carry the programme
	wantPublic := playView{
		RTMP:  "rtmp://live.test:1935/live/" + pgm,
		FLV:   "http://live.test:8080/live/" + pgm + ".flv",
		WSFLV: "ws://live.test:8080/live/" + pgm + ".flv",
		HLS:   "http://live.test:8080/live/" + pgm + ".m3u8",
		WHEP:  "http://live.test:8080/live/" + pgm + "/whep",
	}
	var got roomAnswer
	e.request("GET", "/api/v1/rooms/"+pub.ID, "", nil).decode(t, &got)
	if got.Play == nil || !reflect.DeepEqual(*got.Play, wantPublic) {
		t.Fatalf("public play = %+v, want %+v", got.Play, wantPublic)
	}
	if err := e.rooms.AuthorizePlay(t.Context(), pub.Stream, nil); err != nil {
		t.Fatalf("public room refused without signature: %v", err)
	}

	for _, token := range []string{alice, admin} {
		var pr roomAnswer
		r := e.request("GET", "/api/v1/rooms/"+priv.ID, token, nil)
		expect(t, "get private", r, http.StatusOK, "")
		r.decode(t, &pr)
		p := pr.Play
		if p == nil || p.ExpiresAt == nil {
			t.Fatalf("private play = %s", r.body)
		}
		if d := time.Until(*p.ExpiresAt); d < 2*time.Hour-time.Minute || d > 2*time.Hour {
			t.Errorf("play URLs expire in %s, want 2h", d)
		}
		verifier := auth.Signer{Key: testPlayKey}
		for _, raw := range []string{p.RTMP, p.FLV, p.WSFLV, p.HLS, p.WHEP} {
			u, err := url.Parse(raw)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(u.Path, priv.Stream) {
				t.Errorf("%s does not name the stream", raw)
			}
			if err := verifier.Verify(priv.Stream, u.Query()); err != nil {
				t.Errorf("%s: not signed with the play key: %v", raw, err)
			}
			if err := (&auth.Signer{Key: testPushKey}).Verify(priv.Stream, u.Query()); err == nil {
				t.Errorf("%s: verifies with the push key", raw)
			}
			if err := e.rooms.AuthorizePlay(t.Context(), priv.Stream, u.Query()); err != nil {
				t.Errorf("AuthorizePlay(%s): %v", raw, err)
			}
		}
	}
	if err := e.rooms.AuthorizePlay(t.Context(), priv.Stream, nil); err == nil {
		t.Error("private room plays without a signature")
	}
	expired := (&auth.Signer{Key: testPlayKey}).Sign(priv.Stream, time.Now().Add(-time.Minute))
	if err := e.rooms.AuthorizePlay(t.Context(), priv.Stream, expired); err == nil {
		t.Error("private room plays with an expired signature")
	}
}

func TestPushURL(t *testing.T) {
	e := newEnv(t)
	alice, _ := e.register("alice")
	rm := e.createRoom(alice, "push", false)
	other := e.createRoom(alice, "other", false)

	r := e.request("POST", "/api/v1/rooms/"+rm.ID+"/push-url", alice, nil)
	expect(t, "push-url", r, http.StatusOK, "")
	var p struct {
		URL       string    `json:"url"`
		Server    string    `json:"server"`
		StreamKey string    `json:"stream_key"`
		WHIP      string    `json:"whip"`
		ExpiresAt time.Time `json:"expires_at"`
	}
	r.decode(t, &p)
	if want := "http://live.test:8080/live/" + rm.Stream + "/whip?"; !strings.HasPrefix(p.WHIP, want) || !strings.HasSuffix(p.WHIP, "?"+strings.SplitN(p.URL, "?", 2)[1]) {
		t.Fatalf("whip %q, want %s with the push URL's signature", p.WHIP, want)
	}
	u, err := url.Parse(p.URL)
	if err != nil {
		t.Fatal(err)
	}
	if u.Scheme != "rtmp" || u.Host != "live.test:1935" || u.Path != "/live/"+rm.Stream {
		t.Fatalf("push URL %q", p.URL)
	}
	q := u.Query()
	if len(q) != 2 || q.Get("txSecret") == "" || q.Get("txTime") == "" {
		t.Fatalf("push URL query %q", u.RawQuery)
	}
	if p.Server != "rtmp://live.test:1935/live/" || p.StreamKey != rm.Stream+"?"+u.RawQuery || p.Server+p.StreamKey != p.URL {
		t.Fatalf("OBS form: server %q, stream key %q, URL %q", p.Server, p.StreamKey, p.URL)
	}
	if q.Get("txTime") != auth.TxTime(p.ExpiresAt) {
		t.Errorf("txTime %s, expires_at %s", q.Get("txTime"), p.ExpiresAt)
	}
	if d := time.Until(p.ExpiresAt); d < 24*time.Hour-time.Minute || d > 24*time.Hour {
		t.Errorf("push URL expires in %s, want 24h", d)
	}
	if err := (&auth.Signer{Key: testPushKey}).Verify(rm.Stream, q); err != nil {
		t.Fatalf("push URL does not verify with the push key: %v", err)
	}
	if err := (&auth.Signer{Key: testPushKey}).Verify(other.Stream, q); err == nil {
		t.Fatal("push URL verifies for another stream")
	}
	if err := e.rooms.AuthorizePublish(t.Context(), rm.Stream, q); err != nil {
		t.Fatalf("AuthorizePublish(push URL): %v", err)
	}
	if err := e.rooms.AuthorizePublish(t.Context(), other.Stream, q); err == nil {
		t.Fatal("the push URL of one room publishes another")
	}
}

func TestViewersFromHub(t *testing.T) {
	e := newEnv(t)
	alice, _ := e.register("alice")
	rm := e.createRoom(alice, "watched", false)
	pub, err := e.hub.Publish(rm.Stream, hub.PublisherInfo{Protocol: "rtmp"})
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close(nil)
	if _, err := e.rooms.StreamPublished(t.Context(), rm.Stream, time.Now()); err != nil {
		t.Fatal(err)
	}
	for _, proto := range []string{"rtmp", "flv", "flv"} {
		sub, err := e.hub.Subscribe(rm.Stream, proto)
		if err != nil {
			t.Fatal(err)
		}
		defer sub.Close()
	}
	e.hub.Stream(rm.Stream).SetViewers("hls", 2)
	var got roomAnswer
	e.request("GET", "/api/v1/rooms/"+rm.ID, "", nil).decode(t, &got)
	if got.Viewers != 5 || got.Status != store.StatusLive || got.LiveSince == nil {
		t.Fatalf("room = %+v, want 5 viewers, live", got)
	}
}
