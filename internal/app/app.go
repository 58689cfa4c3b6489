// Package app wires roomcast's components together, runs them, and shuts
// them down in order. It holds no logic of its own.
package app

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"roomcast/internal/config"
	"roomcast/internal/keepalive"
	"roomcast/internal/metrics"
	"roomcast/internal/record"
)

// retentionInterval is how often replays past -record-max-age or
// -record-max-bytes are deleted.
const retentionInterval = time.Minute

// Options are what the caller of Run provides besides the configuration.
type Options struct {
	// Stdout receives the start-up banner; Logs receives the logs
	// (default: Stdout).
	Stdout io.Writer
	Logs   io.Writer
	// Version is printed in the banner; Version and Commit label
	// roomcast_build_info.
	Version string
	Commit  string
	// OnReady, if set, is called with the bound addresses once the server
	// accepts connections (tests listen on port 0).
	OnReady func(Addrs)
	// ShutdownGrace bounds the graceful shutdown (default: the
	// configuration's -shutdown-grace).
	ShutdownGrace time.Duration
	// Reload receives a value for each SIGHUP: the TLS certificate is
	// loaded again. Nil: only file changes reload it.
	Reload <-chan struct{}
}

// Addrs are the addresses the server listens on.
type Addrs struct {
	RTMP net.Addr
	HTTP net.Addr
	// HTTPS is nil unless a certificate is configured.
	HTTPS net.Addr
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
		opt.ShutdownGrace = cfg.ShutdownGrace
	}
	if opt.ShutdownGrace <= 0 {
		opt.ShutdownGrace = 10 * time.Second
	}
	log := newLogger(cfg, opt.Logs)
	if err := cfg.FillSecrets(); err != nil {
		return fmt.Errorf("secrets: %w", err)
	}
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
	var certs *certReloader
	var httpsLn net.Listener
	if cfg.TLS.CertFile != "" {
		if certs, err = newCertReloader(cfg.TLS.CertFile, cfg.TLS.KeyFile, log.With("component", "tls")); err != nil {
			return err
		}
		if httpsLn, err = net.Listen("tcp", cfg.TLS.Addr); err != nil {
			return fmt.Errorf("https listener: %w", err)
		}
		defer httpsLn.Close()
	}
	if cfg.PublicURL == "" {
		cfg.PublicURL = "http://" + hostPort(httpLn.Addr())
	}
	if cfg.PublicRTMP == "" {
		cfg.PublicRTMP = "rtmp://" + hostPort(rtmpLn.Addr())
	}
	cfg.Cluster.NodeAddr = nodeAddr(cfg, rtmpLn.Addr())

	// Viewers' connections live under connCtx; it ends at shutdown.
	connCtx, cancelConns := context.WithCancel(context.Background())
	defer cancelConns()
	c, err := build(ctx, cfg, connCtx, log, metrics.Build{Version: opt.Version, Commit: opt.Commit})
	if err != nil {
		return err
	}
	defer c.db.Close()
	defer c.closeBus()

	// The web app answers every path no other route takes.
	if err := mountWeb(c.mux, cfg, log, "roomcast "+opt.Version+"\n\n"+banner(cfg, rtmpLn.Addr(), httpLn.Addr())); err != nil {
		return err
	}
	mountOps(c.mux, c, cfg)
	// HLS players' keep-alive connections are served outside net/http's
	// per-request machinery (see package keepalive).
	root := handler(c, cfg)
	httpSrv := &http.Server{
		Handler:           c.players.Wrap(root),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		BaseContext:       func(net.Listener) context.Context { return connCtx },
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	// Background workers stop with bgCtx, after the servers.
	bgCtx, stopBackground := context.WithCancel(context.Background())
	defer stopBackground()
	if err := c.rec.Recover(ctx); err != nil {
		log.Warn("unfinished recordings not all recovered", "err", err)
	}
	// The recorder stops after the hub's streams ended and their
	// recordings were finalised (see the shutdown below).
	recCtx, stopRecorder := context.WithCancel(context.Background())
	defer stopRecorder()
	components := 10
	if cfg.DebugAddr != "" {
		components++
	}
	var httpsSrv *http.Server
	if certs != nil {
		components++
		httpsSrv = &http.Server{
			Handler:           root,
			TLSConfig:         certs.tlsConfig(),
			ReadHeaderTimeout: httpSrv.ReadHeaderTimeout,
			IdleTimeout:       httpSrv.IdleTimeout,
			BaseContext:       httpSrv.BaseContext,
			ErrorLog:          httpSrv.ErrorLog,
		}
		go certs.run(bgCtx, opt.Reload, certCheckInterval)
	}
	errc := make(chan error, components)
	if cfg.DebugAddr != "" {
		var metricsHandler http.Handler
		if cfg.Metrics {
			metricsHandler = c.metrics.Handler()
		}
		go func() { errc <- wrap("debug", serveDebug(bgCtx, cfg.DebugAddr, metricsHandler, log)) }()
	}
	c.startCluster(cfg)
	go func() { errc <- wrap("hls", c.hls.Run(connCtx)) }()
	go func() { errc <- wrap("rtmp", c.rtmp.Serve(connCtx, rtmpLn)) }()
	go func() { errc <- wrap("stream events", c.sync.Run(bgCtx, opt.ShutdownGrace/2)) }()
	go func() { errc <- wrap("webhooks", c.hooks.Run(bgCtx)) }()
	go func() { errc <- wrap("recorder", c.rec.Run(recCtx)) }()
	go func() { errc <- wrap("programme", c.pgm.Run(bgCtx)) }()
	go func() {
		ret := record.Retention{MaxAge: cfg.Record.MaxAge, MaxBytes: cfg.Record.MaxBytes}
		errc <- wrap("retention", c.rec.SweepEvery(bgCtx, c.db, ret, retentionInterval))
	}()
	go func() { errc <- wrap("chat retention", chatRetention(c, cfg, log).Run(bgCtx)) }()
	go func() {
		err := httpSrv.Serve(httpLn)
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		errc <- wrap("http", err)
	}()
	go func() {
		err := httpSrv.Serve(c.players.Listener())
		if errors.Is(err, http.ErrServerClosed) || errors.Is(err, keepalive.ErrClosed) {
			err = nil
		}
		errc <- wrap("http (handed back)", err)
	}()
	if httpsSrv != nil {
		go func() {
			err := httpsSrv.Serve(tls.NewListener(httpsLn, httpsSrv.TLSConfig))
			if errors.Is(err, http.ErrServerClosed) {
				err = nil
			}
			errc <- wrap("https", err)
		}()
	}

	fmt.Fprintf(opt.Stdout, "roomcast %s is running\n\n%s", opt.Version, banner(cfg, rtmpLn.Addr(), httpLn.Addr()))
	if httpsLn != nil {
		fmt.Fprintf(opt.Stdout, "  HTTPS and WSS:          https://%s/  (same paths as HTTP)\n", hostPort(httpsLn.Addr()))
	}
	fmt.Fprintln(opt.Stdout)
	addrs := Addrs{RTMP: rtmpLn.Addr(), HTTP: httpLn.Addr()}
	https := ""
	if httpsLn != nil {
		addrs.HTTPS = httpsLn.Addr()
		https = httpsLn.Addr().String()
	}
	log.Info("started", "version", opt.Version, "commit", opt.Commit, "rtmp", rtmpLn.Addr().String(), "http", httpLn.Addr().String(),
		"https", https, "data", cfg.DataDir, "store", storeKind(cfg), "config", cfg.File,
		"public_url", cfg.PublicURL, "public_rtmp", cfg.PublicRTMP, "open_publish", cfg.OpenPublish)
	c.ready.Store(true)
	if opt.OnReady != nil {
		opt.OnReady(addrs)
	}

	var runErr error
	pending := components
	select {
	case <-ctx.Done():
	case runErr = <-errc:
		pending--
		log.Error("component failed", "err", runErr)
	}
	c.ready.Store(false)
	log.Info("shutting down", "grace", opt.ShutdownGrace)

	// Stop accepting, end streams (viewers drain, rooms end), close
	// connections, record the last events, then flush webhooks.
	graceCtx, cancel := context.WithTimeout(context.Background(), opt.ShutdownGrace)
	defer cancel()
	_ = rtmpLn.Close()
	c.cluster.stop()
	c.hub.Close()
	if err := c.closeWebRTC(); err != nil {
		log.Warn("WebRTC sockets not closed cleanly", "err", err)
	}
	// The streams ended: recordings see hub.ErrEnded and finalise as
	// ready. Cancelling the recorder first would leave them in status
	// recording for the next start's Recover.
	if err := c.rec.Wait(graceCtx); err != nil {
		log.Warn("recordings not all finalised at shutdown; the next start recovers them", "err", err)
	}
	stopRecorder()
	c.covers.Close()
	c.ladder.Close()
	c.transcode.Close()
	shutdownErr := httpSrv.Shutdown(graceCtx)
	if httpsSrv != nil {
		shutdownErr = errors.Join(shutdownErr, ignoreClosed(httpsSrv.Shutdown(graceCtx)))
	}
	cancelConns()
	if !c.tracker.Wait(graceCtx.Done()) {
		log.Warn("viewers still connected after the grace period")
	}
	stopBackground()
	for range pending {
		select {
		case err := <-errc:
			runErr = errors.Join(runErr, err)
		case <-graceCtx.Done():
			return errors.Join(runErr, errors.New("shutdown: grace period exceeded"))
		}
	}
	// Chat clients got the rooms' end notices above; now tell them the
	// server is going away and store the likes still being counted.
	if err := c.chat.Close(graceCtx); err != nil {
		log.Warn("chat did not close cleanly", "err", err)
	}
	if err := c.hooks.Flush(graceCtx); err != nil {
		log.Warn("webhooks not all delivered at shutdown; they stay queued", "err", err)
	}
	log.Info("stopped")
	return errors.Join(runErr, ignoreClosed(shutdownErr))
}

