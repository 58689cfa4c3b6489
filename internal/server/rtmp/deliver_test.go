package rtmp

import (
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"roomcast/internal/protocol/rtmp"
)

// publishHeaders starts publishing stream name with the codec headers and
// a keyframe, and waits until the hub has them.
func publishHeaders(t *testing.T, base, name string) *rtmp.Client {
	t.Helper()
	pub := dial(t, base+"/live/"+name)
	if err := pub.Publish(ctx5(t)); err != nil {
		t.Fatal(err)
	}
	for i, b := range [][]byte{avcSeq, aacSeq, key} {
		typ := uint8(rtmp.TypeVideo)
		if i == 1 {
			typ = rtmp.TypeAudio
		}
		if err := pub.WriteMedia(typ, 0, b); err != nil {
			t.Fatal(err)
		}
	}
	return pub
}

// readMedia reads media messages until it has n whose timestamps are at
// least from, and returns their timestamps in order.
func readMedia(c *rtmp.Client, n int, from uint32) ([]uint32, error) {
	var ts []uint32
	for len(ts) < n {
		m, err := c.ReadMessage()
		if err != nil {
			return ts, err
		}
		if m.Type == rtmp.TypeVideo && m.Timestamp >= from {
			ts = append(ts, m.Timestamp)
		}
	}
	return ts, nil
}

// A player that stops reading does not hold back the others: they get
// every frame, in order, while its socket is full.
func TestPlayStalledViewerDoesNotBlockOthers(t *testing.T) {
	base, h := startServer(t, nil)
	pub := publishHeaders(t, base, "s")
	waitFor(t, func() bool { return h.Stream("s") != nil })
	stalled := dial(t, base+"/live/s")
	if err := stalled.Play(ctx5(t)); err != nil {
		t.Fatal(err)
	}
	reader := dial(t, base+"/live/s")
	if err := reader.Play(ctx5(t)); err != nil {
		t.Fatal(err)
	}
	_ = reader.SetDeadline(time.Now().Add(20 * time.Second))
	waitFor(t, func() bool { return h.Stream("s").Stats().ViewersByProtocol["rtmp"] == 2 })
	const frames = 60
	got := make(chan []uint32, 1)
	errc := make(chan error, 1)
	go func() {
		ts, err := readMedia(reader, frames, 1000)
		got <- ts
		errc <- err
	}()
	big := append(append([]byte{}, inter...), make([]byte, 60<<10)...)
	for i := range frames {
		if err := pub.WriteMedia(rtmp.TypeVideo, uint32(1000+i*40), big); err != nil {
			t.Fatal(err)
		}
		time.Sleep(2 * time.Millisecond)
	}
	select {
	case ts := <-got:
		if err := <-errc; err != nil {
			t.Fatalf("reading player: %v after %d frames", err, len(ts))
		}
		for i, v := range ts {
			if v != uint32(1000+i*40) {
				t.Fatalf("frame %d has timestamp %d, want %d", i, v, 1000+i*40)
			}
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the reading player did not get its frames")
	}
}

// A player is told that the stream ended (the connection then closes), and
// a player that leaves is counted out while the stream goes on.
func TestPlayEndsAndLeaves(t *testing.T) {
	base, h := startServer(t, nil)
	pub := publishHeaders(t, base, "s")
	waitFor(t, func() bool { return h.Stream("s") != nil })
	leaving := dial(t, base+"/live/s")
	if err := leaving.Play(ctx5(t)); err != nil {
		t.Fatal(err)
	}
	staying := dial(t, base+"/live/s")
	if err := staying.Play(ctx5(t)); err != nil {
		t.Fatal(err)
	}
	_ = staying.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := readMedia(staying, 1, 0); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return h.Stream("s").Stats().ViewersByProtocol["rtmp"] == 2 })
	leaving.Close()
	deadline := time.Now().Add(10 * time.Second)
	for ts := uint32(40); h.Stream("s").Stats().ViewersByProtocol["rtmp"] != 1; ts += 40 {
		if time.Now().After(deadline) {
			t.Fatalf("rtmp viewers = %d after one left, want 1", h.Stream("s").Stats().ViewersByProtocol["rtmp"])
		}
		if err := pub.WriteMedia(rtmp.TypeVideo, ts, inter); err != nil {
			t.Fatal(err)
		}
		time.Sleep(5 * time.Millisecond)
	}
	pub.Close()
	var err error
	for err == nil {
		_, err = staying.ReadMessage()
	}
	var ne net.Error
	if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) && !(errors.As(err, &ne) && !ne.Timeout()) {
		t.Fatalf("after the stream ended: %v, want the connection closed", err)
	}
}
