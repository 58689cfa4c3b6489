package e2e

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"roomcast/internal/config"
	"roomcast/internal/protocol/rtmp"
)

// attack is a misbehaving RTMP client.
type attack struct {
	name string
	// handshake: complete a valid handshake before sending the payload.
	handshake bool
	// payload returns the bytes to send; the attacker sends them, then
	// waits for the server to hang up.
	payload func(rng *rand.Rand) []byte
}

// Bounds of the attacks.
const (
	// garbageBytes is how much garbage an attacker sends at most: far more
	// than any parser needs to notice.
	garbageBytes = 8 << 20
	// hangUpTimeout is how long an attacker waits for the server to close
	// the connection. It is below the server's handshake and read
	// time-outs (raised to 60 s in the test) so that only the parser's
	// verdict can end the connection in time.
	hangUpTimeout = 15 * time.Second
	// testMaxMessageSize is the server's message size limit in the test.
	testMaxMessageSize = 1 << 20
	// attackDuration is how long each attack is repeated on new
	// connections, so that the viewer is observed across the attacks.
	attackDuration = 3 * time.Second
	// attackPace is the least time between an attacker's connections.
	attackPace = 20 * time.Millisecond
)

func randomBytes(rng *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := 0; i < n; i += 8 {
		var w [8]byte
		binary.LittleEndian.PutUint64(w[:], rng.Uint64())
		copy(b[i:], w[:])
	}
	return b
}

var attacks = []attack{
	{
		name: "random bytes",
		payload: func(rng *rand.Rand) []byte {
			b := randomBytes(rng, garbageBytes)
			b[0] = 0xf3 // not version 3
			return b
		},
	},
	{
		name: "version byte then random bytes",
		payload: func(rng *rand.Rand) []byte {
			b := randomBytes(rng, garbageBytes)
			b[0] = 3 // C0 accepted; C1, C2 and the chunks are garbage
			return b
		},
	},
	{
		name:      "handshake then garbage chunks",
		handshake: true,
		payload:   func(rng *rand.Rand) []byte { return randomBytes(rng, garbageBytes) },
	},
	{
		name:      "handshake then huge message",
		handshake: true,
		payload: func(*rand.Rand) []byte {
			// Chunk type 0 on chunk stream 3: timestamp 0, length
			// 0xFFFFFF (16 MiB - 1, beyond the 1 MiB limit), type 20
			// (AMF0 command), message stream 0; then the first 128-byte
			// chunk and a few continuation chunks.
			b := []byte{0x03, 0, 0, 0, 0xff, 0xff, 0xff, 20, 0, 0, 0, 0}
			b = append(b, make([]byte, 128)...)
			for range 64 {
				b = append(b, 0xc3)
				b = append(b, make([]byte, 128)...)
			}
			return b
		},
	},
	{
		name:      "handshake then partial messages on many chunk streams",
		handshake: true,
		payload: func(*rand.Rand) []byte {
			// Chunk type 0 with a 3-byte basic header on chunk streams
			// 64..65599, each announcing a 60000-byte video message and
			// sending its first 128 bytes.
			var b []byte
			for i := range 65536 {
				b = append(b, 0x01, byte(i), byte(i>>8), 0, 0, 0, 0, 0xea, 0x60, 9, 1, 0, 0, 0)
				b = append(b, make([]byte, 128)...)
			}
			return b
		},
	},
}

// TestMalformedRTMP sends garbage to the RTMP port from several raw TCP
// clients at once. Each must be disconnected, while a viewer of a live
// stream keeps receiving data and new players are still accepted.
func TestMalformedRTMP(t *testing.T) {
	srv := startServer(t, func(c *config.Config) {
		c.RTMP.MaxMessageSize = testMaxMessageSize
		c.RTMP.HandshakeTimeout = 60 * time.Second
		c.RTMP.ReadTimeout = 60 * time.Second
	})
	name := streamName("malformed")
	pub := startPublisher(t, srv.rtmpURL(name))
	srv.waitLive(t, name)
	viewer := startFLVViewer(t, srv.flvURL(name))
	viewer.waitFrames(t, time.Time{}, 10, 10*time.Second)

	start := time.Now()
	bytesBefore := viewer.byteCount()
	// The attackers run at once, whatever -parallel says.
	results := make([]attackResult, len(attacks))
	var wg sync.WaitGroup
	for i, a := range attacks {
		wg.Go(func() { results[i] = runAttack(srv.rtmpAddr, a, rand.New(rand.NewPCG(uint64(i), 42))) })
	}
	wg.Wait()
	for i, r := range results {
		if r.err != nil {
			t.Errorf("%s: connection %d: %v", attacks[i].name, r.rounds, r.err)
		} else {
			t.Logf("%s: %d connections, each disconnected within %v", attacks[i].name, r.rounds, r.slowest.Round(time.Millisecond))
		}
	}
	end := time.Now()

	if ended, err := viewer.ended(); ended {
		t.Fatalf("HTTP-FLV viewer disconnected during the attacks: %v", err)
	}
	if gap := viewer.maxGap(start, end); gap > 3*time.Second {
		t.Errorf("HTTP-FLV viewer received nothing for %v during the %v of attacks", gap, end.Sub(start).Round(time.Millisecond))
	}
	if got := viewer.byteCount() - bytesBefore; got <= 0 {
		t.Errorf("HTTP-FLV viewer received %d bytes during the attacks", got)
	}
	if got := viewer.framesSince(start) - viewer.framesSince(end); got == 0 {
		t.Errorf("HTTP-FLV viewer received no video frame during the %v of attacks", end.Sub(start).Round(time.Millisecond))
	}
	viewer.waitFrames(t, time.Now(), 10, 10*time.Second)
	if !pub.running() {
		t.Errorf("publisher exited during the attacks: %v", pub.err)
	}

	ctx := testContext(t)
	t.Run("new RTMP player", func(t *testing.T) {
		rtmpPlayKeyframe(ctx, t, srv.rtmpURL(name))
	})
	t.Run("new HTTP-FLV player", func(t *testing.T) {
		flvPlayKeyframe(ctx, t, srv.flvURL(name))
	})
}

