package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	neturl "net/url"
	"sort"
	"strings"
	"testing"
	"time"

	"roomcast/internal/cluster"
	"roomcast/internal/config"
	"roomcast/internal/natstest"
	"roomcast/internal/pgtest"
	"roomcast/internal/protocol/rtmp"
	"roomcast/internal/webhook"
)

// clusterTestKey is the cluster key the test nodes share.
const clusterTestKey = "e2e-cluster-key-0123456789"

// clusterStartNodes starts n roomcast processes (node1…nodeN) that form a
// cluster on one NATS server and one Postgres database, sharing a
// recordings directory and their keys; configure adjusts every node's
// configuration.
func clusterStartNodes(t *testing.T, n int, configure ...func(*config.Config)) ([]*childServer, *natstest.Server) {
	t.Helper()
	return clusterStartNodesEach(t, n, func(_ int, c *config.Config) {
		for _, f := range configure {
			f(c)
		}
	})
}

// clusterStartNodesEach is clusterStartNodes with a configuration function
// told each node's index (0 for node1).
func clusterStartNodesEach(t *testing.T, n int, configure func(i int, c *config.Config)) ([]*childServer, *natstest.Server) {
	t.Helper()
	ns := natstest.Start(t)
	db := pgtest.Start(t).NewDatabase(t)
	recordings := t.TempDir()
	nodes := make([]*childServer, n)
	for i := range nodes {
		cfg := testConfig(t, func(c *config.Config) {
			c.DatabaseURL = db
			c.NATSURL = ns.URL()
			c.Cluster.NodeID = fmt.Sprintf("node%d", i+1)
			c.Cluster.Key = clusterTestKey
			c.Cluster.RelayLinger = 2 * time.Second
			c.Record.Dir = recordings
			c.Hub.ReconnectGrace = 15 * time.Second
			// Signed URLs must verify on every node.
			c.Auth.PushKey = testPushKey
			c.Auth.PlayKey = testPlayKey
		}, func(c *config.Config) { configure(i, c) })
		nodes[i] = startChild(t, cfg)
	}
	return nodes, ns
}

// clusterRoom registers a host on node s and creates a room; it returns the
// room, its host and the query that signs its push URL on any node.
func clusterRoom(ctx context.Context, t *testing.T, s *testServer, private bool) (roomJSON, account, string) {
	t.Helper()
	host := s.register(ctx, t, "clusterhost")
	rm := s.createRoom(ctx, t, host, "cluster room", private)
	push := s.pushURL(ctx, t, host, rm.ID)
	u, err := neturl.Parse(push.URL)
	if err != nil || u.RawQuery == "" {
		t.Fatalf("push URL %q: %v", push.URL, err)
	}
	return rm, host, u.RawQuery
}

// clusterStream is the part of a GET /api/v1/streams entry these tests read.
type clusterStream struct {
	Name      string `json:"name"`
	Node      string `json:"node"`
	Live      bool   `json:"live"`
	Viewers   int    `json:"viewers"`
	Publisher *struct {
		Protocol string `json:"protocol"`
	} `json:"publisher"`
}

// clusterStreams lists the cluster's streams as node s sees them.
func clusterStreams(ctx context.Context, s *testServer) ([]clusterStream, error) {
	body, resp, err := s.apiGet(ctx, "/api/v1/streams")
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET /api/v1/streams: %s: %s", resp.Status, body)
	}
	var out struct {
		Streams []clusterStream `json:"streams"`
	}
	if err := json.Unmarshal(body, &out); err != nil {
		return nil, fmt.Errorf("GET /api/v1/streams: %w: %s", err, body)
	}
	return out.Streams, nil
}

// clusterWaitStream polls node s's stream list until the named stream
// satisfies cond.
func clusterWaitStream(t *testing.T, s *testServer, name, what string, cond func(clusterStream) bool) clusterStream {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), liveTimeout)
	defer cancel()
	var last []clusterStream
	var lastErr error
	for {
		all, err := clusterStreams(ctx, s)
		for _, st := range all {
			if st.Name == name && cond(st) {
				return st
			}
		}
		last, lastErr = all, err
		select {
		case <-ctx.Done():
			t.Fatalf("stream %s not %s on %s within %v; last list %+v, error %v", name, what, s.httpAddr, liveTimeout, last, lastErr)
		case <-time.After(pollInterval):
		}
	}
}

