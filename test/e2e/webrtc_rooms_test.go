package e2e

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"roomcast/internal/config"
)

// TestWebRTCRefusals: WHIP and WHEP refuse what RTMP and the play URLs
// refuse, with JSON errors: no credentials 401, a wrong signature or
// another user's token 403, a stream that is not live 404, a malformed
// offer 400, a body that is not SDP 415, an H.265 stream 415.
func TestWebRTCRefusals(t *testing.T) {
	ctx := testContext(t)
	srv := startServer(t, roomRules)
	alice := srv.register(ctx, t, "alice")
	bob := srv.register(ctx, t, "bob")
	rm := srv.createRoom(ctx, t, alice, "webrtc", false)
	priv := srv.createRoom(ctx, t, alice, "private webrtc", true)
	whip := srv.httpURL("/live/" + rm.Stream + "/whip")
	clip := webrtcMakeClip(t, 2*time.Second)

	for _, tc := range []struct {
		name, url, token, ctype, body string
		status                        int
		code                          string
	}{
		{"whip without signature", whip, "", "application/sdp", "v=0", http.StatusUnauthorized, "unauthorized"},
		{"whip with a bad token", whip, "no-such-token", "application/sdp", "v=0", http.StatusUnauthorized, "unauthorized"},
		{"whip with a wrong signature", whip + "?" + signedQuery("wrong-key", rm.Stream, time.Now().Add(time.Hour)), "", "application/sdp", "v=0", http.StatusForbidden, "invalid_signature"},
		{"whip with another user's token", whip, bob.Token, "application/sdp", "v=0", http.StatusForbidden, "forbidden"},
		{"whip malformed sdp", whip, alice.Token, "application/sdp", "v=0\r\nthis is not sdp", http.StatusBadRequest, "invalid_sdp"},
		{"whip not sdp", whip, alice.Token, "application/json", "{}", http.StatusUnsupportedMediaType, "unsupported_media_type"},
		{"whip unknown stream", srv.httpURL("/live/nosuchroom/whip?" + signedQuery(testPushKey, "nosuchroom", time.Now().Add(time.Hour))), "", "application/sdp", "v=0", http.StatusNotFound, "stream_not_found"},
		{"whep not live", srv.httpURL("/live/" + rm.Stream + "/whep"), "", "application/sdp", "v=0", http.StatusNotFound, "stream_not_found"},
		{"whep private without signature", srv.httpURL("/live/" + priv.Stream + "/whep"), "", "application/sdp", "v=0", http.StatusForbidden, "invalid_signature"},
		{"whep invalid name", srv.httpURL("/live/a.b/whep"), "", "application/sdp", "v=0", http.StatusNotFound, "not_found"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, err := webrtcPost(ctx, tc.url, tc.token, tc.ctype, tc.body)
			if err != nil {
				t.Fatal(err)
			}
			if a.Status != tc.status || a.Code != tc.code {
				t.Fatalf("got %d %s, want %d %s", a.Status, a.Body, tc.status, tc.code)
			}
		})
	}

	// The owner's bearer token publishes; a second publisher is refused.
	p, a := webrtcPublish(ctx, t, whip, alice.Token, clip)
	if p == nil {
		t.Fatalf("WHIP with the owner's token: %d %s", a.Status, a.Body)
	}
	srv.waitRoom(t, alice.Token, rm.ID, "live", 20*time.Second, func(r roomJSON) bool { return r.Status == "live" })
	push := srv.pushURL(ctx, t, alice, rm.ID)
	if _, a := webrtcPublish(ctx, t, push.WHIP, "", clip); a.Status != http.StatusConflict || a.Code != "stream_busy" {
		t.Fatalf("second WHIP publisher: %d %s", a.Status, a.Body)
	}
	a, err := webrtcPost(ctx, srv.httpURL("/live/"+rm.Stream+"/whep"), "", "application/sdp", "v=0\r\nbroken")
	if err != nil || a.Status != http.StatusBadRequest || a.Code != "invalid_sdp" {
		t.Fatalf("WHEP malformed SDP to a live stream: %+v %v", a, err)
	}
}

