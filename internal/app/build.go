package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"roomcast/internal/api"
	"roomcast/internal/auth"
	"roomcast/internal/bus"
	"roomcast/internal/chat"
	"roomcast/internal/cluster"
	"roomcast/internal/config"
	"roomcast/internal/cover"
	"roomcast/internal/httpx"
	"roomcast/internal/hub"
	"roomcast/internal/keepalive"
	"roomcast/internal/ladder"
	"roomcast/internal/media"
	"roomcast/internal/metrics"
	"roomcast/internal/programme"
	"roomcast/internal/quota"
	"roomcast/internal/record"
	"roomcast/internal/retention"
	"roomcast/internal/room"
	"roomcast/internal/server/hls"
	"roomcast/internal/server/httpflv"
	rtmpserver "roomcast/internal/server/rtmp"
	"roomcast/internal/server/vod"
	webrtcserver "roomcast/internal/server/webrtc"
	"roomcast/internal/store"
	"roomcast/internal/streamsync"
	"roomcast/internal/transcode"
	"roomcast/internal/user"
	"roomcast/internal/webhook"

	"github.com/nats-io/nats.go"
)

// components are the long-lived parts of a running server.
type components struct {
	db    Store
	hub   *hub.Hub
	bus   bus.Bus
	nats  *nats.Conn // the cluster's NATS connection; nil on a single node
	chat  *chat.Server
	rooms *room.Service
	users *user.Service
	hooks *webhook.Dispatcher
	sync  *streamsync.Sync
	hls   *hls.Server
	// players serves HLS players' keep-alive connections outside
	// net/http (see package keepalive).
	players *keepalive.Server
	flv     *httpflv.Server
	rtmp    *rtmpserver.Server
	rec     *record.Recorder
	webrtc  *webrtcserver.Server // nil when WebRTC is off
	pgm     *programme.Manager
	// mixLatency is roomcast_mix_latency_seconds (newProgramme).
	mixLatency prometheus.Histogram
	tracker    *httpx.Tracker
	mux        *http.ServeMux

	cluster   *clusterNode       // nil: a single node
	transcode *transcode.Manager // ffmpeg jobs: covers, ladder, mix, WebRTC audio
	covers    *cover.Grabber
	ladder    *ladder.Ladder

	metrics   *metrics.Metrics
	ready     atomic.Bool // started and not shutting down (/readyz)
	chatConns connLimit   // -max-chat-connections
}

// services builds the account and room services over db.
func services(db Store, cfg config.Config, viewers func(string) int, quotaRefused func(string), h *hub.Hub) (*user.Service, *room.Service, error) {
	var wc user.WeChatClient
	if cfg.WeChat.AppID != "" {
		wc = &auth.WeChat{BaseURL: cfg.WeChat.BaseURL, AppID: cfg.WeChat.AppID, Secret: cfg.WeChat.Secret}
	}
	users, err := user.New(db, user.Config{
		SessionTTL: cfg.Auth.SessionTTL,
		Hasher:     auth.PasswordHasher{Cost: cfg.Auth.PasswordCost},
		WeChat:     wc,
	})
	if err != nil {
		return nil, nil, fmt.Errorf("users: %w", err)
	}
	rc := room.Config{
		PushKey:    cfg.Auth.PushKey,
		PlayKey:    cfg.Auth.PlayKey,
		PushTTL:    cfg.Auth.PushURLTTL,
		PlayTTL:    cfg.Auth.PlayURLTTL,
		PublicURL:  cfg.PublicURL,
		PublicRTMP: cfg.PublicRTMP,
		App:        cfg.RTMP.App,
		Viewers:    viewers,

		MaxRoomsPerUser: noLimit(cfg.Quotas.RoomsPerUser),
		QuotaRefused:    quotaRefused,
	}
	cohostRoomConfig(&rc, cfg, h)
	rooms, err := room.New(db, rc)
	if err != nil {
		return nil, nil, fmt.Errorf("rooms: %w", err)
	}
	return users, rooms, nil
}