// clusterPlayStatus plays url with the RTMP client and returns the status
// error of a refused play (nil when the play started).
func clusterPlayStatus(ctx context.Context, t *testing.T, url string) *rtmp.StatusError {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	c, err := rtmp.Dial(ctx, url)
	if err != nil {
		t.Fatalf("dial %s: %v", url, err)
	}
	defer c.Close()
	err = c.Play(ctx)
	var se *rtmp.StatusError
	if errors.As(err, &se) {
		return se
	}
	if err != nil {
		t.Fatalf("play %s: %v", url, err)
	}
	return nil
}

// TestClusterRelay publishes to node 1 of three: node 2 serves it over
// HTTP-FLV and node 3 over HLS (ffprobe decodes H.264 + AAC), any node
// lists it with its node and the viewers of all nodes, a second publisher
// on another node is refused, a relay request without the cluster
// credential is refused, and a kick from node 3 ends the publisher on node
// 1.
func TestClusterRelay(t *testing.T) {
	nodes, _ := clusterStartNodes(t, 3, roomRules)
	n1, n2, n3 := nodes[0], nodes[1], nodes[2]
	ctx := testContext(t)
	rm, host, push := clusterRoom(ctx, t, n1.testServer, false)
	name := rm.Stream
	pub := startPublisher(t, n1.rtmpURL(name)+"?"+push)
	n1.waitLive(t, name)
	// The room's status follows its stream, seen from any node.
	n3.waitRoom(t, host.Token, rm.ID, "live", liveTimeout, func(r roomJSON) bool { return r.Status == statusLive })

	// A cold edge: the first viewer of node 2 starts its relay.
	start := time.Now()
	viewer := startFLVViewer(t, n2.flvURL(name))
	viewer.waitFrames(t, time.Time{}, 1, 10*time.Second)
	t.Logf("cold node: first video frame over HTTP-FLV %v after the request (relay start included)", firstFrameDelay(viewer, start))
	viewer.waitFrames(t, time.Time{}, 25, 15*time.Second)

	clusterLogRelayLatency(ctx, t, n1.flvURL(name), n2.flvURL(name), 250)

	probe := func(url string) {
		t.Helper()
		streams, err := ffprobe(ctx, t, url)
		if err != nil {
			t.Fatal(err)
		}
		var video, audio bool
		for _, s := range streams {
			video = video || s.CodecType == "video" && s.CodecName == "h264" && s.Width == wantWidth && s.Height == wantHeight
			audio = audio || s.CodecType == "audio" && s.CodecName == "aac" && s.SampleRate == fmt.Sprint(wantSampleRate)
		}
		if !video || !audio {
			t.Fatalf("ffprobe %s: %+v, want H.264 %dx%d and AAC %d Hz", url, streams, wantWidth, wantHeight, wantSampleRate)
		}
	}
	probe(n2.flvURL(name))
	waitSegments(t, n3.hlsURL(name), 2)
	probe(n3.hlsURL(name))
	probe(n3.rtmpURL(name))
	checkWSPlays(ctx, t, strings.Replace(n3.flvURL(name), "http://", "ws://", 1))

	// Every node lists the stream on node1, with node 2's viewer counted.
	for _, n := range nodes {
		st := clusterWaitStream(t, n.testServer, name, "listed on node1 with node 2's viewer", func(st clusterStream) bool {
			return st.Node == "node1" && st.Live && st.Viewers >= 1 && st.Publisher != nil && st.Publisher.Protocol == "rtmp"
		})
		t.Logf("%s lists %+v", n.httpAddr, st)
	}
	// The room shows the viewers of every node (its stream's viewers are on
	// nodes 2 and 3).
	n1.waitRoom(t, host.Token, rm.ID, "counting the edges' viewers", liveTimeout, func(r roomJSON) bool { return r.Viewers >= 1 })
	st, found, err := n3.stats(ctx, name)
	if err != nil || !found {
		t.Fatalf("GET /api/v1/streams/%s on node 3: found %v, %v", name, found, err)
	}
	if st.Publisher == nil || st.Publisher.Protocol != "rtmp" {
		t.Errorf("node 3's view of the stream: %v, want the origin's rtmp publisher", st)
	}

	// A second publisher of the live stream on another node is refused.
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	second, err := rtmp.Dial(pctx, n2.rtmpURL(name)+"?"+push)
	if err != nil {
		t.Fatal(err)
	}
	err = second.Publish(pctx)
	second.Close()
	var se *rtmp.StatusError
	if !errors.As(err, &se) || se.Code != "NetStream.Publish.BadName" {
		t.Fatalf("second publisher on node 2: %v, want NetStream.Publish.BadName", err)
	}
	t.Logf("second publisher refused: %s", se.Description)

	// Relay requests without, or with a wrong, cluster credential are
	// refused; a signed one is let in.
	bad := map[string]string{
		"no signature":  cluster.ParamNode + "=node2",
		"bad signature": cluster.NewCredential("not-the-cluster-key-0000").Query(name, "node2", time.Now()).Encode(),
		"old signature": cluster.NewCredential(clusterTestKey).Query(name, "node2", time.Now().Add(-time.Hour)).Encode(),
		"other stream":  cluster.NewCredential(clusterTestKey).Query("other", "node2", time.Now()).Encode(),
	}
	for what, q := range bad {
		se := clusterPlayStatus(ctx, t, n1.rtmpURL(name)+"?"+q)
		if se == nil || se.Code != "NetStream.Play.Failed" || !strings.Contains(se.Description, "cluster credential") {
			t.Errorf("relay request with %s: %v, want NetStream.Play.Failed naming the cluster credential", what, se)
		}
	}
	good := cluster.NewCredential(clusterTestKey).Query(name, "node2", time.Now()).Encode()
	if se := clusterPlayStatus(ctx, t, n1.rtmpURL(name)+"?"+good); se != nil {
		t.Errorf("signed relay request refused: %v", se)
	}

	// An admin kick on node 3 ends the publisher on node 1.
	token, err := n3.admin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodDelete, n3.httpURL("/api/v1/streams/"+name), nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("kick from node 3: %s, want 204", resp.Status)
	}
	if err, ok := pub.waitExit(15 * time.Second); !ok {
		t.Fatalf("publisher on node 1 still running after a kick from node 3")
	} else {
		t.Logf("publisher ended by the kick: %v", err)
	}
}

