// Package app wires roomcast's components together, runs them, and shuts
// them down in order. It holds no logic of its own.
package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"roomcast/internal/api"
	"roomcast/internal/config"
	"roomcast/internal/httpx"
	"roomcast/internal/hub"
	"roomcast/internal/media"
	"roomcast/internal/server/hls"
	"roomcast/internal/server/httpflv"
	rtmpserver "roomcast/internal/server/rtmp"
)

// Options are what the caller of Run provides besides the configuration.
type Options struct {
	// Stdout receives the start-up banner; Logs receives the logs
	// (default: Stdout).
	Stdout io.Writer
	Logs   io.Writer
	// Version is printed in the banner.
	Version string
	// OnReady, if set, is called with the bound addresses once the server
	// accepts connections (tests listen on port 0).
	OnReady func(Addrs)
	// ShutdownGrace bounds the graceful shutdown (default 10 s).
	ShutdownGrace time.Duration
}

// Addrs are the addresses the server listens on.
type Addrs struct {
	RTMP net.Addr
	HTTP net.Addr
}

// Run starts every component and blocks until ctx ends, then shuts down.
func Run(ctx context.Context, cfg config.Config, opt Options) error {
	if opt.Stdout == nil {
		opt.Stdout = io.Discard
	}
	if opt.Logs == nil {
		opt.Logs = opt.Stdout
	}
	if opt.ShutdownGrace <= 0 {
		opt.ShutdownGrace = 10 * time.Second
	}
	log := newLogger(cfg, opt.Logs)
	if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
		return fmt.Errorf("data directory: %w", err)
	}

	h := hub.New(hub.Config{
		GOPMaxFrames:        cfg.Hub.GOPMaxFrames,
		GOPMaxBytes:         cfg.Hub.GOPMaxBytes,
		QueueFrames:         cfg.Hub.QueueFrames,
		QueueBytes:          cfg.Hub.QueueBytes,
		FlushInterval:       orNegative(cfg.Hub.FlushInterval),
		ReconnectGrace:      orNegative(cfg.Hub.ReconnectGrace),
		Takeover:            cfg.Hub.Takeover,
		MaxViewersPerStream: cfg.Hub.MaxViewers,
	}, log.With("component", "hub"))

	rtmpLn, err := net.Listen("tcp", cfg.RTMPAddr)
	if err != nil {
		return fmt.Errorf("rtmp listener: %w", err)
	}
	defer rtmpLn.Close()
	httpLn, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("http listener: %w", err)
	}
	defer httpLn.Close()

	// Viewers' connections live under this context; it ends at shutdown.
	connCtx, cancelConns := context.WithCancel(context.Background())
	defer cancelConns()
	var tracker httpx.Tracker

	hlsSrv := hls.New(h, hls.Config{
		TargetDuration: cfg.HLS.SegmentDuration,
		WindowSegments: cfg.HLS.WindowSegments,
		WriteTimeout:   cfg.HTTP.WriteTimeout,
	}, log.With("component", "hls"))
	flvSrv := httpflv.New(connCtx, h, cfg.HTTP.WriteTimeout, &tracker, log.With("component", "httpflv"))
	rtmpSrv := rtmpserver.New(rtmpserver.Config{
		App:              cfg.RTMP.App,
		ChunkSize:        cfg.RTMP.ChunkSize,
		MaxConnections:   cfg.RTMP.MaxConnections,
		MaxMessageSize:   cfg.RTMP.MaxMessageSize,
		HandshakeTimeout: cfg.RTMP.HandshakeTimeout,
		ReadTimeout:      cfg.RTMP.ReadTimeout,
		WriteTimeout:     cfg.RTMP.WriteTimeout,
	}, h, log.With("component", "rtmp"))

	mux := http.NewServeMux()
	api.New(h, log.With("component", "api")).Register(mux)
	routeMedia(mux, cfg.RTMP.App, flvSrv, hlsSrv)
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintf(w, "roomcast %s\n\n%s", opt.Version, banner(cfg, rtmpLn.Addr(), httpLn.Addr()))
	})
	httpSrv := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		BaseContext:       func(net.Listener) context.Context { return connCtx },
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}

	errc := make(chan error, 3)
	go func() { errc <- wrap("hls", hlsSrv.Run(connCtx)) }()
	go func() { errc <- wrap("rtmp", rtmpSrv.Serve(connCtx, rtmpLn)) }()
	go func() {
		err := httpSrv.Serve(httpLn)
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		errc <- wrap("http", err)
	}()

	fmt.Fprintf(opt.Stdout, "roomcast %s is running\n\n%s\n", opt.Version, banner(cfg, rtmpLn.Addr(), httpLn.Addr()))
	log.Info("started", "rtmp", rtmpLn.Addr().String(), "http", httpLn.Addr().String(), "data", cfg.DataDir)
	if opt.OnReady != nil {
		opt.OnReady(Addrs{RTMP: rtmpLn.Addr(), HTTP: httpLn.Addr()})
	}

	var runErr error
	select {
	case <-ctx.Done():
	case runErr = <-errc:
		log.Error("component failed", "err", runErr)
	}
	log.Info("shutting down", "grace", opt.ShutdownGrace)

	// Stop accepting, end streams (viewers drain), then cancel connections.
	graceCtx, cancel := context.WithTimeout(context.Background(), opt.ShutdownGrace)
	defer cancel()
	_ = rtmpLn.Close()
	h.Close()
	shutdownErr := httpSrv.Shutdown(graceCtx)
	cancelConns()
	if !tracker.Wait(graceCtx.Done()) {
		log.Warn("viewers still connected after the grace period")
	}
	for range 3 - boolInt(runErr != nil) {
		select {
		case err := <-errc:
			runErr = errors.Join(runErr, err)
		case <-graceCtx.Done():
			return errors.Join(runErr, errors.New("shutdown: grace period exceeded"))
		}
	}
	log.Info("stopped")
	return errors.Join(runErr, ignoreClosed(shutdownErr))
}

