package record

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"roomcast/internal/hub"
	"roomcast/internal/store"
)

func (m *memStore) DeleteRecording(_ context.Context, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.recs[id]; !ok {
		return store.ErrNotFound
	}
	delete(m.recs, id)
	m.ids = slices.DeleteFunc(m.ids, func(x string) bool { return x == id })
	return nil
}

func TestSweep(t *testing.T) {
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		name string
		ret  Retention
		want []string // kept, oldest first
	}{
		{"no bounds", Retention{}, []string{"r0", "r1", "r2", "r3", "r4"}},
		{"by age", Retention{MaxAge: 150 * time.Minute}, []string{"r2", "r3", "r4"}},
		// 500 bytes, the recording in progress (r4) counted but kept.
		{"by size", Retention{MaxBytes: 250}, []string{"r3", "r4"}},
		{"size keeps in progress", Retention{MaxBytes: 1}, []string{"r4"}},
		{"both", Retention{MaxAge: 250 * time.Minute, MaxBytes: 350}, []string{"r2", "r3", "r4"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			st := newMemStore()
			r := New(hub.New(hub.Config{}, nil), Config{Dir: t.TempDir()}, st, slog.New(slog.DiscardHandler))
			// Created out of order: the sweep orders by start time.
			for _, i := range []int{3, 0, 4, 2, 1} {
				status := store.RecordingReady
				if i == 4 {
					status = store.RecordingActive
				} else if i == 1 {
					status = store.RecordingFailed
				}
				rec := store.Recording{ID: "r" + string(rune('0'+i)), RoomID: "room1", Status: status,
					StartedAt: base.Add(time.Duration(i) * time.Hour), Bytes: 100}
				if err := st.CreateRecording(t.Context(), &rec); err != nil {
					t.Fatal(err)
				}
				name, err := r.Path("room1", rec.ID, "0.ts")
				if err != nil {
					t.Fatal(err)
				}
				if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(name, make([]byte, 100), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			now := base.Add(4*time.Hour + 30*time.Minute)
			if _, err := r.Sweep(t.Context(), st, c.ret, now); err != nil {
				t.Fatal(err)
			}
			var kept []string
			for _, rec := range st.all() {
				kept = append(kept, rec.ID)
			}
			slices.Sort(kept)
			if !slices.Equal(kept, c.want) {
				t.Fatalf("kept %v, want %v", kept, c.want)
			}
			for _, id := range []string{"r0", "r1", "r2", "r3", "r4"} {
				_, err := os.Stat(filepath.Join(r.cfg.Dir, "room1", id))
				if gone := os.IsNotExist(err); gone == slices.Contains(c.want, id) {
					t.Errorf("%s: files gone = %v, kept = %v", id, gone, slices.Contains(c.want, id))
				}
			}
		})
	}
}

func TestRemoveRefusesBadIDs(t *testing.T) {
	r := New(hub.New(hub.Config{}, nil), Config{Dir: t.TempDir()}, newMemStore(), nil)
	for _, rec := range []store.Recording{{ID: "..", RoomID: "room1"}, {ID: "rec1", RoomID: "../x"}, {ID: "", RoomID: "room1"}} {
		if err := r.Remove(rec); err == nil {
			t.Errorf("Remove(%q, %q) succeeded", rec.RoomID, rec.ID)
		}
	}
}

// TestWaitFinalisesOnShutdown: ending the hub's streams, then waiting for
// the recorder before cancelling its context, leaves the recordings ready.
func TestWaitFinalisesOnShutdown(t *testing.T) {
	e := newEnv(t, hub.Config{ReconnectGrace: time.Hour}, nil)
	p := e.publish(t, "s1", 1)
	p.headers()
	p.media(5000, 1000)
	e.hub.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	if err := e.rec.Wait(ctx); err != nil {
		t.Fatalf("Wait: %v", err)
	}
	recs := e.store.all()
	if len(recs) != 1 || recs[0].Status != store.RecordingReady {
		t.Fatalf("recordings after Wait: %+v", recs)
	}
}