// firstFrameDelay is how long after start a viewer's first video frame
// arrived.
func firstFrameDelay(v *flvViewer, start time.Time) time.Duration {
	v.mu.Lock()
	defer v.mu.Unlock()
	if len(v.frames) == 0 {
		return -1
	}
	return v.frames[0].Sub(start).Round(time.Millisecond)
}

// TestClusterPublisherMove kills node 1 (SIGKILL) while a viewer on node 3
// plays its stream; the host re-publishes to node 2, and the viewer keeps
// its connection and keeps receiving, with timestamps that never go back.
func TestClusterPublisherMove(t *testing.T) {
	nodes, _ := clusterStartNodes(t, 3, roomRules, func(c *config.Config) { c.Hub.ReconnectGrace = 8 * time.Second })
	n1, n2, n3 := nodes[0], nodes[1], nodes[2]
	ctx := testContext(t)
	rm, host, push := clusterRoom(ctx, t, n1.testServer, false)
	name := rm.Stream
	first := startPublisher(t, n1.rtmpURL(name)+"?"+push)
	n1.waitLive(t, name)
	n2.waitRoom(t, host.Token, rm.ID, "live", liveTimeout, func(r roomJSON) bool { return r.Status == statusLive })
	viewer := startFLVViewer(t, n3.flvURL(name))
	viewer.waitFrames(t, time.Time{}, 25, 15*time.Second)

	n1.kill(t)
	first.kill()
	killed := time.Now()
	// The host's software reconnects through the load balancer, which
	// now sends it to node 2.
	second := clusterPublishUntilLive(t, n2.testServer, name, push, killed)
	republished := time.Now()
	t.Logf("publisher live on node 2 %v after node 1 was killed", republished.Sub(killed).Round(time.Millisecond))
	if ended, err := viewer.ended(); ended {
		t.Fatalf("viewer on node 3 disconnected after node 1 died: %v", err)
	}
	viewer.waitFrames(t, republished, 1, 15*time.Second)
	t.Logf("viewer on node 3 resumed %v after the new publish", firstFrameDelay(&flvViewer{frames: framesAfter(viewer, republished)}, republished))
	viewer.waitFrames(t, republished, 50, 20*time.Second)
	if r := viewer.timestampRegressions(); len(r) > 0 {
		t.Errorf("timestamps went back %d times across the move: %v", len(r), r)
	}
	if n := viewer.seqHeadersSince(killed); n < 1 {
		t.Errorf("no AVC sequence header after the move")
	}
	clusterWaitStream(t, n3.testServer, name, "listed on node2", func(st clusterStream) bool {
		return st.Node == "node2" && st.Live
	})
	if ended, err := viewer.ended(); ended {
		t.Fatalf("viewer on node 3 disconnected: %v", err)
	}
	// The live went on: the room never ended, and it ends once when the
	// host stops on node 2.
	if r, _, err := n3.room(ctx, host.Token, rm.ID); err != nil || r.Status != statusLive || r.EndedAt != nil {
		t.Fatalf("room after the move: %v, %v; want live, never ended", r, err)
	}
	second.kill()
	n3.waitRoom(t, host.Token, rm.ID, "ended", 8*time.Second+roomEndTimeout, func(r roomJSON) bool { return r.Status == statusEnded })
}

