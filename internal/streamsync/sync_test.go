package streamsync

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"roomcast/internal/hub"
	"roomcast/internal/store"
	"roomcast/internal/webhook"
)

type fakeRooms struct {
	mu     sync.Mutex
	status map[string]string
}

func (f *fakeRooms) set(stream, status string, at time.Time) (*store.Room, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.status[stream]; !ok {
		return nil, store.ErrNotFound
	}
	f.status[stream] = status
	since := at.Add(-time.Minute)
	return &store.Room{ID: "room_" + stream, Stream: stream, Title: "t", Status: status, LiveSince: &since}, nil
}

func (f *fakeRooms) StreamPublished(_ context.Context, stream string, at time.Time) (*store.Room, error) {
	return f.set(stream, store.StatusLive, at)
}

func (f *fakeRooms) ByStream(_ context.Context, stream string) (*store.Room, error) {
	f.mu.Lock()
	status, ok := f.status[stream]
	f.mu.Unlock()
	if !ok {
		return nil, store.ErrNotFound
	}
	return &store.Room{ID: "room_" + stream, Stream: stream, Status: status}, nil
}

func (f *fakeRooms) StreamEnded(_ context.Context, stream string, at time.Time) (*store.Room, error) {
	return f.set(stream, store.StatusEnded, at)
}

type recorder struct {
	mu     sync.Mutex
	events []webhook.Event
}

func (r *recorder) Emit(_ context.Context, ev webhook.Event) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, ev)
	return nil
}

func TestSync(t *testing.T) {
	rooms := &fakeRooms{status: map[string]string{"s1": store.StatusIdle}}
	rec := &recorder{}
	notes := &noticeRecorder{}
	s := New(rooms, rec, notes, slog.New(slog.NewTextHandler(io.Discard, nil)))
	now := time.Now()
	pub := hub.PublisherInfo{Protocol: "rtmp", RemoteAddr: "1.2.3.4:5"}
	for _, e := range []hub.Event{
		{Type: hub.EventPublished, Stream: "s1", Time: now, Publisher: pub},
		{Type: hub.EventUnpublished, Stream: "s1", Time: now, Publisher: pub, Duration: 2 * time.Second, Bytes: 100},
		{Type: hub.EventPublished, Stream: "s1", Time: now, Publisher: pub, Resumed: true},
		{Type: hub.EventEnded, Stream: "s1", Time: now, Bytes: 200},
		{Type: hub.EventPublished, Stream: "roomless", Time: now, Publisher: pub},
	} {
		s.Handle(e)
	}
	s.Drain(context.Background())
	want := []struct{ typ, room string }{
		{webhook.TypeStreamPublished, "room_s1"},
		{webhook.TypeRoomLive, "room_s1"},
		{webhook.TypeStreamUnpublished, "room_s1"},
		{webhook.TypeStreamPublished, "room_s1"},
		{webhook.TypeRoomEnded, "room_s1"},
		{webhook.TypeStreamPublished, ""},
	}
	if len(rec.events) != len(want) {
		t.Fatalf("events %+v", rec.events)
	}
	for i, w := range want {
		if got := rec.events[i]; got.Type != w.typ || got.Room != w.room {
			t.Fatalf("event %d = %s/%q, want %s/%q", i, got.Type, got.Room, w.typ, w.room)
		}
	}
	if !rec.events[0].Time.Equal(now) {
		t.Fatalf("event time %v, want the hub's %v", rec.events[0].Time, now)
	}
	if d := rec.events[2].Data; d["duration_ms"] != int64(2000) || d["bytes"] != uint64(100) {
		t.Fatalf("unpublished data %v", d)
	}
	if d := rec.events[4].Data; d["duration_ms"] != int64(60000) {
		t.Fatalf("ended data %v", d)
	}
	if rooms.status["s1"] != store.StatusEnded {
		t.Fatalf("room status %s", rooms.status["s1"])
	}
	if got := strings.Join(notes.kinds, ","); got != "room_s1:stream_started,room_s1:stream_ended" {
		t.Fatalf("chat notices %s", got)
	}
}

type noticeRecorder struct{ kinds []string }

func (n *noticeRecorder) Notice(_ context.Context, roomID, kind, _ string) error {
	n.kinds = append(n.kinds, roomID+":"+kind)
	return nil
}

func TestRunDrainsOnShutdown(t *testing.T) {
	rooms := &fakeRooms{status: map[string]string{"s": store.StatusLive}}
	rec := &recorder{}
	s := New(rooms, rec, nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- s.Run(ctx, time.Second) }()
	s.Handle(hub.Event{Type: hub.EventEnded, Stream: "s", Time: time.Now()})
	cancel()
	<-done
	if rooms.status["s"] != store.StatusEnded {
		t.Fatal("ended event lost at shutdown")
	}
}
