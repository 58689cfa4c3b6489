package app

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"roomcast/internal/api"
	"roomcast/internal/config"
	"roomcast/internal/cover"
	"roomcast/internal/httpx"
	"roomcast/internal/media"
	"roomcast/internal/store"
	"roomcast/internal/transcode"
)

// newCovers builds the live cover grabber: it watches every published
// stream (not the ladder's renditions) and keeps a stream's last cover as
// its room's cover when the stream ends.
func newCovers(c *components, cfg config.Config, log *slog.Logger) *cover.Grabber {
	log = log.With("component", "cover")
	g := cover.New(c.hub, c.transcode, cover.Config{
		Interval: cfg.Transcode.CoverInterval,
		Skip:     c.isRendition,
		Ended: func(stream string, pic cover.Picture) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			rm, err := c.rooms.ByStream(ctx, stream)
			if err != nil {
				if !errors.Is(err, store.ErrNotFound) {
					log.Warn("last cover not kept: room lookup failed", "stream", stream, "err", err)
				}
				return
			}
			err = c.db.PutRoomCover(ctx, &store.RoomCover{RoomID: rm.ID, Source: store.CoverLive,
				JPEG: pic.JPEG, Width: pic.Width, Height: pic.Height, UpdatedAt: pic.At})
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				log.Warn("last cover not kept", "room", rm.ID, "err", err)
			}
		},
	}, log)
	c.hub.OnEvent(g.Handle)
	return g
}

// apiCovers returns the API's view of the covers.
func apiCovers(c *components) api.Covers {
	return coversOf{g: c.covers, db: c.db}
}

// coversOf implements api.Covers over the grabber and the database.
type coversOf struct {
	g  *cover.Grabber
	db coverDB
}

// coverDB is the part of the store covers use.
type coverDB interface {
	RoomCover(ctx context.Context, roomID string, withJPEG bool) (*store.RoomCover, error)
	PutRoomCover(ctx context.Context, c *store.RoomCover) error
}

func (c coversOf) LiveCover(stream string) bool {
	return c.g.Has(stream) // a listing links to it: not a request for it
}

func (c coversOf) RoomCover(ctx context.Context, roomID string, withJPEG bool) (*store.RoomCover, error) {
	return c.db.RoomCover(ctx, roomID, withJPEG)
}

func (c coversOf) PutRoomCover(ctx context.Context, rc *store.RoomCover) error {
	return c.db.PutRoomCover(ctx, rc)
}

// serveLiveCover answers GET /APP/STREAM.jpg: the stream's live cover, or
// 404 when it is not live (or has none yet). The caller checked the play
// rule.
func serveLiveCover(w http.ResponseWriter, r *http.Request, g *cover.Grabber, stream string) {
	httpx.AllowAnyOrigin(w.Header())
	pic, ok := g.Live(stream)
	if !ok {
		httpx.WriteError(w, http.StatusNotFound, "not_found", "the stream is not live, or has no cover yet")
		return
	}
	h := w.Header()
	h.Set("Content-Type", "image/jpeg")
	h.Set("Content-Length", strconv.Itoa(len(pic.JPEG)))
	h.Set("Cache-Control", "public, max-age=5")
	h.Set("Last-Modified", pic.At.UTC().Format(http.TimeFormat))
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(pic.JPEG)
	}
}

// isRendition reports whether stream is a rendition of the quality ladder
// (they get no cover, room status, webhooks or recording of their own).
func (c *components) isRendition(stream string) bool { return c.ladder.IsRendition(stream) }

// replayPoster returns the recorder's poster maker: one frame through
// ffmpeg, as for a live cover; nil without ffmpeg (replays get no poster).
func replayPoster(c *components) func(ctx context.Context, conf, key *media.Packet) ([]byte, error) {
	if !c.transcode.Available() {
		return nil
	}
	return func(ctx context.Context, conf, key *media.Packet) ([]byte, error) {
		pic, err := cover.Grab(ctx, c.transcode, transcode.KindPoster, conf, key)
		if err != nil {
			return nil, err
		}
		return pic.JPEG, nil
	}
}