// clusterPublishUntilLive starts ffmpeg publishing name to node s, again
// while s refuses it, until s has the stream live (for 20 s after since).
func clusterPublishUntilLive(t *testing.T, s *testServer, name, query string, since time.Time) *publisher {
	t.Helper()
	ctx := testContext(t)
	url := s.rtmpURL(name)
	if query != "" {
		url += "?" + query
	}
	for {
		p := startPublisher(t, url)
		for {
			st, found, err := s.stats(ctx, name)
			if err == nil && found && st.Live && st.Publisher != nil && st.Publisher.Protocol == "rtmp" && st.Video != nil {
				return p
			}
			if !p.running() {
				break // refused: try again
			}
			if time.Since(since) > 20*time.Second {
				t.Fatalf("publisher not live on %s within 20 s: %v\n%s", s.rtmpAddr, p.err, p.stderr)
			}
			time.Sleep(pollInterval)
		}
		t.Logf("publisher refused by %s %v after %v: %v", s.rtmpAddr, time.Since(since).Round(time.Millisecond), since.Format(time.TimeOnly), p.err)
	}
}

// TestClusterPublisherMoveLiveNode drops the publisher of node 1, which
// stays up, and re-publishes to node 2 within the reconnect grace: node 2
// takes the stream over from node 1 (which only waited for its publisher),
// and the viewers of node 1 (now relaying from node 2) and of node 3
// (relaying from node 1, then node 2) keep their connections and receive.
func TestClusterPublisherMoveLiveNode(t *testing.T) {
	nodes, _ := clusterStartNodes(t, 3)
	n1, n2, n3 := nodes[0], nodes[1], nodes[2]
	name := streamName("handover")
	first := startPublisher(t, n1.rtmpURL(name))
	n1.waitLive(t, name)
	onOrigin := startFLVViewer(t, n1.flvURL(name))
	onEdge := startFLVViewer(t, n3.flvURL(name))
	onOrigin.waitFrames(t, time.Time{}, 25, 15*time.Second)
	onEdge.waitFrames(t, time.Time{}, 25, 15*time.Second)

	first.kill()
	dropped := time.Now()
	clusterPublishUntilLive(t, n2.testServer, name, "", dropped)
	republished := time.Now()
	t.Logf("publisher live on node 2 %v after it left node 1", republished.Sub(dropped).Round(time.Millisecond))
	for what, v := range map[string]*flvViewer{"node 1": onOrigin, "node 3": onEdge} {
		v.waitFrames(t, republished, 50, 20*time.Second)
		if ended, err := v.ended(); ended {
			t.Fatalf("viewer on %s disconnected: %v", what, err)
		}
		if r := v.timestampRegressions(); len(r) > 0 {
			t.Errorf("viewer on %s: timestamps went back %d times: %v", what, len(r), r)
		}
		t.Logf("viewer on %s resumed %v after the new publish", what, firstFrameDelay(&flvViewer{frames: framesAfter(v, republished)}, republished))
	}
	for _, n := range nodes {
		clusterWaitStream(t, n.testServer, name, "listed on node2", func(st clusterStream) bool {
			return st.Node == "node2" && st.Live && st.Publisher != nil && st.Publisher.Protocol == "rtmp"
		})
	}
}

