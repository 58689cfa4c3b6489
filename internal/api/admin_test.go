package api

import (
	"errors"
	"net/http"
	"testing"
	"time"

	"roomcast/internal/auth"
	"roomcast/internal/hub"
	"roomcast/internal/room"
)

func TestAdminOnlyEndpoints(t *testing.T) {
	e := newEnv(t)
	userToken, userID := e.register("alice")
	admin, _ := e.admin("root")
	for _, ep := range []struct{ method, path string }{
		{"GET", "/api/v1/streams"},
		{"GET", "/api/v1/streams/s1"},
		{"DELETE", "/api/v1/streams/s1"},
		{"GET", "/api/v1/users"},
		{"POST", "/api/v1/users/" + userID + "/ban"},
		{"POST", "/api/v1/users/" + userID + "/unban"},
	} {
		what := ep.method + " " + ep.path
		expect(t, what+" anonymous", e.request(ep.method, ep.path, "", nil), http.StatusUnauthorized, "unauthorized")
		expect(t, what+" bad token", e.request(ep.method, ep.path, "nope", nil), http.StatusUnauthorized, "unauthorized")
		expect(t, what+" user", e.request(ep.method, ep.path, userToken, nil), http.StatusForbidden, "forbidden")
	}

	r := e.request("GET", "/api/v1/streams", admin, nil)
	expect(t, "streams", r, http.StatusOK, "")
	if string(r.body) != "{\"streams\":[]}\n" {
		t.Errorf("no streams = %s", r.body)
	}
	expect(t, "missing stream", e.request("GET", "/api/v1/streams/s1", admin, nil), http.StatusNotFound, "stream_not_found")
	expect(t, "bad stream name", e.request("GET", "/api/v1/streams/a.b", admin, nil), http.StatusBadRequest, "invalid_stream_name")
	expect(t, "kick missing", e.request("DELETE", "/api/v1/streams/s1", admin, nil), http.StatusNotFound, "stream_not_found")

	pub, err := e.hub.Publish("s1", hub.PublisherInfo{Protocol: "rtmp", RemoteAddr: "192.0.2.1:5000"})
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close(nil)
	r = e.request("GET", "/api/v1/streams", admin, nil)
	var list struct{ Streams []hub.Stats }
	r.decode(t, &list)
	if len(list.Streams) != 1 || list.Streams[0].Name != "s1" || !list.Streams[0].Live {
		t.Fatalf("streams = %s", r.body)
	}
	expect(t, "stream stats", e.request("GET", "/api/v1/streams/s1", admin, nil), http.StatusOK, "")
	expect(t, "kick", e.request("DELETE", "/api/v1/streams/s1", admin, nil), http.StatusNoContent, "")
	if s := e.hub.Stream("s1"); s != nil && s.Live() {
		t.Fatal("publisher still connected after kick")
	}

	r = e.request("GET", "/api/v1/users?limit=1", admin, nil)
	expect(t, "users page 1", r, http.StatusOK, "")
	var users struct {
		Users      []userView `json:"users"`
		NextCursor string     `json:"next_cursor"`
	}
	r.decode(t, &users)
	if len(users.Users) != 1 || users.Users[0].Name != "alice" || users.NextCursor == "" {
		t.Fatalf("users page 1 = %s", r.body)
	}
	r = e.request("GET", "/api/v1/users?limit=1&cursor="+users.NextCursor, admin, nil)
	r.decode(t, &users)
	if len(users.Users) != 1 || users.Users[0].Name != "root" || users.Users[0].Role != "admin" || users.NextCursor != "" {
		t.Fatalf("users page 2 = %s", r.body)
	}
	expect(t, "users bad cursor", e.request("GET", "/api/v1/users?cursor=x", admin, nil), http.StatusBadRequest, "invalid_request")
}

func TestBanUnban(t *testing.T) {
	e := newEnv(t)
	alice, aliceID := e.register("alice")
	admin, adminID := e.admin("root")
	rm := e.createRoom(alice, "soon banned", false)

	// Alice is live when she is banned.
	pub, err := e.hub.Publish(rm.Stream, hub.PublisherInfo{Protocol: "rtmp"})
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close(nil)
	if _, err := e.rooms.StreamPublished(t.Context(), rm.Stream, time.Now()); err != nil {
		t.Fatal(err)
	}
	push := (&auth.Signer{Key: testPushKey}).Sign(rm.Stream, time.Now().Add(time.Hour))
	if err := e.rooms.AuthorizePublish(t.Context(), rm.Stream, push); err != nil {
		t.Fatal(err)
	}

	r := e.request("POST", "/api/v1/users/"+aliceID+"/ban", admin, nil)
	expect(t, "ban", r, http.StatusOK, "")
	var u userView
	r.decode(t, &u)
	if !u.Banned || u.ID != aliceID {
		t.Fatalf("ban = %s", r.body)
	}
	if s := e.hub.Stream(rm.Stream); s != nil && s.Live() {
		t.Error("the banned user's stream still has its publisher")
	}
	expect(t, "banned session", e.request("GET", "/api/v1/me", alice, nil), http.StatusUnauthorized, "unauthorized")
	expect(t, "banned login", e.request("POST", "/api/v1/auth/login", "", map[string]string{"name": "alice", "password": testPass}),
		http.StatusForbidden, "banned")
	expect(t, "banned login, wrong password", e.request("POST", "/api/v1/auth/login", "", map[string]string{"name": "alice", "password": "wrong password"}),
		http.StatusUnauthorized, "invalid_credentials")
	if err := e.rooms.AuthorizePublish(t.Context(), rm.Stream, push); err == nil {
		t.Fatal("a banned user's room may publish")
	} else if !isOwnerBanned(err) {
		t.Fatalf("AuthorizePublish: %v, want ErrOwnerBanned", err)
	}
	expect(t, "ban again", e.request("POST", "/api/v1/users/"+aliceID+"/ban", admin, nil), http.StatusOK, "")

	expect(t, "ban self", e.request("POST", "/api/v1/users/"+adminID+"/ban", admin, nil), http.StatusConflict, "conflict")
	expect(t, "ban missing", e.request("POST", "/api/v1/users/user_nope/ban", admin, nil), http.StatusNotFound, "not_found")
	expect(t, "unban missing", e.request("POST", "/api/v1/users/user_nope/unban", admin, nil), http.StatusNotFound, "not_found")

	r = e.request("POST", "/api/v1/users/"+aliceID+"/unban", admin, nil)
	expect(t, "unban", r, http.StatusOK, "")
	r.decode(t, &u)
	if u.Banned {
		t.Fatalf("unban = %s", r.body)
	}
	expect(t, "login after unban", e.request("POST", "/api/v1/auth/login", "", map[string]string{"name": "alice", "password": testPass}), http.StatusOK, "")
	if err := e.rooms.AuthorizePublish(t.Context(), rm.Stream, push); err != nil {
		t.Fatalf("AuthorizePublish after unban: %v", err)
	}
}

func isOwnerBanned(err error) bool {
	return err != nil && errors.Is(err, room.ErrOwnerBanned) && errors.Is(err, room.ErrDenied)
}
