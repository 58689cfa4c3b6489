package room

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"time"

	"roomcast/internal/store"
)

// Manage returns the room with the given ID if actor may manage it (its
// owner or an admin); else ErrForbidden, or ErrNotFound for a private room
// actor may not see.
func (s *Service) Manage(ctx context.Context, actor *store.User, id string) (*store.Room, error) {
	return s.manage(ctx, actor, id)
}

// CoverRoom returns the room with the given ID for a request of its stored
// cover: a room viewer may see, or a private room whose play signature q
// carries (an <img> sends no session). Anything else is ErrNotFound.
func (s *Service) CoverRoom(ctx context.Context, viewer *store.User, id string, q url.Values) (*store.Room, error) {
	r, err := s.st.RoomByID(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("room: cover: %w", err)
	}
	if CanSee(viewer, r) {
		return r, nil
	}
	if err := s.play.Verify(r.Stream, q); err != nil {
		return nil, fmt.Errorf("room: cover %q: %w", id, ErrNotFound)
	}
	return r, nil
}

// CoverURL returns the URL of r's cover for viewer, or "" if viewer may not
// see r. While live it is the live cover, APP/STREAM.jpg; otherwise the
// stored cover, /api/v1/rooms/ID/cover, versioned by its update time so
// that a cache never serves an old one. A private room's URL carries a play
// signature valid for Config.PlayTTL.
func (s *Service) CoverURL(viewer *store.User, r *store.Room, live bool, stored time.Time) string {
	if !CanSee(viewer, r) {
		return ""
	}
	q := url.Values{}
	u := s.httpBase + "/api/v1/rooms/" + url.PathEscape(r.ID) + "/cover"
	if live {
		u = s.httpBase + "/" + s.cfg.App + "/" + r.Stream + ".jpg"
	} else {
		q.Set("v", strconv.FormatInt(stored.Unix(), 10))
	}
	if r.Private {
		sig, err := url.ParseQuery(s.play.Query(r.Stream, s.cfg.Now().Add(s.cfg.PlayTTL).Truncate(time.Second)))
		if err == nil {
			for k, v := range sig {
				q[k] = v
			}
		}
	}
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	return u
}

// RenditionURLs returns the play URLs of rendition variant ("480p") of r's
// programme (what its play URLs carry), PROGRAMME_VARIANT, for viewer, or
// nil if viewer may not see r. A private room's URLs carry the signature
// of its own stream, which plays its renditions too.
func (s *Service) RenditionURLs(viewer *store.User, r *store.Room, variant string) *PlayURLs {
	if !CanSee(viewer, r) {
		return nil
	}
	return s.streamURLs(r, ProgrammeStream(r.Stream)+"_"+variant)
}