// framesAfter returns the arrival times of a viewer's video frames after t0.
func framesAfter(v *flvViewer, t0 time.Time) []time.Time {
	v.mu.Lock()
	defer v.mu.Unlock()
	var out []time.Time
	for _, at := range v.frames {
		if at.After(t0) {
			out = append(out, at)
		}
	}
	return out
}

// TestClusterStreamEnd ends a live on node 1 for good: the viewer on node
// 2 is told the stream ended once node 1's reconnect grace is over (not a
// second grace later), and node 2's relay stops.
func TestClusterStreamEnd(t *testing.T) {
	const grace = time.Second
	nodes, _ := clusterStartNodes(t, 2, func(c *config.Config) { c.Hub.ReconnectGrace = grace })
	n1, n2 := nodes[0], nodes[1]
	name := streamName("end")
	pub := startPublisher(t, n1.rtmpURL(name))
	n1.waitLive(t, name)
	viewer := startFLVViewer(t, n2.flvURL(name))
	viewer.waitFrames(t, time.Time{}, 10, 15*time.Second)
	clusterWaitMetric(t, n2.testServer, "roomcast_relays 1")

	pub.kill()
	stopped := time.Now()
	select {
	case <-viewer.done:
		t.Logf("viewer on node 2 told the stream ended %v after the publisher stopped (grace %v): %v",
			time.Since(stopped).Round(time.Millisecond), grace, viewer.err)
	case <-time.After(grace + 15*time.Second):
		t.Fatalf("viewer on node 2 still connected %v after the publisher stopped, with a %v grace", time.Since(stopped), grace)
	}
	clusterWaitMetric(t, n2.testServer, "roomcast_relays 0")
	n2.waitStats(t, name, "gone from the cluster", 10*time.Second, func(_ streamStats, found bool) bool { return !found })
}

// clusterWaitMetric polls node s's /metrics until it has the line want.
func clusterWaitMetric(t *testing.T, s *testServer, want string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var last string
	for {
		body, resp, err := httpGet(ctx, s.httpURL("/metrics"))
		if err == nil && resp.StatusCode == http.StatusOK {
			last = string(body)
			for _, line := range strings.Split(last, "\n") {
				if line == want {
					return
				}
			}
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%s /metrics never had %q; last scrape lines with relays: %q", s.httpAddr, want, grepLines(last, "relays"))
		case <-time.After(pollInterval):
		}
	}
}

// grepLines returns the lines of s containing sub.
func grepLines(s, sub string) []string {
	var out []string
	for _, line := range strings.Split(s, "\n") {
		if strings.Contains(line, sub) {
			out = append(out, line)
		}
	}
	return out
}