func banner(cfg config.Config, rtmpAddr, httpAddr net.Addr) string {
	rtmpHost, httpHost := hostPort(rtmpAddr), hostPort(httpAddr)
	var b strings.Builder
	fmt.Fprintf(&b, "  web app:                http://%s/  (watch; host studio /studio; admin /admin)\n", httpHost)
	fmt.Fprintf(&b, "  API:                    http://%s/api/v1/  (docs/api.md, /api/v1/openapi.json)\n", httpHost)
	if cfg.OpenPublish {
		fmt.Fprintf(&b, "  publish (open):         rtmp://%s/%s/STREAM\n", rtmpHost, cfg.RTMP.App)
	} else {
		fmt.Fprintf(&b, "  publish:                rtmp://%s/%s/STREAM?txSecret=…&txTime=…  (POST /api/v1/rooms/ID/push-url)\n", rtmpHost, cfg.RTMP.App)
	}
	fmt.Fprintf(&b, "  play RTMP:              rtmp://%s/%s/STREAM\n", rtmpHost, cfg.RTMP.App)
	fmt.Fprintf(&b, "  play HTTP-FLV:          http://%s/%s/STREAM.flv  (WebSocket-FLV: ws://…/STREAM.flv)\n", httpHost, cfg.RTMP.App)
	fmt.Fprintf(&b, "  play HLS:               http://%s/%s/STREAM.m3u8\n", httpHost, cfg.RTMP.App)
	if cfg.WebRTC.UDPAddr != "" || cfg.WebRTC.TCPAddr != "" {
		fmt.Fprintf(&b, "  WebRTC (WHIP / WHEP):   POST http://%s/%s/STREAM/whip, …/STREAM/whep  (media on %s)\n", httpHost, cfg.RTMP.App, webrtcPorts(cfg))
	}
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