// TestWebRTCRoomPublishRecordsAndReplays: a room's signed WHIP URL (from
// push-url) goes live like RTMP; the room's play.whep plays it; the
// session is recorded, and the replay decodes as H.264 + AAC.
func TestWebRTCRoomPublishRecordsAndReplays(t *testing.T) {
	ctx := testContext(t)
	srv := startServer(t, replayRules)
	alice := srv.register(ctx, t, "alice")
	rm := srv.createRoom(ctx, t, alice, "webrtc replay", false)
	push := srv.pushURL(ctx, t, alice, rm.ID)
	if !strings.HasPrefix(push.WHIP, srv.httpURL("/live/"+rm.Stream+"/whip?")) || !strings.Contains(push.WHIP, "txSecret=") {
		t.Fatalf("push-url whip %q", push.WHIP)
	}
	clip := webrtcMakeClip(t, 3*time.Second)
	p, a := webrtcPublish(ctx, t, push.WHIP, "", clip)
	if p == nil {
		t.Fatalf("WHIP: %d %s", a.Status, a.Body)
	}
	live := srv.waitRoom(t, alice.Token, rm.ID, "live", 20*time.Second, func(r roomJSON) bool { return r.Status == "live" })
	// The play URLs carry the room's programme (the host alone here).
	if live.Play == nil || !strings.HasPrefix(live.Play.WHEP, srv.httpURL("/live/"+rm.Stream)) || !strings.HasSuffix(live.Play.WHEP, "/whep") {
		t.Fatalf("room play %+v", live.Play)
	}
	srv.waitStats(t, rm.Stream, "H.264 and AAC", 30*time.Second, func(st streamStats, found bool) bool {
		return found && st.Video != nil && st.Audio != nil
	})
	v := webrtcPlay(ctx, t, live.Play.WHEP)
	webrtcWaitViewer(t, v, 25, 25, 30*time.Second)
	time.Sleep(3 * time.Second) // a few seconds of recording
	if a, err := webrtcRequest(ctx, http.MethodDelete, srv.httpURL(p.location)); err != nil || a.Status != http.StatusOK {
		t.Fatalf("DELETE: %+v %v", a, err)
	}
	rep := srv.waitReady(ctx, t, alice.Token, rm.ID, 1)
	streams, err := ffprobe(ctx, t, rep.URL)
	if err != nil {
		t.Fatal(err)
	}
	var video, audio bool
	for _, s := range streams {
		video = video || s.CodecName == "h264"
		audio = audio || s.CodecName == "aac"
	}
	if !video || !audio {
		t.Fatalf("replay streams %+v", streams)
	}
	res, err := decode(ctx, t, rep.URL)
	if err != nil || res.Frames < 25 {
		t.Fatalf("replay decoded %d frames: %v", res.Frames, err)
	}
}