// routeMedia mounts the playback URLs: /APP/STREAM.flv (HTTP-FLV and
// WebSocket-FLV), /APP/STREAM.m3u8 and its segments.
func routeMedia(mux *http.ServeMux, app string, flvSrv *httpflv.Server, hlsSrv *hls.Server) {
	notFound := func(w http.ResponseWriter, what string) {
		httpx.WriteError(w, http.StatusNotFound, "not_found", what)
	}
	mux.HandleFunc("/"+app+"/{file}", func(w http.ResponseWriter, r *http.Request) {
		file := r.PathValue("file")
		name, ext, _ := strings.Cut(file, ".")
		if !media.ValidName(name) {
			notFound(w, "invalid stream name")
			return
		}
		switch ext {
		case "flv":
			flvSrv.ServeFLV(w, r, name)
		case "m3u8":
			hlsSrv.ServePlaylist(w, r, name)
		default:
			notFound(w, "unknown media type "+ext)
		}
	})
	mux.HandleFunc("/"+app+"/{stream}/{segment}", func(w http.ResponseWriter, r *http.Request) {
		name := r.PathValue("stream")
		if !media.ValidName(name) {
			notFound(w, "invalid stream name")
			return
		}
		hlsSrv.ServeSegment(w, r, name, r.PathValue("segment"))
	})
}

func banner(cfg config.Config, rtmpAddr, httpAddr net.Addr) string {
	rtmpHost, httpHost := hostPort(rtmpAddr), hostPort(httpAddr)
	var b strings.Builder
	fmt.Fprintf(&b, "  publish (OBS, ffmpeg):  rtmp://%s/%s/STREAM\n", rtmpHost, cfg.RTMP.App)
	fmt.Fprintf(&b, "  play RTMP:              rtmp://%s/%s/STREAM\n", rtmpHost, cfg.RTMP.App)
	fmt.Fprintf(&b, "  play HTTP-FLV:          http://%s/%s/STREAM.flv  (WebSocket-FLV: ws://…/STREAM.flv)\n", httpHost, cfg.RTMP.App)
	fmt.Fprintf(&b, "  play HLS:               http://%s/%s/STREAM.m3u8\n", httpHost, cfg.RTMP.App)
	fmt.Fprintf(&b, "  live streams (JSON):    http://%s/api/v1/streams\n", httpHost)
	return b.String()
}

// hostPort makes a listen address presentable: unspecified hosts become
// 127.0.0.1.
func hostPort(a net.Addr) string {
	host, port, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}

func newLogger(cfg config.Config, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// orNegative maps a configured 0 ("off") to the hub's negative "off".
func orNegative(d time.Duration) time.Duration {
	if d == 0 {
		return -1
	}
	return d
}

func wrap(component string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %w", component, err)
}

func ignoreClosed(err error) error {
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
