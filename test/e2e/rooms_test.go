package e2e

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"roomcast/internal/auth"
	"roomcast/internal/protocol/rtmp"
)

// Room statuses of the API.
const (
	statusIdle  = "idle"
	statusLive  = "live"
	statusEnded = "ended"
)

// endSlack allows for rounding when comparing a room's ended_at with the
// moment the test stopped its publisher.
const endSlack = 50 * time.Millisecond

// TestRoomLive goes through a public room's life with the real rules: two
// users register, one creates a room and asks for its push URL, ffmpeg
// publishes with exactly that URL, the room turns live and counts its
// viewer, its play URLs play, and once ffmpeg stops the room ends after the
// reconnect grace.
func TestRoomLive(t *testing.T) {
	srv := startServer(t, roomRules)
	ctx := testContext(t)
	begin := time.Now()
	alice := srv.register(ctx, t, "alice")
	bob := srv.register(ctx, t, "bob")

	rm := srv.createRoom(ctx, t, alice, "Friday night", false)
	if rm.Play == nil || rm.Play.ExpiresAt != nil || strings.Contains(rm.Play.FLV, auth.ParamTxSecret) {
		t.Errorf("public room: want unsigned play URLs without expiry, got %v", rm)
	}
	// A public room is visible to anyone, with the same play URLs.
	for _, who := range []account{{Name: "anonymous"}, bob} {
		r, _, err := srv.room(ctx, who.Token, rm.ID)
		if err != nil {
			t.Fatalf("%s: %v", who.Name, err)
		}
		if r.Status != statusIdle || r.Play == nil || *r.Play != *rm.Play || r.LiveSince != nil || r.EndedAt != nil {
			t.Errorf("%s sees %v, want the idle room with its play URLs", who.Name, r)
		}
	}

	push := srv.pushURL(ctx, t, alice, rm.ID)
	checkPushURL(t, srv, rm, push)

	pub := startPublisher(t, push.URL)
	live := srv.waitRoom(t, alice.Token, rm.ID, "live", liveTimeout, func(r roomJSON) bool { return r.Status == statusLive })
	if live.LiveSince == nil || live.EndedAt != nil {
		t.Errorf("live room: want live_since set and ended_at null, got %v", live)
	} else if live.LiveSince.Before(begin.Add(-time.Second)) || live.LiveSince.After(time.Now().Add(time.Second)) {
		t.Errorf("live_since %v is not during the test (started %v)", live.LiveSince, begin)
	}
	srv.waitLive(t, rm.Stream)
	var listing struct {
		Rooms []roomJSON `json:"rooms"`
	}
	srv.mustCall(ctx, t, http.MethodGet, "/api/v1/rooms?status=live", "", nil, http.StatusOK, &listing)
	if !slices.ContainsFunc(listing.Rooms, func(r roomJSON) bool { return r.ID == rm.ID }) {
		t.Errorf("GET /rooms?status=live does not list the live room: %+v", listing.Rooms)
	}

	// A viewer of the room's own play.flv is counted.
	viewer := startFLVViewer(t, live.Play.FLV)
	viewer.waitFrames(t, time.Time{}, 10, 10*time.Second)
	srv.waitRoom(t, "", rm.ID, "counting its HTTP-FLV viewer", 10*time.Second, func(r roomJSON) bool { return r.Viewers == 1 })
	viewer.close()
	srv.waitRoom(t, "", rm.ID, "without viewers after the viewer left", 10*time.Second, func(r roomJSON) bool { return r.Viewers == 0 })

	// The public play URLs play as they are.
	for _, tc := range []struct{ proto, url string }{
		{"http-flv", live.Play.FLV},
		{"rtmp", live.Play.RTMP},
		{"hls", live.Play.HLS},
	} {
		t.Run(tc.proto, func(t *testing.T) {
			if tc.proto == "hls" {
				waitSegments(t, tc.url, 2)
			}
			streams, err := ffprobe(ctx, t, tc.url)
			if err != nil {
				t.Fatal(err)
			}
			checkProbe(t, streams)
		})
	}

	stopping := time.Now()
	pub.stop(t, 10*time.Second)
	ended := srv.waitRoom(t, alice.Token, rm.ID, "ended", roomEndTimeout, func(r roomJSON) bool { return r.Status == statusEnded })
	t.Logf("room ended %v after ffmpeg was stopped (grace %v)", time.Since(stopping).Round(time.Millisecond), roomGrace)
	switch {
	case ended.EndedAt == nil || ended.LiveSince == nil:
		t.Errorf("ended room: want live_since and ended_at set, got %v", ended)
	case !ended.LiveSince.Equal(*live.LiveSince):
		t.Errorf("ended room: live_since changed from %v to %v", live.LiveSince, ended.LiveSince)
	case ended.EndedAt.Before(stopping.Add(roomGrace - endSlack)):
		t.Errorf("room ended at %v, %v after ffmpeg was stopped: before the %v reconnect grace was over",
			ended.EndedAt, ended.EndedAt.Sub(stopping), roomGrace)
	}
	if ended.Viewers != 0 {
		t.Errorf("ended room has %d viewers", ended.Viewers)
	}
	expectMediaError(ctx, t, live.Play.FLV, http.StatusNotFound, "stream_not_found")
}