// TestWebRTCHEVCRefused: an H.265 stream cannot be played over WebRTC
// (pass-through carries H.264 only): WHEP answers 415 unsupported_codec,
// so players fall back to HTTP-FLV or HLS.
func TestWebRTCHEVCRefused(t *testing.T) {
	ctx := testContext(t)
	srv := startServer(t)
	clip := makeHEVCClip(t, 6*time.Second)
	stream := streamName("whep-hevc")
	go func() { _ = publishHEVC(ctx, srv.rtmpURL(stream), clip, true, &sentTags{bodies: map[string]bool{}}) }()
	srv.waitStats(t, stream, "H.265 video", 20*time.Second, func(st streamStats, found bool) bool {
		return found && st.Video != nil
	})
	v := webrtcClientAPI(t)
	pc, err := v.NewPeerConnection(webrtcConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	if _, err := pc.AddTransceiverFromKind(webrtcVideo, webrtcRecvOnly); err != nil {
		t.Fatal(err)
	}
	a, err := webrtcPost(ctx, srv.httpURL("/live/"+stream+"/whep"), "", "application/sdp", webrtcOffer(t, pc))
	if err != nil || a.Status != http.StatusUnsupportedMediaType || a.Code != "unsupported_codec" {
		t.Fatalf("WHEP of H.265: %+v %v", a, err)
	}
}

// TestWebRTCWHIPReconnectGrace: a WHIP publisher that drops (its peer
// connection closes, no DELETE) and comes back within the reconnect grace
// continues the same live: the room stays live, a viewer's WHEP session
// goes on, and the stream has the new publisher.
func TestWebRTCWHIPReconnectGrace(t *testing.T) {
	ctx := testContext(t)
	srv := startServer(t, roomRules, func(c *config.Config) { c.Hub.ReconnectGrace = 20 * time.Second })
	alice := srv.register(ctx, t, "alice")
	rm := srv.createRoom(ctx, t, alice, "webrtc grace", false)
	push := srv.pushURL(ctx, t, alice, rm.ID)
	clip := webrtcMakeClip(t, 2*time.Second)
	p, a := webrtcPublish(ctx, t, push.WHIP, "", clip)
	if p == nil {
		t.Fatalf("WHIP: %d %s", a.Status, a.Body)
	}
	srv.waitStats(t, rm.Stream, "H.264", 30*time.Second, func(st streamStats, found bool) bool { return found && st.Video != nil })
	v := webrtcPlay(ctx, t, srv.httpURL("/live/"+rm.Stream+"/whep"))
	webrtcWaitViewer(t, v, 10, 0, 30*time.Second)

	_ = p.pc.Close() // the publisher drops
	srv.waitStats(t, rm.Stream, "the publisher gone", 20*time.Second, func(st streamStats, found bool) bool { return found && !st.Live })
	p2, a := webrtcPublish(ctx, t, push.WHIP, "", clip)
	if p2 == nil {
		t.Fatalf("WHIP within the grace: %d %s", a.Status, a.Body)
	}
	srv.waitStats(t, rm.Stream, "the publisher back", 20*time.Second, func(st streamStats, found bool) bool {
		return found && st.Live && st.Publisher != nil && st.Publisher.Protocol == "webrtc"
	})
	before, _, _ := v.counts()
	webrtcWaitViewer(t, v, before+25, 0, 30*time.Second)
	if r, _, err := srv.room(ctx, alice.Token, rm.ID); err != nil || r.Status != "live" {
		t.Fatalf("room %v %v, want live throughout", r.Status, err)
	}
}

// TestWebRTCPrivateRoom: a private room's WHEP URL plays only with the
// play signature the owner gets in play.whep, as the other play URLs.
func TestWebRTCPrivateRoom(t *testing.T) {
	ctx := testContext(t)
	srv := startServer(t, roomRules)
	alice := srv.register(ctx, t, "alice")
	rm := srv.createRoom(ctx, t, alice, "private webrtc", true)
	p, a := webrtcPublish(ctx, t, srv.httpURL("/live/"+rm.Stream+"/whip"), alice.Token, webrtcMakeClip(t, 2*time.Second))
	if p == nil {
		t.Fatalf("WHIP with the owner's token: %d %s", a.Status, a.Body)
	}
	live := srv.waitRoom(t, alice.Token, rm.ID, "live", 20*time.Second, func(r roomJSON) bool { return r.Status == "live" })
	if live.Play == nil || !strings.Contains(live.Play.WHEP, "/whep?") || !strings.Contains(live.Play.WHEP, "txSecret=") {
		t.Fatalf("private play.whep %+v", live.Play)
	}
	srv.waitStats(t, rm.Stream, "video", 30*time.Second, func(st streamStats, found bool) bool { return found && st.Video != nil })
	if a, err := webrtcPost(ctx, srv.httpURL("/live/"+rm.Stream+"/whep"), "", "application/sdp", "v=0"); err != nil || a.Status != http.StatusForbidden || a.Code != "invalid_signature" {
		t.Fatalf("unsigned WHEP of a private room: %+v %v", a, err)
	}
	v := webrtcPlay(ctx, t, live.Play.WHEP)
	webrtcWaitViewer(t, v, 10, 0, 30*time.Second)
}

// TestWebRTCCohostBearer: a co-host publishes its member stream over WHIP
// with its own bearer token, as it can with its signed whip URL; the token
// publishes nothing else: not the host's stream, not another member's, and
// a user who is not a co-host publishes no member stream.
func TestWebRTCCohostBearer(t *testing.T) {
	ctx := testContext(t)
	srv := startServer(t, roomRules)
	alice := srv.register(ctx, t, "alice")
	bob := srv.register(ctx, t, "bob")
	carol := srv.register(ctx, t, "carol")
	dave := srv.register(ctx, t, "dave")
	rm := srv.createRoom(ctx, t, alice, "co-host whip", false)
	srv.cohostAdd(ctx, t, alice, rm.ID, bob.ID)
	srv.cohostAdd(ctx, t, alice, rm.ID, carol.ID)
	whip := func(stream string) string { return srv.httpURL("/live/" + stream + "/whip") }
	member := func(a account) string { return rm.Stream + "-" + a.ID }

	for _, tc := range []struct {
		name, stream, token string
		status              int
		code                string
	}{
		{"co-host on the host's stream", rm.Stream, bob.Token, http.StatusForbidden, "forbidden"},
		{"co-host on another member's stream", member(carol), bob.Token, http.StatusForbidden, "forbidden"},
		{"owner on a member's stream", member(bob), alice.Token, http.StatusForbidden, "forbidden"},
		{"a user who is not a co-host", member(dave), dave.Token, http.StatusForbidden, "forbidden"},
		{"the programme", rm.Stream + "-programme", alice.Token, http.StatusForbidden, "forbidden"},
		{"a bad token", member(bob), "no-such-token", http.StatusUnauthorized, "unauthorized"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, err := webrtcPost(ctx, whip(tc.stream), tc.token, "application/sdp", "v=0")
			if err != nil {
				t.Fatal(err)
			}
			if a.Status != tc.status || a.Code != tc.code {
				t.Fatalf("got %d %s, want %d %s", a.Status, a.Body, tc.status, tc.code)
			}
		})
	}

	clip := webrtcMakeClip(t, 2*time.Second)
	if p, a := webrtcPublish(ctx, t, whip(member(bob)), bob.Token, clip); p == nil {
		t.Fatalf("WHIP of the co-host's stream with its token: %d %s", a.Status, a.Body)
	}
	srv.cohostWaitRoom(ctx, t, alice.Token, rm.ID, "bob live as a member", 20*time.Second, func(r cohostRoom) bool {
		for _, m := range r.Members {
			if m.User.ID == bob.ID && m.Live {
				return true
			}
		}
		return false
	})
}
