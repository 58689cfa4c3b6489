package api

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"roomcast/internal/store"
)

// addRecording stores a finished recording of room started at minute i.
func (e *env) addRecording(roomID, stream string, i int, status string) string {
	e.t.Helper()
	id := fmt.Sprintf("rec_%s_%02d", strings.TrimPrefix(roomID, "room_")[:6], i)
	start := time.Date(2026, 1, 1, 0, i, 0, 0, time.UTC)
	end := start.Add(30 * time.Second)
	rec := &store.Recording{ID: id, RoomID: roomID, Stream: stream, Status: status, StartedAt: start,
		DurationMS: 30000, Bytes: 1000, Segments: 15}
	if status != store.RecordingActive {
		rec.EndedAt = &end
	}
	if err := e.db.CreateRecording(e.t.Context(), rec); err != nil {
		e.t.Fatal(err)
	}
	return id
}

type replayAnswer struct {
	ID         string `json:"id"`
	RoomID     string `json:"room_id"`
	Status     string `json:"status"`
	DurationMS int64  `json:"duration_ms"`
	Bytes      int64  `json:"bytes"`
	Segments   int    `json:"segments"`
	URL        string `json:"url"`
}

func TestReplayListPaging(t *testing.T) {
	e := newEnv(t)
	tok, _ := e.register("alice")
	rm := e.createRoom(tok, "r", false)
	other := e.createRoom(tok, "other", false)
	var want []string
	for i := range 5 {
		want = append(want, e.addRecording(rm.ID, rm.Stream, i, store.RecordingReady))
	}
	e.addRecording(other.ID, other.Stream, 9, store.RecordingReady)
	slices.Reverse(want) // newest first

	var got []string
	cursor := ""
	for page := 0; ; page++ {
		if page > 5 {
			t.Fatal("paging does not end")
		}
		r := e.request("GET", "/api/v1/rooms/"+rm.ID+"/replays?limit=2&cursor="+url.QueryEscape(cursor), "", nil)
		expect(t, "list replays", r, http.StatusOK, "")
		var l struct {
			Replays    []replayAnswer `json:"replays"`
			NextCursor string         `json:"next_cursor"`
		}
		r.decode(t, &l)
		if len(l.Replays) > 2 {
			t.Fatalf("page of %d", len(l.Replays))
		}
		for _, v := range l.Replays {
			got = append(got, v.ID)
			if v.RoomID != rm.ID || v.Status != store.RecordingReady || v.DurationMS != 30000 || v.Bytes != 1000 || v.Segments != 15 {
				t.Errorf("view %+v", v)
			}
			if v.URL != "http://live.test:8080/vod/"+v.ID+"/index.m3u8" {
				t.Errorf("url %q", v.URL)
			}
		}
		if l.NextCursor == "" {
			break
		}
		cursor = l.NextCursor
	}
	if !slices.Equal(got, want) {
		t.Fatalf("replays %v, want %v", got, want)
	}
	r := e.request("GET", "/api/v1/rooms/"+rm.ID+"/replays?cursor=bogus", "", nil)
	expect(t, "bad cursor", r, http.StatusBadRequest, "")
	r = e.request("GET", "/api/v1/rooms/room_nope/replays", "", nil)
	expect(t, "unknown room", r, http.StatusNotFound, "not_found")
}

func TestReplayPermissions(t *testing.T) {
	e := newEnv(t)
	owner, _ := e.register("owner")
	stranger, _ := e.register("stranger")
	admin, _ := e.admin("root")
	pub := e.createRoom(owner, "public", false)
	priv := e.createRoom(owner, "private", true)
	pubRec := e.addRecording(pub.ID, pub.Stream, 1, store.RecordingReady)
	privRec := e.addRecording(priv.ID, priv.Stream, 2, store.RecordingReady)
	active := e.addRecording(pub.ID, pub.Stream, 3, store.RecordingActive)

	// Visibility follows the room.
	for _, c := range []struct {
		who, token, id string
		status         int
	}{
		{"anonymous, public", "", pubRec, http.StatusOK},
		{"anonymous, private", "", privRec, http.StatusNotFound},
		{"stranger, private", stranger, privRec, http.StatusNotFound},
		{"owner, private", owner, privRec, http.StatusOK},
		{"admin, private", admin, privRec, http.StatusOK},
		{"unknown", owner, "rec_nope", http.StatusNotFound},
	} {
		r := e.request("GET", "/api/v1/replays/"+c.id, c.token, nil)
		expect(t, c.who, r, c.status, "")
	}
	r := e.request("GET", "/api/v1/rooms/"+priv.ID+"/replays", stranger, nil)
	expect(t, "stranger lists private", r, http.StatusNotFound, "not_found")

	// A private replay's URL carries a play signature for its managers.
	r = e.request("GET", "/api/v1/replays/"+privRec, owner, nil)
	var v replayAnswer
	r.decode(t, &v)
	u, err := url.Parse(v.URL)
	if err != nil || u.Path != "/vod/"+privRec+"/index.m3u8" || u.Query().Get("txSecret") == "" || u.Query().Get("txTime") == "" {
		t.Errorf("private replay url %q", v.URL)
	}
	r = e.request("GET", "/api/v1/replays/"+pubRec, owner, nil)
	r.decode(t, &v)
	if strings.Contains(v.URL, "?") {
		t.Errorf("public replay url is signed: %q", v.URL)
	}

	// Deleting: owner or admin only; not while recording.
	r = e.request("DELETE", "/api/v1/replays/"+pubRec, "", nil)
	expect(t, "anonymous delete", r, http.StatusUnauthorized, "unauthorized")
	r = e.request("DELETE", "/api/v1/replays/"+pubRec, stranger, nil)
	expect(t, "stranger delete", r, http.StatusForbidden, "forbidden")
	r = e.request("DELETE", "/api/v1/replays/"+privRec, stranger, nil)
	expect(t, "stranger delete private", r, http.StatusNotFound, "not_found")
	r = e.request("DELETE", "/api/v1/replays/"+active, owner, nil)
	expect(t, "delete while recording", r, http.StatusConflict, "conflict")
	r = e.request("DELETE", "/api/v1/replays/"+pubRec, owner, nil)
	expect(t, "owner delete", r, http.StatusNoContent, "")
	r = e.request("DELETE", "/api/v1/replays/"+privRec, admin, nil)
	expect(t, "admin delete", r, http.StatusNoContent, "")
	r = e.request("GET", "/api/v1/replays/"+pubRec, owner, nil)
	expect(t, "deleted", r, http.StatusNotFound, "not_found")
	r = e.request("DELETE", "/api/v1/replays/"+pubRec, owner, nil)
	expect(t, "deleted twice", r, http.StatusNotFound, "not_found")
}

