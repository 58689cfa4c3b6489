package api

import (
	"net/http"
	"testing"

	"roomcast/internal/hub"
)

func TestRoomStream(t *testing.T) {
	e := newEnv(t)
	alice, _ := e.register("alice")
	bob, _ := e.register("bob")
	admin, _ := e.admin("root")
	rm := e.createRoom(alice, "health", false)
	priv := e.createRoom(alice, "hidden", true)
	path := "/api/v1/rooms/" + rm.ID + "/stream"

	expect(t, "anonymous", e.request("GET", path, "", nil), http.StatusUnauthorized, "unauthorized")
	expect(t, "other user", e.request("GET", path, bob, nil), http.StatusForbidden, "forbidden")
	expect(t, "other user, private room", e.request("GET", "/api/v1/rooms/"+priv.ID+"/stream", bob, nil), http.StatusNotFound, "not_found")
	expect(t, "no such room", e.request("GET", "/api/v1/rooms/room_nope/stream", alice, nil), http.StatusNotFound, "not_found")
	expect(t, "not live", e.request("GET", path, alice, nil), http.StatusNotFound, "stream_not_found")

	pub, err := e.hub.Publish(rm.Stream, hub.PublisherInfo{Protocol: "rtmp", RemoteAddr: "192.0.2.1:5000"})
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close(nil)
	for who, token := range map[string]string{"owner": alice, "admin": admin} {
		r := e.request("GET", path, token, nil)
		expect(t, who, r, http.StatusOK, "")
		var st hub.Stats
		r.decode(t, &st)
		if st.Name != rm.Stream || !st.Live || st.Publisher == nil || st.Publisher.Protocol != "rtmp" {
			t.Errorf("%s: stats = %s", who, r.body)
		}
	}
	expect(t, "other user while live", e.request("GET", path, bob, nil), http.StatusForbidden, "forbidden")
}
