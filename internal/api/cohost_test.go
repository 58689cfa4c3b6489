package api

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"roomcast/internal/hub"
	"roomcast/internal/media"
	"roomcast/internal/room"
	"roomcast/internal/store"
	"roomcast/internal/user"
)

func TestCohostsAPI(t *testing.T) {
	var mu sync.Mutex
	var events []string
	e := newEnv(t, func(o *Options, _ *user.Config) {
		o.MemberChanged = func(_ context.Context, ev string, _ *store.Room, m *room.Member) {
			mu.Lock()
			events = append(events, ev+" "+m.UserID)
			mu.Unlock()
		}
	})
	alice, _ := e.register("alice")
	bob, bobID := e.register("bob")
	carol, carolID := e.register("carol")
	admin, _ := e.admin("root")
	var ids []string
	for _, n := range []string{"dave1", "dave2", "dave3"} {
		_, id := e.register(n)
		ids = append(ids, id)
	}
	rm := e.createRoom(alice, "stage", false)
	path := "/api/v1/rooms/" + rm.ID + "/cohosts"

	expect(t, "anonymous", e.request("POST", path, "", map[string]string{"user_id": bobID}), http.StatusUnauthorized, "unauthorized")
	expect(t, "a third user adds", e.request("POST", path, carol, map[string]string{"user_id": bobID}), http.StatusForbidden, "forbidden")
	expect(t, "unknown user", e.request("POST", path, alice, map[string]string{"user_id": "user_nobody"}), http.StatusNotFound, "not_found")
	expect(t, "no user_id", e.request("POST", path, alice, map[string]string{}), http.StatusBadRequest, "validation_failed")
	expect(t, "unknown room", e.request("POST", "/api/v1/rooms/room_x/cohosts", alice, map[string]string{"user_id": bobID}), http.StatusNotFound, "not_found")

	r := e.request("POST", path, alice, map[string]string{"user_id": bobID})
	expect(t, "owner adds bob", r, http.StatusCreated, "")
	var got roomAnswer
	r.decode(t, &got)
	if len(got.Members) != 2 || got.Members[0].Role != "host" || got.Members[1].Role != "cohost" ||
		got.Members[1].User.ID != bobID || got.Members[1].User.Name != "bob" ||
		got.Members[1].Stream != rm.Stream+"-"+bobID || got.Members[1].Live || got.Members[1].Play == nil ||
		!strings.HasSuffix(got.Members[1].Play.FLV, "/live/"+rm.Stream+"-"+bobID+".flv") {
		t.Fatalf("members after adding bob: %+v", got.Members)
	}
	expect(t, "owner adds bob again", e.request("POST", path, alice, map[string]string{"user_id": bobID}), http.StatusOK, "")
	expect(t, "admin adds d1", e.request("POST", path, admin, map[string]string{"user_id": ids[0]}), http.StatusCreated, "")
	expect(t, "adds d2", e.request("POST", path, alice, map[string]string{"user_id": ids[1]}), http.StatusCreated, "")
	expect(t, "past the limit", e.request("POST", path, alice, map[string]string{"user_id": ids[2]}), http.StatusConflict, "too_many_cohosts")

	// Bob's push URL is for his own stream; carol gets none.
	var push pushView
	r = e.request("POST", "/api/v1/rooms/"+rm.ID+"/push-url", bob, nil)
	expect(t, "bob's push URL", r, http.StatusOK, "")
	r.decode(t, &push)
	u, _ := url.Parse(push.URL)
	if u.Path != "/live/"+rm.Stream+"-"+bobID {
		t.Fatalf("bob's push URL %s", push.URL)
	}
	expect(t, "carol's push URL", e.request("POST", "/api/v1/rooms/"+rm.ID+"/push-url", carol, nil), http.StatusForbidden, "forbidden")

	// Bob publishes; removing him ends his publish at once.
	stream := rm.Stream + "-" + bobID
	if err := e.rooms.AuthorizePublish(t.Context(), stream, u.Query()); err != nil {
		t.Fatal(err)
	}
	p, err := e.hub.Publish(stream, hub.PublisherInfo{Protocol: "test"})
	if err != nil {
		t.Fatal(err)
	}
	expect(t, "carol removes bob", e.request("DELETE", path+"/"+bobID, carol, nil), http.StatusForbidden, "forbidden")
	expect(t, "bob leaves", e.request("DELETE", path+"/"+bobID, bob, nil), http.StatusNoContent, "")
	if e.hub.Stream(stream) != nil && e.hub.Stream(stream).Live() {
		t.Errorf("bob's stream still has its publisher")
	}
	if err := p.Write(&media.Packet{Type: media.TagAudio, Data: []byte{0xaf, 1, 0}}); err == nil {
		t.Errorf("bob's publisher writes after his removal")
	}
	expect(t, "remove bob again", e.request("DELETE", path+"/"+bobID, alice, nil), http.StatusNotFound, "not_found")
	if err := e.rooms.AuthorizePublish(t.Context(), stream, u.Query()); err == nil {
		t.Errorf("bob may still publish after leaving")
	}
	expect(t, "owner removes d1", e.request("DELETE", path+"/"+ids[0], alice, nil), http.StatusNoContent, "")
	_ = carolID

	mu.Lock()
	defer mu.Unlock()
	want := []string{"member_joined " + bobID, "member_joined " + ids[0], "member_joined " + ids[1], "member_left " + bobID, "member_left " + ids[0]}
	if strings.Join(events, ",") != strings.Join(want, ",") {
		t.Errorf("member events %v, want %v", events, want)
	}
}

// TestCohostStreamsEnd: banning a co-host and deleting a room end the
// co-hosts' publishes too.
func TestCohostStreamsEnd(t *testing.T) {
	e := newEnv(t)
	alice, _ := e.register("alice")
	_, bobID := e.register("bob")
	_, carolID := e.register("carol")
	admin, _ := e.admin("root")
	rm := e.createRoom(alice, "stage", false)
	for _, id := range []string{bobID, carolID} {
		expect(t, "add", e.request("POST", "/api/v1/rooms/"+rm.ID+"/cohosts", alice, map[string]string{"user_id": id}), http.StatusCreated, "")
	}
	publish := func(stream string) *hub.Publisher {
		p, err := e.hub.Publish(stream, hub.PublisherInfo{Protocol: "test"})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	packet := func() *media.Packet { return &media.Packet{Type: media.TagAudio, Data: []byte{0xaf, 1, 0}} }
	bob, carol := publish(rm.Stream+"-"+bobID), publish(rm.Stream+"-"+carolID)
	expect(t, "ban bob", e.request("POST", "/api/v1/users/"+bobID+"/ban", admin, nil), http.StatusOK, "")
	if bob.Write(packet()) == nil {
		t.Error("a banned co-host still publishes")
	}
	if carol.Write(packet()) != nil {
		t.Error("banning bob ended carol's publish")
	}
	expect(t, "delete room", e.request("DELETE", "/api/v1/rooms/"+rm.ID, alice, nil), http.StatusNoContent, "")
	if carol.Write(packet()) == nil {
		t.Error("a deleted room's co-host still publishes")
	}
}
