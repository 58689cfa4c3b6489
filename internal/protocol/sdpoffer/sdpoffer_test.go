package sdpoffer

import (
	"errors"
	"strings"
	"testing"
)

const browserOffer = "v=0\r\n" +
	"o=- 4215 2 IN IP4 127.0.0.1\r\n" +
	"s=-\r\n" +
	"t=0 0\r\n" +
	"a=group:BUNDLE 0 1\r\n" +
	"a=fingerprint:sha-256 AA:BB\r\n" +
	"m=audio 9 UDP/TLS/RTP/SAVPF 111\r\n" +
	"c=IN IP4 0.0.0.0\r\n" +
	"a=ice-ufrag:abcd\r\n" +
	"a=ice-pwd:abcdefghijklmnopqrstuvwx\r\n" +
	"a=setup:actpass\r\n" +
	"a=mid:0\r\n" +
	"a=recvonly\r\n" +
	"a=rtpmap:111 opus/48000/2\r\n" +
	"m=video 9 UDP/TLS/RTP/SAVPF 96 102\r\n" +
	"c=IN IP4 0.0.0.0\r\n" +
	"a=ice-ufrag:abcd\r\n" +
	"a=ice-pwd:abcdefghijklmnopqrstuvwx\r\n" +
	"a=setup:actpass\r\n" +
	"a=mid:1\r\n" +
	"a=recvonly\r\n" +
	"a=rtpmap:96 VP8/90000\r\n" +
	"a=rtpmap:102 H264/90000\r\n" +
	"a=fmtp:102 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f\r\n"

func TestParse(t *testing.T) {
	o, err := Parse([]byte(browserOffer))
	if err != nil {
		t.Fatal(err)
	}
	v, ok := o.Find("video")
	if !ok || !v.Has("h264") || !v.H264Mode1 || v.Sends() || !v.Receives() || v.Codecs[0] != "vp8" {
		t.Fatalf("video %+v", v)
	}
	a, ok := o.Find("audio")
	if !ok || !a.Has("opus") {
		t.Fatalf("audio %+v", a)
	}
}

func TestParseRefusals(t *testing.T) {
	tests := []struct {
		name  string
		offer string
		want  string
	}{
		{"empty", "", "empty body"},
		{"not sdp", "hello", "malformed SDP offer"},
		{"no media", "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n", "no audio or video section"},
		{"no ice", strings.ReplaceAll(browserOffer, "a=ice-ufrag:abcd\r\n", ""), "no ICE credentials"},
		{"no fingerprint", strings.ReplaceAll(browserOffer, "a=fingerprint:sha-256 AA:BB\r\n", ""), "no DTLS fingerprint"},
		{"too large", strings.Repeat("x", MaxSize+1), "more than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.offer))
			if !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(browserOffer))
	f.Add([]byte("v=0\r\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		o, err := Parse(b)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("refusal %v does not match ErrMalformed", err)
			}
			return
		}
		if len(o.Media) == 0 {
			t.Fatal("accepted an offer without media")
		}
	})
}
