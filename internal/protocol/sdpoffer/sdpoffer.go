// Package sdpoffer checks the SDP offer of a WHIP or WHEP request (RFC
// 9725) before it reaches the WebRTC stack, so that a malformed or useless
// offer is refused with a reason. It parses with pion/sdp and opens nothing.
package sdpoffer

import (
	"errors"
	"fmt"
	"strings"

	"github.com/pion/sdp/v3"
)

// MaxSize bounds an offer; browsers' offers are a few kilobytes.
const MaxSize = 64 << 10

// ErrMalformed is matched by every refusal of Parse.
var ErrMalformed = errors.New("malformed SDP offer")

// Media is one m= section of an offer.
type Media struct {
	// Kind is "audio" or "video".
	Kind string
	// Direction is sendrecv, sendonly, recvonly or inactive.
	Direction string
	// Codecs are the offered codecs' names in lower case ("h264", "opus",
	// "vp8", "rtx", …), in the offer's order of preference.
	Codecs []string
	// H264Mode1 is set when an H.264 format allows packetization-mode 1.
	H264Mode1 bool
}

// Sends reports whether the offerer sends on this section.
func (m Media) Sends() bool { return m.Direction == "sendrecv" || m.Direction == "sendonly" }

// Receives reports whether the offerer receives on this section.
func (m Media) Receives() bool { return m.Direction == "sendrecv" || m.Direction == "recvonly" }

// Has reports whether codec (lower case) is offered.
func (m Media) Has(codec string) bool {
	for _, c := range m.Codecs {
		if c == codec {
			return true
		}
	}
	return false
}

// Offer is what a server needs to know of an offer.
type Offer struct {
	Media []Media
}

// Find returns the first section of kind, if any.
func (o *Offer) Find(kind string) (Media, bool) {
	for _, m := range o.Media {
		if m.Kind == kind {
			return m, true
		}
	}
	return Media{}, false
}

// Parse checks an offer: it must parse as SDP, carry ICE credentials and a
// DTLS fingerprint, and have at least one audio or video section that is not
// rejected (port 0). Refusals match ErrMalformed and say what is wrong.
func Parse(b []byte) (*Offer, error) {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: "+format, append([]any{ErrMalformed}, args...)...)
	}
	if len(b) == 0 {
		return nil, bad("empty body")
	}
	if len(b) > MaxSize {
		return nil, bad("%d bytes, more than %d", len(b), MaxSize)
	}
	var sd sdp.SessionDescription
	if err := sd.UnmarshalString(string(b)); err != nil {
		return nil, bad("%v", err)
	}
	session := func(key string) bool { _, ok := sd.Attribute(key); return ok }
	o := &Offer{}
	for i, md := range sd.MediaDescriptions {
		kind := md.MediaName.Media
		if kind != "audio" && kind != "video" {
			continue // data channels and others are answered as rejected
		}
		if md.MediaName.Port.Value == 0 {
			continue
		}
		has := func(key string) bool { _, ok := md.Attribute(key); return ok || session(key) }
		if !has("ice-ufrag") || !has("ice-pwd") {
			return nil, bad("m= section %d (%s) has no ICE credentials (a=ice-ufrag, a=ice-pwd)", i, kind)
		}
		if !has("fingerprint") {
			return nil, bad("m= section %d (%s) has no DTLS fingerprint (a=fingerprint)", i, kind)
		}
		o.Media = append(o.Media, parseMedia(kind, md))
	}
	if len(o.Media) == 0 {
		return nil, bad("no audio or video section")
	}
	return o, nil
}

func parseMedia(kind string, md *sdp.MediaDescription) Media {
	m := Media{Kind: kind, Direction: "sendrecv"}
	names := map[string]string{} // payload type → codec
	fmtp := map[string]string{}
	for _, a := range md.Attributes {
		switch a.Key {
		case "sendrecv", "sendonly", "recvonly", "inactive":
			m.Direction = a.Key
		case "rtpmap":
			pt, rest, _ := strings.Cut(a.Value, " ")
			name, _, _ := strings.Cut(rest, "/")
			names[pt] = strings.ToLower(name)
		case "fmtp":
			pt, params, _ := strings.Cut(a.Value, " ")
			fmtp[pt] = params
		}
	}
	for _, pt := range md.MediaName.Formats {
		name, ok := names[pt]
		if !ok {
			continue
		}
		if !m.Has(name) {
			m.Codecs = append(m.Codecs, name)
		}
		if name == "h264" && strings.Contains(strings.ReplaceAll(fmtp[pt], " ", ""), "packetization-mode=1") {
			m.H264Mode1 = true
		}
	}
	return m
}