// checkPushURL checks a push URL's forms and signature.
func checkPushURL(t *testing.T, srv *testServer, rm roomJSON, push pushJSON) {
	t.Helper()
	if push.Server+push.StreamKey != push.URL {
		t.Errorf("push URL %q is not server %q + stream_key %q", push.URL, push.Server, push.StreamKey)
	}
	if push.Server != "rtmp://"+srv.rtmpAddr+"/live/" {
		t.Errorf("push server %q, want rtmp://%s/live/", push.Server, srv.rtmpAddr)
	}
	base, query, _ := strings.Cut(push.URL, "?")
	if base != srv.rtmpURL(rm.Stream) {
		t.Errorf("push URL %q is not for stream %s", push.URL, rm.Stream)
	}
	q, err := url.ParseQuery(query)
	if err != nil {
		t.Fatalf("push URL %q: %v", push.URL, err)
	}
	txTime := q.Get(auth.ParamTxTime)
	if want := auth.TxSecret(testPushKey, rm.Stream, txTime); q.Get(auth.ParamTxSecret) != want {
		t.Errorf("push URL %q: txSecret is not MD5(push key + stream + txTime) = %s", push.URL, want)
	}
	if txTime != auth.TxTime(push.ExpiresAt) {
		t.Errorf("push URL %q: txTime %s does not match expires_at %v", push.URL, txTime, push.ExpiresAt)
	}
	if d := time.Until(push.ExpiresAt); d < 23*time.Hour || d > 25*time.Hour {
		t.Errorf("push URL expires in %v, want the default 24 h", d)
	}
}