// TestClusterPrivateRoomRelay publishes a private room's stream: an
// ordinary play without a play signature is refused, a relay request with
// the cluster credential skips the play signature, and one with a wrong
// credential is refused.
func TestClusterPrivateRoomRelay(t *testing.T) {
	nodes, _ := clusterStartNodes(t, 2, roomRules, func(c *config.Config) { c.Hub.ReconnectGrace = 5 * time.Second })
	n1 := nodes[0]
	ctx := testContext(t)
	owner := n1.register(ctx, t, "clusterhost")
	room := n1.createRoom(ctx, t, owner, "private cluster room", true)
	push := n1.pushURL(ctx, t, owner, room.ID)
	startPublisher(t, push.URL)
	n1.waitLive(t, room.Stream)

	url := n1.rtmpURL(room.Stream)
	if se := clusterPlayStatus(ctx, t, url); se == nil || se.Code != "NetStream.Play.Failed" {
		t.Errorf("unsigned play of a private room: %v, want NetStream.Play.Failed", se)
	}
	relay := cluster.NewCredential(clusterTestKey).Query(room.Stream, "node2", time.Now()).Encode()
	if se := clusterPlayStatus(ctx, t, url+"?"+relay); se != nil {
		t.Errorf("relay request with the cluster credential refused: %v", se)
	}
	forged := cluster.NewCredential("forged-key-0123456789").Query(room.Stream, "node2", time.Now()).Encode()
	if se := clusterPlayStatus(ctx, t, url+"?"+forged); se == nil || !strings.Contains(se.Description, "cluster credential") {
		t.Errorf("relay request with a wrong credential: %v, want a refusal naming the cluster credential", se)
	}
	// A play signature does not make a relay request valid either.
	signed := signedQuery(testPlayKey, room.Stream, time.Now().Add(time.Hour))
	if se := clusterPlayStatus(ctx, t, url+"?"+signed+"&"+cluster.ParamNode+"=node2"); se == nil {
		t.Errorf("relay request with a play signature but no cluster credential was let in")
	}
	if se := clusterPlayStatus(ctx, t, url+"?"+signed); se != nil {
		t.Errorf("signed play of the private room refused: %v", se)
	}
	// On another node, viewers still need the play signature; with it,
	// they play through that node's relay.
	n2 := nodes[1]
	expectMediaError(ctx, t, n2.flvURL(room.Stream), http.StatusForbidden, "invalid_signature")
	if se := clusterPlayStatus(ctx, t, n2.rtmpURL(room.Stream)); se == nil || se.Code != "NetStream.Play.Failed" {
		t.Errorf("unsigned RTMP play on node 2: %v, want NetStream.Play.Failed", se)
	}
	viewer := startFLVViewer(t, n2.flvURL(room.Stream)+"?"+signed)
	viewer.waitFrames(t, time.Time{}, 10, 15*time.Second)

	// With node 2 relaying, every other protocol there still refuses the
	// unsigned: WebSocket-FLV, the HLS playlist, its segments and the live
	// cover.
	checkWSRefused(ctx, t, n2.wsURL(room.Stream))
	expectMediaError(ctx, t, n2.hlsURL(room.Stream), http.StatusForbidden, "invalid_signature")
	pl := waitSegments(t, n2.hlsURL(room.Stream)+"?"+signed, 1)
	expectMediaError(ctx, t, stripQuery(t, pl.Segments[len(pl.Segments)-1]), http.StatusForbidden, "invalid_signature")
	expectMediaError(ctx, t, n2.httpURL("/live/"+room.Stream+".jpg"), http.StatusForbidden, "invalid_signature")
	// WHEP too: unsigned refused, signed plays through the relay.
	whep := n2.httpURL("/live/" + room.Stream + "/whep")
	if a, err := webrtcPost(ctx, whep, "", "application/sdp", "v=0"); err != nil || a.Status != http.StatusForbidden || a.Code != "invalid_signature" {
		t.Errorf("unsigned WHEP on node 2: %+v %v, want 403 invalid_signature", a, err)
	}
	webrtcWaitViewer(t, webrtcPlay(ctx, t, whep+"?"+signed), 10, 0, 20*time.Second)
}

// TestClusterOrphanEnded kills the node holding a live whose host does not
// come back: another node ends the room once no node held the live for the
// reconnect grace and the directory's TTL.
func TestClusterOrphanEnded(t *testing.T) {
	nodes, _ := clusterStartNodes(t, 2, roomRules)
	n1, n2 := nodes[0], nodes[1]
	ctx := testContext(t)
	rm, host, push := clusterRoom(ctx, t, n1.testServer, false)
	pub := startPublisher(t, n1.rtmpURL(rm.Stream)+"?"+push)
	n1.waitLive(t, rm.Stream)
	n2.waitRoom(t, host.Token, rm.ID, "live", liveTimeout, func(r roomJSON) bool { return r.Status == statusLive })
	n1.kill(t)
	pub.kill()
	killed := time.Now()
	n2.waitRoom(t, host.Token, rm.ID, "ended by the surviving node", 45*time.Second, func(r roomJSON) bool { return r.Status == statusEnded })
	t.Logf("room ended %v after its node was killed (grace %v)", time.Since(killed).Round(time.Millisecond), roomGrace)
}