func build(ctx context.Context, cfg config.Config, connCtx context.Context, log *slog.Logger, bi metrics.Build) (*components, error) {
	db, err := openStore(ctx, cfg, log)
	if err != nil {
		return nil, err
	}
	c := &components{db: db, tracker: &httpx.Tracker{}}
	c.chatConns.max = int64(cfg.Limits.MaxChatConnections)
	c.hub = hub.New(hub.Config{
		GOPMaxFrames:        cfg.Hub.GOPMaxFrames,
		GOPMaxBytes:         cfg.Hub.GOPMaxBytes,
		QueueFrames:         cfg.Hub.QueueFrames,
		QueueBytes:          cfg.Hub.QueueBytes,
		FlushInterval:       orNegative(cfg.Hub.FlushInterval),
		ReconnectGrace:      orNegative(cfg.Hub.ReconnectGrace),
		Takeover:            cfg.Hub.Takeover,
		MaxViewersPerStream: cfg.Hub.MaxViewers,
		MaxViewers:          cfg.Limits.MaxViewers,
		MaxPublishers:       cfg.Limits.MaxPublishers,
		// The metrics are built last, before anything is served.
		Refused: func(limit string) {
			if c.metrics != nil {
				c.metrics.Refused(limit)
			}
		},
	}, log.With("component", "hub"))
	if c.bus, c.nats, err = openBus(ctx, cfg, log); err != nil {
		db.Close()
		return nil, err
	}
	if c.cluster, err = joinCluster(ctx, cfg, c.hub, c.nats, log); err != nil {
		db.Close()
		return nil, err
	}
	if c.users, c.rooms, err = services(db, cfg, c.cluster.viewers(api.HubViewers(c.hub)), c.quotaRefused, c.hub); err != nil {
		db.Close()
		return nil, err
	}
	c.hooks = webhook.New(db, webhook.Config{URLs: cfg.Webhook.URLs, Secret: cfg.Webhook.Secret, Retention: orNegative(cfg.Quotas.OutboxAge), Claimer: webhookClaimer(cfg)}, log.With("component", "webhook"))
	c.chat, err = chat.New(chat.Config{
		NoGuests:         !cfg.Chat.Guests,
		MaxTextLen:       cfg.Chat.MaxTextLen,
		SensitiveWords:   cfg.Chat.SensitiveWords,
		RateMessages:     cfg.Chat.RateMessages,
		RateWindow:       cfg.Chat.RateWindow,
		CohostRequestTTL: cfg.Cohost.RequestTTL,
		ClientIP:         func(r *http.Request) string { return httpx.ClientIP(r, cfg.TrustProxy) },
	}, chat.Deps{
		Store:   db,
		Users:   c.users,
		Rooms:   c.rooms,
		Bus:     c.bus,
		Viewers: c.rooms.StreamViewers,
		Cohosts: chatCohosts{c},
		Log:     log, // chat.New adds component=chat
		Cluster: c.nats != nil,
	})
	if err != nil {
		c.closeBus()
		db.Close()
		return nil, fmt.Errorf("chat: %w", err)
	}
	c.transcode = newTranscoder(ctx, cfg, c, log)
	if c.ladder, err = newLadder(c, cfg, log); err != nil {
		db.Close()
		return nil, err
	}
	c.covers = newCovers(c, cfg, log)
	c.sync = streamsync.New(c.rooms, c.hooks, c.chat, log.With("component", "streamsync"))
	c.hub.OnEvent(c.cluster.events(func(e hub.Event) {
		if !c.isRendition(e.Stream) { // renditions have no room status or webhooks
			c.sync.Handle(e)
		}
	}))
	if err := endStaleRooms(ctx, c.rooms, c.sync, c.cluster); err != nil {
		log.Warn("rooms left live by an earlier run were not ended", "err", err)
	}

	access := &access{rooms: c.rooms, open: cfg.OpenPublish, ladder: c.ladder, cluster: c.cluster, cred: cluster.NewCredential(cfg.Cluster.Key),
		publishes: c.publishesQuota(cfg)}
	c.rec = newRecorder(c, cfg, log)
	c.pgm = newProgramme(c, cfg, mixRunner{c.transcode}, log)
	c.recordMovedLives()
	c.hls = hls.New(c.hub, hls.Config{
		TargetDuration: cfg.HLS.SegmentDuration,
		WindowSegments: cfg.HLS.WindowSegments,
		WriteTimeout:   cfg.HTTP.WriteTimeout,
		PartTarget:     orNegative(cfg.HLS.PartDuration),
		MaxWaiting:     cfg.HLS.MaxWaiting,
	}, log.With("component", "hls"))
	c.players = keepalive.New(connCtx, keepalive.Config{
		Match:        hlsRequest(cfg.RTMP.App),
		IdleTimeout:  2 * time.Minute,
		WriteTimeout: cfg.HTTP.WriteTimeout,
	})
	c.flv = httpflv.New(connCtx, c.hub, cfg.HTTP.WriteTimeout, c.tracker, log.With("component", "httpflv"))
	c.rtmp = rtmpserver.New(rtmpserver.Config{
		App:              cfg.RTMP.App,
		ChunkSize:        cfg.RTMP.ChunkSize,
		MaxConnections:   cfg.RTMP.MaxConnections,
		MaxMessageSize:   cfg.RTMP.MaxMessageSize,
		HandshakeTimeout: cfg.RTMP.HandshakeTimeout,
		ReadTimeout:      cfg.RTMP.ReadTimeout,
		WriteTimeout:     cfg.RTMP.WriteTimeout,
		Authorizer:       access,
		Internal:         access.internalPlayer,
	}, c.hub, log.With("component", "rtmp"))

	a, err := api.New(api.Options{
		Hub:               c.hub,
		Users:             c.users,
		Rooms:             c.rooms,
		Log:               log.With("component", "api"),
		LoginLimit:        perMinute(cfg.Auth.RateLimit),
		RegisterLimit:     perMinute(cfg.Auth.RateLimit),
		CORSOrigins:       cfg.Auth.CORSOrigins,
		TrustProxy:        cfg.TrustProxy,
		Replays:           db,
		RemoveReplay:      c.rec.Remove,
		RemoveRoomReplays: c.rec.RemoveRoom,
		RoomDeleted:       c.chat.RoomDeleted,
		MemberChanged:     c.memberChanged(log.With("component", "api")),
		Cluster:           c.cluster.api(),
		Node:              cfg.Cluster.Node(),
		Covers:            apiCovers(c),
		HasPoster:         c.rec.HasPoster,
		Renditions:        apiRenditions(c.ladder),
	})
	if err != nil {
		c.closeBus()
		db.Close()
		return nil, err
	}
	c.mux = http.NewServeMux()
	a.Register(c.mux)
	chatLog := log.With("component", "chat")
	c.mux.HandleFunc("GET /api/v1/rooms/{id}/chat", func(w http.ResponseWriter, r *http.Request) {
		c.serveChat(w, r, chatLog)
	})
	c.mux.HandleFunc("GET /api/v1/rooms/{id}/messages", func(w http.ResponseWriter, r *http.Request) {
		c.chat.ServeMessages(w, r, r.PathValue("id"))
	})
	c.mux.HandleFunc("POST /api/v1/rooms/{id}/moderation/{action}", func(w http.ResponseWriter, r *http.Request) {
		c.chat.ServeModeration(w, r, r.PathValue("id"), r.PathValue("action"))
	})
	routeMedia(c.mux, cfg.RTMP.App, access, c.flv, c.hls, c.covers, c.ladder)
	if err := c.startWebRTC(cfg, access, log); err != nil {
		db.Close()
		return nil, err
	}
	vod.New(vod.Config{
		Store:     db,
		Paths:     c.rec,
		Authorize: access.playReplay,
		Denied:    api.WriteAccessError,
		Log:       log.With("component", "vod"),
	}).Register(c.mux)
	// Read at scrape time; the recorder's callbacks use it only once Run
	// has started.
	c.metrics = newMetrics(c, bi)
	c.metrics.Registry().MustRegister(c.mixLatency)
	watchTranscodes(c)
	c.registerWebRTCMetrics()
	return c, nil
}

