package room

import (
	"context"
	"fmt"
	"time"

	"roomcast/internal/store"
)

// PushURL is a signed RTMP publish URL in two forms: URL for clients that
// take one URL (ffmpeg, the mini program's live-pusher) and Server plus
// StreamKey for OBS, whose concatenation is URL.
type PushURL struct {
	// URL is rtmp://HOST:PORT/APP/STREAM?txSecret=…&txTime=….
	URL string
	// Server is rtmp://HOST:PORT/APP/.
	Server string
	// StreamKey is STREAM?txSecret=…&txTime=….
	StreamKey string
	// WHIP is the WebRTC publish URL with the same signature:
	// http(s)://HOST/APP/STREAM/whip?txSecret=…&txTime=….
	WHIP string
	// ExpiresAt is when the signature expires (to the second).
	ExpiresAt time.Time
}

// PlayURLs are the URLs a room's stream plays at. For a private room they
// carry a play signature and ExpiresAt is set; for a public room they are
// unsigned and ExpiresAt is nil.
type PlayURLs struct {
	RTMP      string     // rtmp://HOST:PORT/APP/STREAM
	FLV       string     // http(s)://HOST/APP/STREAM.flv
	WSFLV     string     // ws(s)://HOST/APP/STREAM.flv
	HLS       string     // http(s)://HOST/APP/STREAM.m3u8
	WHEP      string     // http(s)://HOST/APP/STREAM/whep (WebRTC, POST an SDP offer)
	ExpiresAt *time.Time // expiry of the signature of a private room's URLs
}

// PushURL returns a push URL valid for Config.PushTTL: for the room's own
// stream if actor is its owner or an admin, for actor's own co-host stream
// if actor is a co-host of the room (see MemberStream), else ErrForbidden
// (or ErrNotFound for a private room).
func (s *Service) PushURL(ctx context.Context, actor *store.User, id string) (*PushURL, error) {
	r, err := s.Get(ctx, actor, id)
	if err != nil {
		return nil, err
	}
	if CanManage(actor, r) {
		return s.SignPush(r.Stream), nil
	}
	ok, err := s.IsCohost(ctx, r, actor)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("room %q: push URL: %w", id, ErrForbidden)
	}
	return s.SignPush(MemberStream(r.Stream, actor.ID)), nil
}

// SignPush returns a push URL for stream valid for Config.PushTTL, without
// any permission check (for the roomcast CLI).
func (s *Service) SignPush(stream string) *PushURL {
	exp := s.cfg.Now().Add(s.cfg.PushTTL).Truncate(time.Second)
	server := s.rtmpBase + "/" + s.cfg.App + "/"
	q := "?" + s.push.Query(stream, exp)
	key := stream + q
	whip := s.httpBase + "/" + s.cfg.App + "/" + stream + "/whip" + q
	return &PushURL{URL: server + key, Server: server, StreamKey: key, WHIP: whip, ExpiresAt: exp.UTC()}
}

// PlayURLs returns the play URLs of r for viewer (nil: anonymous), or nil
// if viewer may not see r (see CanSee). They carry the room's programme
// (ProgrammeStream): the host alone, or the mix while co-hosts are live. A
// private room's URLs are signed with the play key and valid for
// Config.PlayTTL.
func (s *Service) PlayURLs(viewer *store.User, r *store.Room) *PlayURLs {
	if !CanSee(viewer, r) {
		return nil
	}
	return s.streamURLs(r, ProgrammeStream(r.Stream))
}

// streamURLs returns the play URLs of one of r's streams. A private room's
// are signed for the room's own stream name: one signature plays every
// stream of the room (see AuthorizePlay).
func (s *Service) streamURLs(r *store.Room, stream string) *PlayURLs {
	path := "/" + s.cfg.App + "/" + stream
	p := &PlayURLs{
		RTMP:  s.rtmpBase + path,
		FLV:   s.httpBase + path + ".flv",
		WSFLV: s.wsBase + path + ".flv",
		HLS:   s.httpBase + path + ".m3u8",
		WHEP:  s.httpBase + path + "/whep",
	}
	if r.Private {
		exp := s.cfg.Now().Add(s.cfg.PlayTTL).Truncate(time.Second)
		q := "?" + s.play.Query(r.Stream, exp)
		p.RTMP += q
		p.FLV += q
		p.WSFLV += q
		p.HLS += q
		p.WHEP += q
		exp = exp.UTC()
		p.ExpiresAt = &exp
	}
	return p
}
