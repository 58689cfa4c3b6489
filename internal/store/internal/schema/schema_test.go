package schema

import (
	"errors"
	"testing"
	"testing/fstest"

	"roomcast/internal/store"
)

func TestLoad(t *testing.T) {
	ms, err := Load(fstest.MapFS{
		"0002_b.sql": {Data: []byte("B")},
		"0001_a.sql": {Data: []byte("A")},
		"sub/x":      {Data: []byte("")},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 2 || ms[0] != (Migration{1, "a", "A"}) || ms[1] != (Migration{2, "b", "B"}) || Latest(ms) != 2 {
		t.Fatalf("Load = %+v", ms)
	}
	if Latest(nil) != 0 {
		t.Fatal("Latest(nil) != 0")
	}
}

func TestLoadErrors(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files fstest.MapFS
	}{
		{"bad name", fstest.MapFS{"init.sql": {Data: []byte("")}}},
		{"bad extension", fstest.MapFS{"0001_init.txt": {Data: []byte("")}}},
		{"version zero", fstest.MapFS{"0000_init.sql": {Data: []byte("")}}},
		{"duplicate version", fstest.MapFS{"0001_a.sql": {Data: []byte("")}, "0001_b.sql": {Data: []byte("")}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := Load(tc.files); err == nil {
				t.Fatal("Load succeeded")
			}
		})
	}
}

func TestCheck(t *testing.T) {
	ms := []Migration{{Version: 1}, {Version: 2}, {Version: 4}}
	for _, tc := range []struct {
		name    string
		applied map[int]bool
		tooNew  bool
		wantErr bool
	}{
		{"fresh", map[int]bool{}, false, false},
		{"part", map[int]bool{1: true}, false, false},
		{"all", map[int]bool{1: true, 2: true, 4: true}, false, false},
		{"newer", map[int]bool{1: true, 2: true, 4: true, 5: true, 9: true}, true, true},
		{"unknown older", map[int]bool{1: true, 3: true}, false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := Check(tc.applied, ms)
			if (err != nil) != tc.wantErr || errors.Is(err, store.ErrSchemaTooNew) != tc.tooNew {
				t.Fatalf("Check = %v", err)
			}
			if tc.tooNew {
				want := "database schema version 9 is newer than this roomcast (4); upgrade roomcast"
				if err.Error() != want {
					t.Fatalf("message %q, want %q", err, want)
				}
			}
		})
	}
}