// newRecorder builds the recorder of rooms' live sessions: a stream is
// recorded when recording is on globally (-record) and in its room; streams
// without a room are not. A finished recording sends record.ready, one
// stopped by an error (full disk, permission denied) record.failed.
func newRecorder(c *components, cfg config.Config, log *slog.Logger) *record.Recorder {
	log = log.With("component", "record")
	enabled := func(stream string) (string, bool) {
		// Only the programme is recorded (not the members' own streams,
		// nor renditions); a relayed stream is recorded by the node
		// holding it.
		if !cfg.Record.Enabled || !recordsStream(stream) || c.cluster.relayed(stream) {
			return "", false
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		rm, err := c.rooms.ByStream(ctx, stream)
		if err != nil {
			if !errors.Is(err, store.ErrNotFound) {
				log.Warn("stream not recorded: room lookup failed", "stream", stream, "err", err)
			}
			return "", false
		}
		if rm.Record && !c.recordingQuotaLeft(ctx, cfg, rm, log) {
			return "", false
		}
		return rm.ID, rm.Record
	}
	publicURL := strings.TrimRight(cfg.PublicURL, "/")
	onReady := func(rec store.Recording) {
		c.metrics.RecordingFinished(true)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		err := c.hooks.Emit(ctx, webhook.Event{Type: webhook.TypeRecordReady, Room: rec.RoomID, Stream: roomStreamOf(rec.Stream),
			Data: map[string]any{
				"recording":   rec.ID,
				"url":         publicURL + api.VODPath(rec.ID),
				"duration_ms": rec.DurationMS,
				"bytes":       rec.Bytes,
				"segments":    rec.Segments,
			}})
		if err != nil {
			log.Warn("record.ready webhook not queued", "recording", rec.ID, "err", err)
		}
	}
	onFailed := func(rec store.Recording, cause error) {
		c.metrics.RecordingFinished(false)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		err := c.hooks.Emit(ctx, webhook.Event{Type: webhook.TypeRecordFailed, Room: rec.RoomID, Stream: roomStreamOf(rec.Stream),
			Data: map[string]any{
				"recording":   rec.ID,
				"error":       cause.Error(),
				"duration_ms": rec.DurationMS,
				"bytes":       rec.Bytes,
				"segments":    rec.Segments,
			}})
		if err != nil {
			log.Warn("record.failed webhook not queued", "recording", rec.ID, "err", err)
		}
	}
	return record.New(c.hub, record.Config{
		Dir:            recordDir(cfg),
		TargetDuration: cfg.HLS.SegmentDuration,
		Enabled:        enabled,
		// A live that moved to another node is recorded there from then on.
		Continue:    func(stream string) bool { return !c.cluster.relayed(stream) },
		Recoverable: c.cluster.recoverable(),
		OnReady:     onReady,
		OnFailed:    onFailed,
		Poster:      replayPoster(c),
	}, c.db, log)
}

// recordDir is -record-dir, or DATA/recordings.
func recordDir(cfg config.Config) string {
	if cfg.Record.Dir != "" {
		return cfg.Record.Dir
	}
	return filepath.Join(cfg.DataDir, "recordings")
}

func perMinute(n int) api.RateLimit {
	return api.RateLimit{Burst: n, Every: time.Minute / time.Duration(n)}
}

// endStaleRooms ends rooms that an earlier run left live (it crashed or
// was killed): their streams went with that process. They end as any live
// does, through the stream events, so the room.ended webhook goes out too.
// In a cluster the orphan sweep does this instead, once the lives had time
// to move to other nodes.
func endStaleRooms(ctx context.Context, rooms *room.Service, sync *streamsync.Sync, cn *clusterNode) error {
	if cn != nil {
		return nil
	}
	live, err := rooms.LiveStreams(ctx, "")
	if err != nil {
		return err
	}
	now := time.Now()
	for _, stream := range live {
		sync.Handle(hub.Event{Type: hub.EventEnded, Stream: stream, Time: now})
	}
	return nil
}

// access applies the rooms' publish and play rules to every protocol. With
// open publishing, streams without a room may be published and played
// freely (rooms keep their rules).
type access struct {
	rooms     *room.Service
	open      bool
	ladder    *ladder.Ladder // renditions play under their source's rule
	cluster   *clusterNode   // nil: a single node
	cred      cluster.Credential
	publishes *quota.Publishes // -max-publishes-per-user
}

// AuthorizePublish implements rtmpserver.Authorizer.
func (a *access) AuthorizePublish(ctx context.Context, req rtmpserver.Request) error {
	if a.ladder.IsRendition(req.Stream) {
		return fmt.Errorf("%w: %s is reserved for a quality ladder rendition", room.ErrInvalidStream, req.Stream)
	}
	if a.open {
		has, err := a.rooms.HasRoom(ctx, req.Stream)
		if err != nil {
			return err
		}
		if !has {
			return a.clusterPublish(ctx, req.Stream)
		}
	}
	if err := a.rooms.AuthorizePublish(ctx, req.Stream, req.Query); err != nil {
		return err
	}
	if err := a.admitPublish(ctx, req.Stream); err != nil {
		return err
	}
	return a.clusterPublish(ctx, req.Stream)
}

// admitPublish applies -max-publishes-per-user to an authorised publish
// of stream: it counts for the room's owner, or the co-host.
func (a *access) admitPublish(ctx context.Context, stream string) error {
	if a.publishes == nil {
		return nil
	}
	user, err := a.rooms.PublisherOf(ctx, stream)
	if err != nil {
		return err
	}
	return a.publishes.Admit(user, stream)
}

// publishesQuota is the -max-publishes-per-user bound over the hub: a
// stream counts while it has a publisher, and is forgotten when it ends.
func (c *components) publishesQuota(cfg config.Config) *quota.Publishes {
	if cfg.Quotas.PublishesPerUser <= 0 {
		return nil
	}
	q := quota.NewPublishes(cfg.Quotas.PublishesPerUser, func(stream string) bool {
		s := c.hub.Stream(stream)
		return s != nil && s.Live()
	}, c.quotaRefused)
	c.hub.OnEvent(func(e hub.Event) {
		switch e.Type {
		case hub.EventPublished:
			q.Published(e.Stream)
		case hub.EventEnded:
			q.Forget(e.Stream)
		}
	})
	return q
}

// AuthorizePlay implements rtmpserver.Authorizer.
// A relay from another node is let in by its cluster credential alone.
func (a *access) AuthorizePlay(ctx context.Context, req rtmpserver.Request) error {
	if relay, err := a.relayPlay(req); relay {
		return err
	}
	return a.play(ctx, req.Stream, req.Query)
}

// play applies the room's play rule; in a cluster, an allowed viewer of a
// stream held by another node waits for this node's relay of it.
func (a *access) play(ctx context.Context, stream string, q url.Values) error {
	source := stream
	if src, ok := a.ladder.SourceOf(stream); ok {
		source = src // a rendition plays with its source's signature
	}
	if err := a.allowOpen(a.rooms.AuthorizePlay(ctx, source, q)); err != nil {
		return err
	}
	a.clusterPlay(ctx, stream, source)
	return nil
}

// playReplay applies the play rule of a recording's room to its replay; a
// recording whose room is gone is not found (open publishing does not
// open it).
func (a *access) playReplay(ctx context.Context, rec *store.Recording, q url.Values) (private bool, err error) {
	rm, err := a.rooms.ByStream(ctx, rec.Stream)
	if err != nil {
		return false, err // store.ErrNotFound: the room is gone
	}
	if rm.ID != rec.RoomID {
		return false, fmt.Errorf("replay %s: %w", rec.ID, store.ErrNotFound)
	}
	return rm.Private, a.rooms.AuthorizePlay(ctx, rec.Stream, q)
}

func (a *access) allowOpen(err error) error {
	if a.open && errors.Is(err, room.ErrNoRoom) {
		return nil
	}
	return err
}

// routeMedia mounts the playback URLs: /APP/STREAM.flv (HTTP-FLV and
// WebSocket-FLV), /APP/STREAM.m3u8 and its segments /APP/STREAM/SEGMENT,
// each behind the room's play rule.
func routeMedia(mux *http.ServeMux, app string, acc *access, flvSrv *httpflv.Server, hlsSrv *hls.Server, covers *cover.Grabber, lad *ladder.Ladder) {
	notFound := func(w http.ResponseWriter, what string) {
		httpx.AllowAnyOrigin(w.Header())
		httpx.WriteError(w, http.StatusNotFound, "not_found", what)
	}
	allowedBy := func(check func(context.Context, string, url.Values) error) func(http.ResponseWriter, *http.Request, string) bool {
		return func(w http.ResponseWriter, r *http.Request, stream string) bool {
			if r.Method == http.MethodOptions {
				return true
			}
			if err := check(r.Context(), stream, r.URL.Query()); err != nil {
				httpx.AllowAnyOrigin(w.Header())
				api.WriteAccessError(w, err)
				return false
			}
			return true
		}
	}
	allowed := allowedBy(acc.play)
	// HLS asks for every playlist, segment and part: see playCache.
	allowedHLS := allowedBy(newPlayCache(acc.play, playCacheTTL, time.Now).allow)
	mux.HandleFunc("/"+app+"/{file}", func(w http.ResponseWriter, r *http.Request) {
		name, ext, _ := strings.Cut(r.PathValue("file"), ".")
		if !media.ValidName(name) {
			notFound(w, "invalid stream name: 1-128 characters of A-Z a-z 0-9 _ -")
			return
		}
		switch ext {
		case "flv":
			if allowed(w, r, name) {
				flvSrv.ServeFLV(w, r, name)
			}
		case "m3u8":
			if allowedHLS(w, r, name) && !serveMaster(w, r, lad, name) {
				hlsSrv.ServePlaylist(w, r, name)
			}
		case "jpg":
			if allowed(w, r, name) {
				serveLiveCover(w, r, covers, name)
			}
		default:
			notFound(w, "unknown media type "+ext+": use .flv, .m3u8 or .jpg")
		}
	})
	mux.HandleFunc("/"+app+"/{stream}/{segment}", func(w http.ResponseWriter, r *http.Request) {
		name := r.PathValue("stream")
		if !media.ValidName(name) {
			notFound(w, "invalid stream name")
			return
		}
		if allowedHLS(w, r, name) {
			hlsSrv.ServeSegment(w, r, name, r.PathValue("segment"))
		}
	})
}

// recordingQuotaLeft reports whether the owner of rm may record one more
// live under -max-recording-bytes-per-user; a refusal is logged and
// counted. A failing store does not stop the recording.
func (c *components) recordingQuotaLeft(ctx context.Context, cfg config.Config, rm *store.Room, log *slog.Logger) bool {
	limit := cfg.Quotas.RecordingBytesPerUser
	if limit <= 0 {
		return true
	}
	used, err := c.db.RecordingBytesOfOwner(ctx, rm.OwnerID)
	if err != nil {
		log.Warn("recording quota not checked", "room", rm.ID, "err", err)
		return true
	}
	if used < limit {
		return true
	}
	c.quotaRefused(quota.RecordingBytesPerUser)
	log.Warn("live not recorded: the owner's replays use up its quota", "room", rm.ID, "stream", rm.Stream,
		"owner", rm.OwnerID, "bytes", used, "quota", limit)
	return false
}

// chatRetention is the job that prunes chat history past
// -chat-history-max and -chat-history-max-age.
func chatRetention(c *components, cfg config.Config, log *slog.Logger) *retention.Chat {
	return retention.NewChat(c.db, retention.Config{
		ChatKeep:   cfg.Quotas.ChatHistoryCount,
		ChatMaxAge: cfg.Quotas.ChatHistoryAge,
	}, log.With("component", "retention"))
}

// noLimit maps a setting's 0 ("no limit") to -1, the services' "no limit"
// (their 0 means their default).
func noLimit(n int) int {
	if n == 0 {
		return -1
	}
	return n
}

// quotaRefused counts a refusal past a quota once the metrics exist (they
// are built last, before anything is served).
func (c *components) quotaRefused(name string) {
	if c.metrics != nil {
		c.metrics.QuotaRefused(name)
	}
}

// orNegative maps a configured 0 ("off") to the hub's negative "off".
func orNegative(d time.Duration) time.Duration {
	if d == 0 {
		return -1
	}
	return d
}