// clusterLogRelayLatency reads n video frames from the origin's and an
// edge's HTTP-FLV at once and logs how much later each frame arrived on the
// edge (the relay's added latency; measured, not asserted).
func clusterLogRelayLatency(ctx context.Context, t *testing.T, originURL, edgeURL string, n int) {
	t.Helper()
	type result struct {
		at  map[uint32]time.Time
		err error
	}
	read := func(url string, out chan<- result) {
		at := make(map[uint32]time.Time)
		rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		req, _ := http.NewRequestWithContext(rctx, http.MethodGet, url, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			out <- result{err: err}
			return
		}
		defer resp.Body.Close()
		s, _, err := newFLVStream(resp.Body)
		for err == nil && len(at) < n {
			var tag flvTag
			if tag, err = s.next(); err == nil && tag.isVideoFrame() {
				at[tag.Timestamp] = time.Now()
			}
		}
		out <- result{at: at, err: err}
	}
	origin, edge := make(chan result, 1), make(chan result, 1)
	go read(originURL, origin)
	go read(edgeURL, edge)
	o, e := <-origin, <-edge
	if o.err != nil || e.err != nil {
		t.Fatalf("relay latency: origin %v, edge %v", o.err, e.err)
	}
	var d []time.Duration
	for ts, eat := range e.at {
		if oat, ok := o.at[ts]; ok {
			d = append(d, eat.Sub(oat))
		}
	}
	if len(d) < n/2 {
		t.Fatalf("relay latency: only %d of %d frames seen on both nodes", len(d), n)
	}
	sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
	pct := func(p float64) time.Duration {
		return d[min(len(d)-1, int(p*float64(len(d))))].Round(100 * time.Microsecond)
	}
	t.Logf("relay-added latency over %d frames (edge arrival − origin arrival): p50 %v, p90 %v, p95 %v, p99 %v, max %v", len(d), pct(0.5), pct(0.9), pct(0.95), pct(0.99), d[len(d)-1].Round(100*time.Microsecond))
}

// TestClusterEdgeFiresNothing relays a live from node 1 to node 2's viewer:
// node 2 sends no webhook and counts a relay, not a publisher; node 1 sends
// the live's webhooks.
func TestClusterEdgeFiresNothing(t *testing.T) {
	recv := []*hookReceiver{startHookReceiver(t), startHookReceiver(t)}
	nodes, _ := clusterStartNodesEach(t, 2, func(i int, c *config.Config) {
		c.Hub.ReconnectGrace = time.Second
		sendHooksTo(recv[i])(c)
	})
	n1, n2 := nodes[0], nodes[1]
	name := streamName("quiet")
	pub := startPublisher(t, n1.rtmpURL(name))
	n1.waitLive(t, name)
	viewer := startFLVViewer(t, n2.flvURL(name))
	viewer.waitFrames(t, time.Time{}, 10, 15*time.Second)
	clusterWaitMetric(t, n2.testServer, "roomcast_relays 1")
	clusterWaitMetric(t, n2.testServer, "roomcast_publishers 0")
	clusterWaitMetric(t, n1.testServer, "roomcast_publishers 1")

	pub.kill()
	recv[0].wait(t, "node 1's webhooks of the live", 30*time.Second, func(reqs []hookRequest) bool {
		return hasTypes(hookEvents(reqs, name, delivered), 1, webhook.TypeStreamPublished, webhook.TypeStreamUnpublished)
	})
	select {
	case <-viewer.done:
	case <-time.After(20 * time.Second):
		t.Fatal("viewer on node 2 still connected after the live ended")
	}
	clusterWaitMetric(t, n2.testServer, "roomcast_relays 0")
	if ev := hookEvents(recv[1].requests(), name, func(int) bool { return true }); len(ev) != 0 {
		t.Errorf("node 2 sent webhooks for a stream it only relayed: %v", ev)
	}
}