// TestRoomPublishRefused checks that the RTMP server refuses publishers
// without a valid push signature for the room's own stream, with
// NetStream.Publish.BadName and a description, and that the room stays
// idle; and that only the owner (or an admin) gets the push URL.
func TestRoomPublishRefused(t *testing.T) {
	srv := startServer(t, roomRules)
	ctx := testContext(t)
	alice := srv.register(ctx, t, "alice")
	bob := srv.register(ctx, t, "bob")
	rm := srv.createRoom(ctx, t, alice, "Guarded", false)
	other := srv.createRoom(ctx, t, alice, "Another room", false)
	secret := srv.createRoom(ctx, t, alice, "Private", true)
	otherPush := srv.pushURL(ctx, t, alice, other.ID)
	_, otherQuery, _ := strings.Cut(otherPush.URL, "?")
	future := time.Now().Add(time.Hour)
	noRoom := "s_" + strings.Repeat("z", 26)

	t.Run("push-url API", func(t *testing.T) {
		path := "/api/v1/rooms/" + rm.ID + "/push-url"
		srv.expectError(ctx, t, http.MethodPost, path, "", nil, http.StatusUnauthorized, "unauthorized")
		srv.expectError(ctx, t, http.MethodPost, path, bob.Token, nil, http.StatusForbidden, "forbidden")
		// A private room does not exist for others.
		srv.expectError(ctx, t, http.MethodPost, "/api/v1/rooms/"+secret.ID+"/push-url", bob.Token, nil, http.StatusNotFound, "not_found")
		srv.expectError(ctx, t, http.MethodPost, "/api/v1/rooms/room_"+strings.Repeat("x", 26)+"/push-url", alice.Token, nil, http.StatusNotFound, "not_found")
		admin, err := srv.admin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var p pushJSON
		srv.mustCall(ctx, t, http.MethodPost, path, admin, nil, http.StatusOK, &p)
		if !strings.HasPrefix(p.URL, srv.rtmpURL(rm.Stream)+"?") {
			t.Errorf("admin got push URL %q, want one for %s", p.URL, rm.Stream)
		}
	})

	cases := []struct {
		name     string
		url      string
		wantCode string
		wantDesc string // a word the description must contain
	}{
		{name: "no signature", url: srv.rtmpURL(rm.Stream), wantDesc: "no signature"},
		{name: "only txTime", url: srv.rtmpURL(rm.Stream) + "?txTime=" + auth.TxTime(future), wantDesc: "no signature"},
		{name: "expired", url: srv.rtmpURL(rm.Stream) + "?" + signedQuery(testPushKey, rm.Stream, time.Now().Add(-time.Minute)), wantDesc: "expired"},
		{name: "forged txSecret", url: srv.rtmpURL(rm.Stream) + "?" + signedQuery("not-the-push-key", rm.Stream, future), wantDesc: "invalid"},
		{name: "tampered txTime", url: srv.rtmpURL(rm.Stream) + "?" + strings.Replace(signedQuery(testPushKey, rm.Stream, future), auth.TxTime(future), auth.TxTime(future.Add(time.Second)), 1), wantDesc: "invalid"},
		{name: "another room's push URL", url: srv.rtmpURL(rm.Stream) + "?" + otherQuery, wantDesc: "invalid"},
		{name: "play key", url: srv.rtmpURL(rm.Stream) + "?" + signedQuery(testPlayKey, rm.Stream, future), wantDesc: "invalid"},
		{name: "beyond the push URL lifetime", url: srv.rtmpURL(rm.Stream) + "?" + signedQuery(testPushKey, rm.Stream, time.Now().Add(48*time.Hour)), wantDesc: "too far"},
		{name: "no room", url: srv.rtmpURL(noRoom) + "?" + signedQuery(testPushKey, noRoom, future), wantDesc: "no room"},
		// The signature is checked first: an unsigned request learns
		// nothing about which streams exist.
		{name: "no room, no signature", url: srv.rtmpURL(noRoom), wantDesc: "no signature"},
		{name: "wrong application", url: "rtmp://" + srv.rtmpAddr + "/other/" + strings.TrimPrefix(otherPush.URL, otherPush.Server), wantCode: codeConnectRejected, wantDesc: "application"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := rtmpPublish(ctx, tc.url)
			if c != nil {
				c.Close()
			}
			code := tc.wantCode
			if code == "" {
				code = codeBadName
			}
			checkRefused(t, err, code)
			var se *rtmp.StatusError
			if errors.As(err, &se) && !strings.Contains(se.Description, tc.wantDesc) {
				t.Errorf("refusal description %q does not say %q", se.Description, tc.wantDesc)
			}
		})
	}

	t.Run("ffmpeg without signature", func(t *testing.T) {
		p := startPublisher(t, srv.rtmpURL(rm.Stream))
		err, exited := p.waitExit(20 * time.Second)
		if !exited {
			t.Fatalf("ffmpeg still running 20 s after publishing without a signature")
		}
		if err == nil {
			t.Fatalf("ffmpeg exited with status 0 after publishing without a signature; stderr:\n%s", p.stderr)
		}
		if !strings.Contains(p.stderr.String(), "no signature") {
			t.Errorf("ffmpeg's stderr does not show the server's refusal:\n%s", p.stderr)
		}
		t.Logf("ffmpeg exited: %v; stderr:\n%s", err, p.stderr)
	})

	// Nothing went live.
	for _, r := range []roomJSON{rm, other} {
		got, _, err := srv.room(ctx, alice.Token, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != statusIdle || got.LiveSince != nil {
			t.Errorf("room %q after refused publishers: %v, want idle", r.Title, got)
		}
	}
	for _, stream := range []string{rm.Stream, noRoom} {
		if st, found, err := srv.stats(ctx, stream); err != nil || found {
			t.Errorf("stream %s exists after refused publishers: %v (error %v)", stream, st, err)
		}
	}

	// The room's own push URL is accepted: the refusals were not a
	// publishing failure of another kind.
	push := srv.pushURL(ctx, t, alice, rm.ID)
	c, err := rtmpPublish(ctx, push.URL)
	if err != nil {
		t.Fatalf("publish with the room's push URL: %v", err)
	}
	srv.waitRoom(t, alice.Token, rm.ID, "live", liveTimeout, func(r roomJSON) bool { return r.Status == statusLive })
	c.Close()
	srv.waitRoom(t, alice.Token, rm.ID, "ended", roomEndTimeout, func(r roomJSON) bool { return r.Status == statusEnded })
	if got, _, err := srv.room(ctx, alice.Token, other.ID); err != nil || got.Status != statusIdle {
		t.Errorf("the other room after publishing to the first: %v (error %v), want idle", got, err)
	}
}

