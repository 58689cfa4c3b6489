package cluster

import (
	"errors"
	"net/url"
	"strconv"
	"testing"
	"time"
)

func TestCredentialVerify(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	cred := NewCredential("0123456789abcdef-key")
	good := cred.Query("s1", "node2", now)
	with := func(k, v string) url.Values {
		q := url.Values{}
		for key, vs := range good {
			q[key] = append([]string(nil), vs...)
		}
		q.Set(k, v)
		return q
	}
	tests := []struct {
		name   string
		cred   Credential
		q      url.Values
		stream string
		now    time.Time
		ok     bool
	}{
		{"valid", cred, good, "s1", now, true},
		{"valid within skew", cred, good, "s1", now.Add(4 * time.Minute), true},
		{"too old", cred, good, "s1", now.Add(6 * time.Minute), false},
		{"from the future", cred, good, "s1", now.Add(-6 * time.Minute), false},
		{"other stream", cred, good, "s2", now, false},
		{"other node", cred, with(ParamNode, "node3"), "s1", now, false},
		{"other key", NewCredential("another-key-0123456"), good, "s1", now, false},
		{"no key here", Credential{}, good, "s1", now, false},
		{"no signature", cred, url.Values{ParamNode: {"node2"}}, "s1", now, false},
		{"bad time", cred, with(ParamTime, "soon"), "s1", now, false},
		{"bad signature", cred, with(ParamSign, "00"), "s1", now, false},
		{"nothing", cred, url.Values{}, "s1", now, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			node, err := tt.cred.Verify(tt.q, tt.stream, tt.now)
			if tt.ok {
				if err != nil || node != "node2" {
					t.Fatalf("Verify = %q, %v; want node2, nil", node, err)
				}
				return
			}
			if !errors.Is(err, ErrCredential) {
				t.Fatalf("Verify = %q, %v; want ErrCredential", node, err)
			}
		})
	}
}

func TestIsRelay(t *testing.T) {
	for q, want := range map[string]bool{
		"":                         false,
		"txSecret=a&txTime=b":      false,
		"relayNode=x":              true,
		"relaySign=":               true,
		"relayTime=1&other=2":      true,
		"RELAYNODE=x":              false, // parameters are case-sensitive
		"relayNode=a&relaySign=ab": true,
	} {
		v, err := url.ParseQuery(q)
		if err != nil {
			t.Fatal(err)
		}
		if got := IsRelay(v); got != want {
			t.Errorf("IsRelay(%q) = %v, want %v", q, got, want)
		}
	}
}

// FuzzVerify checks that any query string is judged without a panic, that
// only a correctly signed one passes, and that signing round-trips.
func FuzzVerify(f *testing.F) {
	now := time.Unix(1_800_000_000, 0)
	cred := NewCredential("0123456789abcdef-key")
	f.Add(cred.Query("s1", "node2", now).Encode(), "s1")
	f.Add("relayNode=a&relayTime=1800000000&relaySign=zz", "s1")
	f.Add("relayTime=-99999999999999999999", "x")
	f.Fuzz(func(t *testing.T, raw, stream string) {
		q, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		node, err := cred.Verify(q, stream, now)
		if err == nil {
			unix, _ := strconv.ParseInt(q.Get(ParamTime), 10, 64)
			want := cred.Query(stream, node, time.Unix(unix, 0))
			if want.Get(ParamSign) != q.Get(ParamSign) {
				t.Fatalf("Verify accepted %q with a signature it would not make", raw)
			}
		}
		signed := cred.Query(stream, "n", now)
		if _, err := cred.Verify(signed, stream, now); err != nil {
			t.Fatalf("Verify refused its own signature for stream %q: %v", stream, err)
		}
	})
}
