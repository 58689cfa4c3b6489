package room

import "testing"

func TestParseStream(t *testing.T) {
	for _, tc := range []struct {
		name string
		want StreamRef
		ok   bool
	}{
		{"s_abc", StreamRef{Room: "s_abc", Kind: KindHost}, true},
		{"s_abc-user_x1", StreamRef{Room: "s_abc", Kind: KindCohost, UserID: "user_x1"}, true},
		{"s_abc-programme", StreamRef{Room: "s_abc", Kind: KindProgramme}, true},
		{"s_abc-mix", StreamRef{Room: "s_abc", Kind: KindMix}, true},
		{"s_abc-user_", StreamRef{}, false},
		{"s_abc-user_a-b", StreamRef{}, false},
		{"s_abc-other", StreamRef{}, false},
		{"-programme", StreamRef{}, false},
		{"", StreamRef{}, false},
	} {
		got, ok := ParseStream(tc.name)
		if got != tc.want || ok != tc.ok {
			t.Errorf("ParseStream(%q) = %+v, %v; want %+v, %v", tc.name, got, ok, tc.want, tc.ok)
		}
	}
	for _, n := range []string{MemberStream("s_r", "user_u"), ProgrammeStream("s_r"), MixStream("s_r")} {
		if ref, ok := ParseStream(n); !ok || ref.Room != "s_r" {
			t.Errorf("ParseStream(%q) = %+v, %v", n, ref, ok)
		}
	}
}

func FuzzParseStream(f *testing.F) {
	for _, s := range []string{"s_abc", "s_abc-user_x", "s_abc-programme", "s_abc-mix", "-", "a-b-c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		ref, ok := ParseStream(name)
		if !ok {
			return
		}
		var back string
		switch ref.Kind {
		case KindHost:
			back = ref.Room
		case KindCohost:
			back = MemberStream(ref.Room, ref.UserID)
		case KindProgramme:
			back = ProgrammeStream(ref.Room)
		case KindMix:
			back = MixStream(ref.Room)
		default:
			t.Fatalf("kind %d", ref.Kind)
		}
		if back != name {
			t.Fatalf("ParseStream(%q) = %+v, which names %q", name, ref, back)
		}
	})
}