// TestRoomAdminKick checks DELETE /api/v1/streams/{name}: only an admin may
// disconnect a room's publisher; ffmpeg's connection is closed and the room
// ends after the reconnect grace.
func TestRoomAdminKick(t *testing.T) {
	srv := startServer(t, roomRules)
	ctx := testContext(t)
	alice := srv.register(ctx, t, "alice")
	bob := srv.register(ctx, t, "bob")
	admin, err := srv.admin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	rm := srv.createRoom(ctx, t, alice, "Kick me", false)
	pub := startPublisher(t, srv.pushURL(ctx, t, alice, rm.ID).URL)
	srv.waitRoom(t, alice.Token, rm.ID, "live", liveTimeout, func(r roomJSON) bool { return r.Status == statusLive })
	before := srv.waitLive(t, rm.Stream)

	path := "/api/v1/streams/" + rm.Stream
	srv.expectError(ctx, t, http.MethodDelete, path, "", nil, http.StatusUnauthorized, "unauthorized")
	srv.expectError(ctx, t, http.MethodDelete, path, bob.Token, nil, http.StatusForbidden, "forbidden")
	// Owning the room does not make one an admin.
	srv.expectError(ctx, t, http.MethodDelete, path, alice.Token, nil, http.StatusForbidden, "forbidden")
	if !pub.running() {
		t.Fatalf("ffmpeg exited after refused kicks: %v", pub.err)
	}
	srv.waitStats(t, rm.Stream, "still live and receiving after refused kicks", 10*time.Second, func(st streamStats, found bool) bool {
		return found && st.Live && st.BytesIn > before.BytesIn
	})

	kicking := time.Now()
	srv.mustCall(ctx, t, http.MethodDelete, path, admin, nil, http.StatusNoContent, nil)
	err, exited := pub.waitExit(20 * time.Second)
	if !exited {
		t.Fatalf("ffmpeg still running 20 s after its stream was kicked")
	}
	t.Logf("ffmpeg exited %v after the kick: %v", time.Since(kicking).Round(time.Millisecond), err)
	ended := srv.waitRoom(t, alice.Token, rm.ID, "ended", roomEndTimeout, func(r roomJSON) bool { return r.Status == statusEnded })
	if ended.EndedAt == nil || ended.EndedAt.Before(kicking.Add(roomGrace-endSlack)) {
		t.Errorf("room ended at %v, kicked at %v: want the end after the %v grace", ended.EndedAt, kicking, roomGrace)
	}
	srv.expectError(ctx, t, http.MethodDelete, path, admin, nil, http.StatusNotFound, "stream_not_found")
}