// attackResult is the outcome of runAttack.
type attackResult struct {
	rounds  int           // connections made
	slowest time.Duration // longest time to a hang-up
	err     error         // the first failure, which ended the attack
}

// runAttack repeats an attack on new connections for attackDuration (at
// least once), checking that the server hangs up on every one.
func runAttack(addr string, a attack, rng *rand.Rand) attackResult {
	payload := a.payload(rng)
	start := time.Now()
	var res attackResult
	// Paced, so that thousands of closed sockets do not exhaust the
	// ephemeral ports of a machine running other tests.
	pace := time.NewTicker(attackPace)
	defer pace.Stop()
	for ; res.rounds == 0 || time.Since(start) < attackDuration; <-pace.C {
		res.rounds++
		took, err := attackOnce(addr, a.handshake, payload)
		if err != nil {
			res.err = err
			return res
		}
		res.slowest = max(res.slowest, took)
	}
	return res
}

// attackOnce connects to addr, optionally performs a valid handshake, sends
// payload and waits for the server to hang up. It returns how long that
// took after the handshake.
func attackOnce(addr string, handshake bool, payload []byte) (time.Duration, error) {
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return 0, fmt.Errorf("dial: %w", err)
	}
	defer conn.Close()
	if handshake {
		_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
		if err := rtmp.ClientHandshake(conn); err != nil {
			return 0, fmt.Errorf("handshake: %w", err)
		}
	}
	sent := time.Now()
	_ = conn.SetDeadline(sent.Add(hangUpTimeout))

	written := make(chan int, 1)
	go func() {
		n := 0
		for n < len(payload) {
			m, err := conn.Write(payload[n:min(n+16<<10, len(payload))])
			n += m
			if err != nil {
				break // the server hung up, or stopped reading (see below)
			}
		}
		written <- n
	}()

	// The server speaks only after a valid connect, so everything read is
	// unexpected but harmless; the end of the stream is what counts.
	_, err = io.Copy(io.Discard, conn)
	conn.Close() // unblocks the writer
	n := <-written
	if ne := net.Error(nil); errors.As(err, &ne) && ne.Timeout() {
		return 0, fmt.Errorf("still connected %v after sending %d of %d bytes", hangUpTimeout, n, len(payload))
	}
	// EOF (nil from io.Copy) or a reset: disconnected.
	return time.Since(sent), nil
}

// rtmpPlayKeyframe plays url with the RTMP client and checks that it
// starts with the AVC sequence header and then a keyframe.
func rtmpPlayKeyframe(ctx context.Context, t *testing.T, url string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	c, err := rtmp.Dial(ctx, url)
	if err != nil {
		t.Fatalf("RTMP dial %s: %v", url, err)
	}
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { c.Close() }) // unblocks ReadMessage
	defer stop()
	if err := c.Play(ctx); err != nil {
		t.Fatalf("RTMP play %s: %v", url, err)
	}
	var (
		tags      []flvTag
		seqHeader bool
	)
	for {
		m, err := c.ReadMessage()
		if err != nil {
			t.Fatalf("RTMP play %s: after %v: %v (context: %v)", url, tags, err, ctx.Err())
		}
		tag := flvTag{Type: m.Type, Timestamp: m.Timestamp, Body: m.Data}
		tags = append(tags, tag)
		switch {
		case tag.isAVCSeqHeader():
			seqHeader = true
		case tag.isVideoFrame():
			if !seqHeader || !tag.isKeyframe() {
				t.Fatalf("RTMP play %s: want the AVC sequence header, then a keyframe; got %v", url, tags)
			}
			return
		}
	}
}

// flvPlayKeyframe plays url over HTTP-FLV and checks that it starts with the
// sequence header and a keyframe.
func flvPlayKeyframe(ctx context.Context, t *testing.T, url string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		t.Fatalf("GET %s: %s: %s", url, resp.Status, strings.TrimSpace(string(b)))
	}
	s, _, err := newFLVStream(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := checkStartsPlayable(s); err != nil {
		t.Fatal(err)
	}
}