func TestRoomRecordSetting(t *testing.T) {
	e := newEnv(t)
	owner, _ := e.register("owner")
	stranger, _ := e.register("stranger")
	rm := e.createRoom(owner, "r", false)
	if !rm.Record {
		t.Fatal("record is off by default")
	}
	r := e.request("POST", "/api/v1/rooms", owner, map[string]any{"title": "no rec", "record": false})
	expect(t, "create without record", r, http.StatusCreated, "")
	var ra roomAnswer
	r.decode(t, &ra)
	if ra.Record {
		t.Fatal("record: false ignored on create")
	}
	r = e.request("PATCH", "/api/v1/rooms/"+rm.ID, stranger, map[string]any{"record": false})
	expect(t, "stranger patch", r, http.StatusForbidden, "forbidden")
	r = e.request("PATCH", "/api/v1/rooms/"+rm.ID, owner, map[string]any{"record": false})
	expect(t, "owner patch", r, http.StatusOK, "")
	r.decode(t, &ra)
	if ra.Record {
		t.Fatal("record: false ignored on patch")
	}
	stored, err := e.db.RoomByID(t.Context(), rm.ID)
	if err != nil || stored.Record {
		t.Fatalf("stored record = %v, %v", stored, err)
	}
	r = e.request("PATCH", "/api/v1/rooms/"+rm.ID, owner, map[string]any{"title": "renamed"})
	r.decode(t, &ra)
	if ra.Record || ra.Title != "renamed" {
		t.Fatalf("patch without record changed it: %+v", ra)
	}
}

// GET /replays lists the ready replays of every room the caller may see,
// newest first, each with its room, in pages that neither repeat nor skip.
func TestReplayListAcrossRooms(t *testing.T) {
	e := newEnv(t)
	alice, _ := e.register("alice")
	bob, _ := e.register("bob")
	pub := e.createRoom(alice, "public", false)
	priv := e.createRoom(alice, "hidden", true)
	var visible []string
	for i := range 5 {
		visible = append(visible, e.addRecording(pub.ID, pub.Stream, i, store.RecordingReady))
		e.addRecording(priv.ID, priv.Stream, 10+i, store.RecordingReady) // newer, but private
	}
	e.addRecording(pub.ID, pub.Stream, 20, store.RecordingActive) // newest, still recording
	e.addRecording(pub.ID, pub.Stream, 21, store.RecordingFailed)
	slices.Reverse(visible)

	type page struct {
		Replays []struct {
			replayAnswer
			Room *struct {
				ID    string `json:"id"`
				Title string `json:"title"`
				Owner struct {
					Name string `json:"name"`
				} `json:"owner"`
			} `json:"room"`
		} `json:"replays"`
		NextCursor string `json:"next_cursor"`
	}
	list := func(token string, limit int) []string {
		var got []string
		cursor := ""
		for n := 0; ; n++ {
			if n > 10 {
				t.Fatal("paging does not end")
			}
			r := e.request("GET", fmt.Sprintf("/api/v1/replays?limit=%d&cursor=%s", limit, url.QueryEscape(cursor)), token, nil)
			expect(t, "list all replays", r, http.StatusOK, "")
			var p page
			r.decode(t, &p)
			if len(p.Replays) > limit {
				t.Fatalf("page of %d, limit %d", len(p.Replays), limit)
			}
			for _, v := range p.Replays {
				if v.Status != store.RecordingReady || v.Room == nil || v.Room.ID != v.RoomID || v.Room.Owner.Name != "alice" {
					t.Fatalf("replay %+v room %+v", v.replayAnswer, v.Room)
				}
				got = append(got, v.ID)
			}
			if p.NextCursor == "" {
				return got
			}
			cursor = p.NextCursor
		}
	}
	for _, limit := range []int{2, 3, 100} {
		if got := list(bob, limit); !slices.Equal(got, visible) {
			t.Errorf("bob, limit %d: %v, want the public room's ready replays %v", limit, got, visible)
		}
		if got := list("", limit); !slices.Equal(got, visible) {
			t.Errorf("anonymous, limit %d: %v, want %v", limit, got, visible)
		}
	}
	if got := list(alice, 100); len(got) != 10 {
		t.Errorf("the owner sees %d replays, want 10 (her private room's too)", len(got))
	}
	expect(t, "bad cursor", e.request("GET", "/api/v1/replays?cursor=nope", "", nil), http.StatusBadRequest, "invalid_request")
}