// TestRoomPrivate checks a private room: hidden from others, its owner's
// view has signed play URLs, and every protocol refuses unsigned (or
// wrongly signed) play requests while the signed URLs play.
func TestRoomPrivate(t *testing.T) {
	srv := startServer(t, roomRules)
	ctx := testContext(t)
	alice := srv.register(ctx, t, "alice")
	bob := srv.register(ctx, t, "bob")
	rm := srv.createRoom(ctx, t, alice, "Invite only", true)
	for _, who := range []account{{Name: "anonymous"}, bob} {
		srv.expectError(ctx, t, http.MethodGet, "/api/v1/rooms/"+rm.ID, who.Token, nil, http.StatusNotFound, "not_found")
		var listing struct {
			Rooms []roomJSON `json:"rooms"`
		}
		srv.mustCall(ctx, t, http.MethodGet, "/api/v1/rooms", who.Token, nil, http.StatusOK, &listing)
		if slices.ContainsFunc(listing.Rooms, func(r roomJSON) bool { return r.ID == rm.ID }) {
			t.Errorf("GET /rooms lists the private room for %s", who.Name)
		}
	}

	pub := startPublisher(t, srv.pushURL(ctx, t, alice, rm.ID).URL)
	srv.waitRoom(t, alice.Token, rm.ID, "live", liveTimeout, func(r roomJSON) bool { return r.Status == statusLive })
	srv.waitLive(t, rm.Stream)
	view, _, err := srv.room(ctx, alice.Token, rm.ID)
	if err != nil {
		t.Fatal(err)
	}
	play := view.Play
	if play == nil || play.ExpiresAt == nil {
		t.Fatalf("owner's view of a private room: want signed play URLs with expires_at, got %v", view)
	}
	if d := time.Until(*play.ExpiresAt); d < time.Hour || d > 3*time.Hour {
		t.Errorf("play URLs expire in %v, want the default 2 h", d)
	}
	wantQuery := signedQuery(testPlayKey, rm.Stream, *play.ExpiresAt)
	for _, u := range []string{play.RTMP, play.FLV, play.WSFLV, play.HLS} {
		if _, q, _ := strings.Cut(u, "?"); q != wantQuery {
			t.Errorf("play URL %q: query is not the play signature %q", u, wantQuery)
		}
	}
	future := time.Now().Add(time.Hour)
	badQueries := []struct{ name, query string }{
		{"unsigned", ""},
		{"push key", signedQuery(testPushKey, rm.Stream, future)},
		{"expired", signedQuery(testPlayKey, rm.Stream, time.Now().Add(-time.Minute))},
		{"forged", signedQuery("not-the-play-key", rm.Stream, future)},
		{"another stream's", signedQuery(testPlayKey, "s_"+strings.Repeat("y", 26), future)},
	}

	t.Run("http-flv", func(t *testing.T) {
		for _, bad := range badQueries {
			expectMediaError(ctx, t, withQuery(t, play.FLV, bad.query), http.StatusForbidden, "invalid_signature")
		}
		streams, err := ffprobe(ctx, t, play.FLV)
		if err != nil {
			t.Fatal(err)
		}
		checkProbe(t, streams)
	})

	t.Run("websocket-flv", func(t *testing.T) {
		checkWSRefused(ctx, t, stripQuery(t, play.WSFLV))
		checkWSPlays(ctx, t, play.WSFLV)
	})

	t.Run("hls", func(t *testing.T) {
		for _, bad := range badQueries {
			expectMediaError(ctx, t, withQuery(t, play.HLS, bad.query), http.StatusForbidden, "invalid_signature")
		}
		pl := waitSegments(t, play.HLS, 2)
		for _, seg := range pl.Segments {
			if _, q, _ := strings.Cut(seg, "?"); q != wantQuery {
				t.Errorf("segment %s in the signed playlist does not carry the play signature", seg)
			}
		}
		seg := pl.Segments[len(pl.Segments)-1]
		if a, err := getMedia(ctx, seg); err != nil || a.Status != http.StatusOK {
			t.Errorf("GET signed segment %s: %+v, %v; want 200", seg, a, err)
		}
		for _, bad := range badQueries {
			expectMediaError(ctx, t, withQuery(t, seg, bad.query), http.StatusForbidden, "invalid_signature")
		}
		streams, err := ffprobe(ctx, t, play.HLS)
		if err != nil {
			t.Fatal(err)
		}
		checkProbe(t, streams)
	})

	t.Run("rtmp", func(t *testing.T) {
		for _, bad := range badQueries {
			u := withQuery(t, play.RTMP, bad.query)
			err := rtmpPlay(ctx, u)
			var se *rtmp.StatusError
			if !errors.As(err, &se) || se.Code != rtmp.CodePlayFailed || se.Description == "" {
				t.Errorf("RTMP play %s (%s): %v, want a NetStream.Play.Failed refusal with a description", u, bad.name, err)
				continue
			}
			t.Logf("RTMP play %s: refused: %s", bad.name, se.Description)
		}
		if _, err := ffprobe(ctx, t, stripQuery(t, play.RTMP)); err == nil {
			t.Errorf("ffprobe of the unsigned RTMP URL succeeded")
		}
		rtmpPlayKeyframe(ctx, t, play.RTMP)
		streams, err := ffprobe(ctx, t, play.RTMP)
		if err != nil {
			t.Fatal(err)
		}
		checkProbe(t, streams)
	})

	if !pub.running() {
		t.Errorf("ffmpeg publisher exited during the test: %v", pub.err)
	}
}

// rtmpPlay connects to url and plays it, returning the first error; the
// connection is closed either way.
func rtmpPlay(ctx context.Context, url string) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	c, err := rtmp.Dial(ctx, url)
	if err != nil {
		return err
	}
	defer c.Close()
	return c.Play(ctx)
}
