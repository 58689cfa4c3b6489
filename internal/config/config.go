// Package config holds roomcast's one typed configuration: defaults that work
// with zero setup, overridden by a YAML file (-config), then by ROOMCAST_*
// environment variables and then by command-line flags, and validated before
// anything starts. Every setting is a flag; its environment variable and its
// YAML key are derived from the flag name (see EnvName and LoadFile).
package config

import (
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"
	"time"

	"roomcast/internal/media"
)

// Config is the whole server configuration.
type Config struct {
	// RTMPAddr is the RTMP listen address.
	RTMPAddr string
	// HTTPAddr is the HTTP listen address (API, HTTP-FLV, HLS, web app).
	HTTPAddr string
	// DataDir holds the database, recordings and generated secrets.
	DataDir string
	// DatabaseURL, when set, is the postgres:// URL of the database the
	// nodes of a cluster share; empty: SQLite in DataDir.
	DatabaseURL string
	// DebugAddr, when set, serves Go's profiler (net/http/pprof) on this
	// address; keep it on loopback.
	DebugAddr string
	// LogLevel is debug, info, warn or error; LogFormat is text or json.
	LogLevel  string
	LogFormat string

	// PublicURL is the base of HTTP URLs handed to clients
	// ("https://live.example.com"); empty means http://127.0.0.1:PORT.
	PublicURL string
	// PublicRTMP is the base of RTMP URLs handed to clients
	// ("rtmp://live.example.com:1935"); empty means rtmp://127.0.0.1:PORT.
	PublicRTMP string
	// OpenPublish lets any valid stream name without a room be published
	// and played without a signature, for trying roomcast out and for
	// media tests. Rooms keep their rules. Off by default.
	OpenPublish bool
	// File is the YAML configuration file that was read ("" for none).
	File string
	// ShutdownGrace bounds the graceful shutdown after SIGTERM or SIGINT.
	ShutdownGrace time.Duration
	// Metrics serves Prometheus metrics at /metrics on the HTTP listener
	// (and on DebugAddr when set).
	Metrics bool
	// TrustProxy takes the client IP for rate limits and per-IP caps from
	// the last X-Forwarded-For entry; set it only behind a reverse proxy
	// that sets that header.
	TrustProxy bool
	// NATSURL, when set, is the NATS server (nats://HOST:PORT, several
	// comma-separated) that carries chat and events between the nodes of
	// a cluster; empty keeps the in-process bus of a single node.
	NATSURL string

	RTMP    RTMP
	Hub     Hub
	HLS     HLS
	HTTP    HTTP
	Auth    Auth
	WeChat  WeChat
	Webhook Webhook
	Chat    Chat
	Record  Record
	TLS     TLS
	Limits  Limits
	WebRTC  WebRTC
	Quotas  Quotas
	Cohost  Cohost
	Cluster Cluster

	Transcode Transcode
}

// TLS configures the HTTPS/WSS listener. It runs when CertFile and KeyFile
// are both set; the files are read again on SIGHUP and when they change.
type TLS struct {
	// Addr is the HTTPS listen address.
	Addr string
	// CertFile is a PEM certificate chain, KeyFile its PEM private key.
	CertFile string
	KeyFile  string
}

// Limits protect the server. Zero means no limit.
type Limits struct {
	// MaxPublishers bounds the streams being published at once.
	MaxPublishers int
	// MaxViewers bounds the RTMP, HTTP-FLV and WebSocket-FLV viewers of
	// all streams together (Hub.MaxViewers bounds one stream's).
	MaxViewers int
	// MaxChatConnections bounds the chat WebSocket connections.
	MaxChatConnections int
	// APIRate is the number of REST API requests allowed per client IP
	// per second (with a burst of twice as many).
	APIRate int
}

// Record configures the recording of rooms' live sessions as replays
// (HLS VOD under DATA/recordings).
type Record struct {
	// Enabled is the global switch; each room has its own record setting
	// too. Streams without a room are never recorded.
	Enabled bool
	// MaxAge deletes replays older than this (0: kept forever).
	MaxAge time.Duration
	// MaxBytes bounds the total size of the replays; the oldest are
	// deleted first (0: unlimited).
	MaxBytes int64
	// Dir holds the replays; empty means DATA/recordings. In a cluster all
	// nodes share it.
	Dir string
}

// Chat configures live-room chat.
type Chat struct {
	// Guests lets viewers without a login read a room's chat.
	Guests bool
	// MaxTextLen is the longest message in characters.
	MaxTextLen int
	// SensitiveWords are masked with '*' in messages.
	SensitiveWords []string
	// RateMessages messages per RateWindow are allowed per user.
	RateMessages int
	RateWindow   time.Duration
}

// Auth configures signing and sessions. Empty keys are generated into the
// data directory on first start.
type Auth struct {
	// PushKey signs push URLs (txSecret); PlayKey signs play URLs of
	// private rooms.
	PushKey string
	PlayKey string
	// PushURLTTL and PlayURLTTL are how long signed URLs stay valid.
	PushURLTTL time.Duration
	PlayURLTTL time.Duration
	// SessionTTL is how long a login lasts.
	SessionTTL time.Duration
	// PasswordCost is the bcrypt cost of new password hashes (4-31).
	PasswordCost int
	// RateLimit is the number of login/register attempts allowed per
	// client IP per minute.
	RateLimit int
	// CORSOrigins lists the browser origins allowed to call the API
	// ("*" allows any).
	CORSOrigins []string
}

// WeChat configures mini program login (code2session).
type WeChat struct {
	AppID   string
	Secret  string
	BaseURL string
}

// Webhook configures outgoing event callbacks.
type Webhook struct {
	URLs   []string
	Secret string
}

// RTMP configures the RTMP server.
type RTMP struct {
	// App is the application name in rtmp://HOST/APP/STREAM.
	App string
	// ChunkSize is the chunk size the server sends with.
	ChunkSize int
	// MaxConnections bounds concurrent RTMP connections.
	MaxConnections int
	// MaxMessageSize bounds one incoming message.
	MaxMessageSize int
	// HandshakeTimeout bounds the handshake and connect phase.
	HandshakeTimeout time.Duration
	// ReadTimeout closes a connection that sends nothing for this long.
	ReadTimeout time.Duration
	// WriteTimeout closes a viewer whose socket accepts nothing for this long.
	WriteTimeout time.Duration
}

// Hub configures stream fan-out.
type Hub struct {
	GOPMaxFrames   int
	GOPMaxBytes    int
	QueueFrames    int
	QueueBytes     int
	FlushInterval  time.Duration
	ReconnectGrace time.Duration
	Takeover       bool
	MaxViewers     int
}

// HLS configures live HLS.
type HLS struct {
	SegmentDuration time.Duration
	WindowSegments  int
	// PartDuration is the LL-HLS partial segment duration; 0 turns LL-HLS
	// off.
	PartDuration time.Duration
	// MaxWaiting bounds the LL-HLS requests (blocking playlist reloads,
	// preload-hinted parts) waiting at once.
	MaxWaiting int
}

// HTTP configures the HTTP server.
type HTTP struct {
	// WriteTimeout closes a viewer whose socket accepts nothing for this long.
	WriteTimeout time.Duration
}

// Default returns the zero-setup configuration.
func Default() Config {
	return Config{
		RTMPAddr:  ":1935",
		HTTPAddr:  ":8080",
		DataDir:   "./data",
		LogLevel:  "info",
		LogFormat: "text",
		RTMP: RTMP{
			App:              "live",
			ChunkSize:        4096,
			MaxConnections:   10000,
			MaxMessageSize:   16 << 20,
			HandshakeTimeout: 10 * time.Second,
			ReadTimeout:      30 * time.Second,
			WriteTimeout:     10 * time.Second,
		},
		Hub: Hub{
			GOPMaxFrames:   2048,
			GOPMaxBytes:    16 << 20,
			QueueFrames:    512,
			QueueBytes:     4 << 20,
			FlushInterval:  20 * time.Millisecond,
			ReconnectGrace: 10 * time.Second,
		},
		HLS:  HLS{SegmentDuration: 2 * time.Second, WindowSegments: 6, PartDuration: 250 * time.Millisecond, MaxWaiting: 10000},
		HTTP: HTTP{WriteTimeout: 10 * time.Second},
		Auth: Auth{
			PushURLTTL:   24 * time.Hour,
			PlayURLTTL:   2 * time.Hour,
			SessionTTL:   30 * 24 * time.Hour,
			PasswordCost: 12,
			RateLimit:    20,
		},
		WeChat:        WeChat{BaseURL: "https://api.weixin.qq.com"},
		Chat:          Chat{Guests: true, MaxTextLen: 500, RateMessages: 5, RateWindow: 10 * time.Second},
		Record:        Record{Enabled: true},
		ShutdownGrace: 10 * time.Second,
		Metrics:       true,
		TLS:           TLS{Addr: ":8443"},
		WebRTC:        defaultWebRTC(),
		Quotas:        defaultQuotas(),
		Cohost:        defaultCohost(),
		Cluster:       defaultCluster(),
		Transcode:     defaultTranscode(),
	}
}

// EnvPrefix starts every environment variable roomcast reads.
const EnvPrefix = "ROOMCAST_"

// EnvName returns the environment variable for a flag name:
// "rtmp-addr" → "ROOMCAST_RTMP_ADDR".
func EnvName(flagName string) string {
	return EnvPrefix + strings.ToUpper(strings.NewReplacer("-", "_", ".", "_").Replace(flagName))
}

// FlagSet returns a flag set bound to c, named name.
func (c *Config) FlagSet(name string, output io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(output)
	fs.StringVar(&c.RTMPAddr, "rtmp-addr", c.RTMPAddr, "RTMP listen address")
	fs.StringVar(&c.HTTPAddr, "http-addr", c.HTTPAddr, "HTTP listen address")
	fs.StringVar(&c.DataDir, "data", c.DataDir, "data directory")
	fs.StringVar(&c.DatabaseURL, "database-url", c.DatabaseURL, "postgres:// URL of the database shared by a cluster's nodes (default: SQLite in the data directory)")
	fs.StringVar(&c.DebugAddr, "debug-addr", c.DebugAddr, "serve the Go profiler (/debug/pprof/) on this address, e.g. 127.0.0.1:6060 (default off)")
	fs.StringVar(&c.LogLevel, "log-level", c.LogLevel, "log level: debug, info, warn, error")
	fs.StringVar(&c.LogFormat, "log-format", c.LogFormat, "log format: text or json")

	fs.StringVar(&c.RTMP.App, "rtmp-app", c.RTMP.App, "RTMP application name")
	fs.IntVar(&c.RTMP.ChunkSize, "rtmp-chunk-size", c.RTMP.ChunkSize, "RTMP outgoing chunk size")
	fs.IntVar(&c.RTMP.MaxConnections, "rtmp-max-connections", c.RTMP.MaxConnections, "maximum concurrent RTMP connections")
	fs.IntVar(&c.RTMP.MaxMessageSize, "rtmp-max-message-size", c.RTMP.MaxMessageSize, "maximum incoming RTMP message size in bytes")
	fs.DurationVar(&c.RTMP.HandshakeTimeout, "rtmp-handshake-timeout", c.RTMP.HandshakeTimeout, "RTMP handshake and connect time-out")
	fs.DurationVar(&c.RTMP.ReadTimeout, "rtmp-read-timeout", c.RTMP.ReadTimeout, "close RTMP connections idle this long")
	fs.DurationVar(&c.RTMP.WriteTimeout, "rtmp-write-timeout", c.RTMP.WriteTimeout, "close RTMP viewers whose writes block this long")

	fs.IntVar(&c.Hub.GOPMaxFrames, "gop-max-frames", c.Hub.GOPMaxFrames, "GOP cache bound in frames")
	fs.IntVar(&c.Hub.GOPMaxBytes, "gop-max-bytes", c.Hub.GOPMaxBytes, "GOP cache bound in bytes")
	fs.IntVar(&c.Hub.QueueFrames, "queue-frames", c.Hub.QueueFrames, "frames a viewer may lag before dropping to the next keyframe")
	fs.IntVar(&c.Hub.QueueBytes, "queue-bytes", c.Hub.QueueBytes, "bytes a viewer may lag before dropping to the next keyframe")
	fs.DurationVar(&c.Hub.FlushInterval, "flush-interval", c.Hub.FlushInterval, "coalescing window for viewer writes (0: write every packet at once)")
	fs.DurationVar(&c.Hub.ReconnectGrace, "reconnect-grace", c.Hub.ReconnectGrace, "how long viewers wait for a publisher to come back (0: end at once)")
	fs.BoolVar(&c.Hub.Takeover, "publish-takeover", c.Hub.Takeover, "let a new publisher replace a live one instead of refusing it")
	fs.IntVar(&c.Hub.MaxViewers, "max-viewers-per-stream", c.Hub.MaxViewers, "viewer limit per stream (0: none)")

	fs.DurationVar(&c.HLS.SegmentDuration, "hls-segment-duration", c.HLS.SegmentDuration, "HLS target segment duration")
	fs.IntVar(&c.HLS.WindowSegments, "hls-window", c.HLS.WindowSegments, "segments in the live HLS playlist")
	fs.DurationVar(&c.HLS.PartDuration, "hls-part-duration", c.HLS.PartDuration, "Low-Latency HLS partial segment duration (0: LL-HLS off)")
	fs.IntVar(&c.HLS.MaxWaiting, "hls-max-waiting", c.HLS.MaxWaiting, "LL-HLS blocking playlist reloads and part requests waiting at once; more are refused with 503")
	fs.DurationVar(&c.HTTP.WriteTimeout, "http-write-timeout", c.HTTP.WriteTimeout, "close HTTP viewers whose writes block this long")

	fs.StringVar(&c.PublicURL, "public-url", c.PublicURL, "base of HTTP URLs given to clients, e.g. https://live.example.com (default: http://127.0.0.1:PORT)")
	fs.StringVar(&c.PublicRTMP, "public-rtmp", c.PublicRTMP, "base of RTMP URLs given to clients, e.g. rtmp://live.example.com:1935 (default: rtmp://127.0.0.1:PORT)")
	fs.BoolVar(&c.OpenPublish, "open-publish", c.OpenPublish, "let streams without a room publish and play without a signature (for trials; rooms keep their rules)")
	fs.StringVar(&c.Auth.PushKey, "push-key", c.Auth.PushKey, "key signing push URLs (txSecret); generated into the data directory when empty")
	fs.StringVar(&c.Auth.PlayKey, "play-key", c.Auth.PlayKey, "key signing private rooms' play URLs; generated when empty")
	fs.DurationVar(&c.Auth.PushURLTTL, "push-url-ttl", c.Auth.PushURLTTL, "validity of push URLs")
	fs.DurationVar(&c.Auth.PlayURLTTL, "play-url-ttl", c.Auth.PlayURLTTL, "validity of private rooms' play URLs")
	fs.DurationVar(&c.Auth.SessionTTL, "session-ttl", c.Auth.SessionTTL, "how long a login lasts")
	fs.IntVar(&c.Auth.PasswordCost, "password-cost", c.Auth.PasswordCost, "bcrypt cost of password hashes (4-31; each step doubles the work)")
	fs.IntVar(&c.Auth.RateLimit, "auth-rate-limit", c.Auth.RateLimit, "login and register attempts per client IP per minute")
	fs.Var((*listFlag)(&c.Auth.CORSOrigins), "cors-origins", "comma-separated browser origins allowed to call the API (* for any)")
	fs.StringVar(&c.WeChat.AppID, "wechat-appid", c.WeChat.AppID, "mini program AppID for WeChat login")
	fs.StringVar(&c.WeChat.Secret, "wechat-secret", c.WeChat.Secret, "mini program AppSecret for WeChat login")
	fs.StringVar(&c.WeChat.BaseURL, "wechat-base-url", c.WeChat.BaseURL, "WeChat API base URL (code2session)")
	fs.Var((*listFlag)(&c.Webhook.URLs), "webhook-urls", "comma-separated URLs that receive event callbacks")
	fs.BoolVar(&c.Chat.Guests, "chat-guests", c.Chat.Guests, "let viewers without a login read room chats")
	fs.IntVar(&c.Chat.MaxTextLen, "chat-max-text", c.Chat.MaxTextLen, "longest chat message in characters")
	fs.Var((*listFlag)(&c.Chat.SensitiveWords), "chat-sensitive-words", "comma-separated words masked with * in chat")
	fs.IntVar(&c.Chat.RateMessages, "chat-rate", c.Chat.RateMessages, "chat messages allowed per user per -chat-rate-window")
	fs.DurationVar(&c.Chat.RateWindow, "chat-rate-window", c.Chat.RateWindow, "window of the chat rate limit")
	fs.StringVar(&c.Webhook.Secret, "webhook-secret", c.Webhook.Secret, "HMAC key of X-Roomcast-Signature; generated when empty")
	fs.BoolVar(&c.Record.Enabled, "record", c.Record.Enabled, "record live sessions of rooms whose record setting is on, as replays")
	fs.DurationVar(&c.Record.MaxAge, "record-max-age", c.Record.MaxAge, "delete replays older than this (0: keep)")
	fs.Int64Var(&c.Record.MaxBytes, "record-max-bytes", c.Record.MaxBytes, "total size of the replays; the oldest are deleted first (0: unlimited)")

	fs.StringVar(&c.File, "config", c.File, "YAML configuration file (keys are the flag names; see roomcast config example)")
	fs.DurationVar(&c.ShutdownGrace, "shutdown-grace", c.ShutdownGrace, "time allowed for a graceful shutdown after SIGTERM/SIGINT (a second signal forces exit)")
	fs.BoolVar(&c.Metrics, "metrics", c.Metrics, "serve Prometheus metrics at /metrics on the HTTP listener")
	fs.BoolVar(&c.TrustProxy, "trust-proxy", c.TrustProxy, "take client IPs from the last X-Forwarded-For entry (only behind a reverse proxy that sets it)")
	fs.StringVar(&c.TLS.Addr, "https-addr", c.TLS.Addr, "HTTPS/WSS listen address, used when -tls-cert and -tls-key are set")
	fs.StringVar(&c.TLS.CertFile, "tls-cert", c.TLS.CertFile, "PEM certificate (chain) file for HTTPS/WSS; reloaded on SIGHUP and when it changes")
	fs.StringVar(&c.TLS.KeyFile, "tls-key", c.TLS.KeyFile, "PEM private key file of -tls-cert")
	fs.IntVar(&c.Limits.MaxPublishers, "max-publishers", c.Limits.MaxPublishers, "streams published at once (0: no limit)")
	fs.IntVar(&c.Limits.MaxViewers, "max-viewers", c.Limits.MaxViewers, "RTMP, HTTP-FLV and WebSocket-FLV viewers of all streams together (0: no limit)")
	fs.IntVar(&c.Limits.MaxChatConnections, "max-chat-connections", c.Limits.MaxChatConnections, "chat WebSocket connections (0: no limit)")
	c.webrtcFlags(fs)
	fs.StringVar(&c.NATSURL, "nats-url", c.NATSURL, "NATS server(s) of a cluster, nats://HOST:PORT[,nats://…] (default: in-process bus, one node)")
	fs.IntVar(&c.Limits.APIRate, "api-rate-limit", c.Limits.APIRate, "REST API requests per client IP per second, burst twice that (0: no limit)")
	c.Quotas.flags(fs)
	c.Cohost.flags(fs)
	c.clusterFlags(fs)
	c.transcodeFlags(fs)
	return fs
}

// Load builds the configuration: defaults, then the YAML file named by
// -config or ROOMCAST_CONFIG, then environment variables (looked up with
// getenv), then flags from args. It validates the result.
func Load(name string, args []string, getenv func(string) string, output io.Writer) (Config, error) {
	return LoadWith(name, args, getenv, output, nil)
}

// LoadWith is Load for commands that add flags of their own: extra, if not
// nil, defines them on the flag set before parsing.
func LoadWith(name string, args []string, getenv func(string) string, output io.Writer, extra func(*flag.FlagSet)) (Config, error) {
	// A first pass over the flags finds the configuration file (and
	// reports bad flags and -h); the flags are parsed again at the end so
	// that they win over the file and the environment.
	probe := Default()
	pfs := probe.FlagSet(name, output)
	if extra != nil {
		extra(pfs)
	}
	if err := pfs.Parse(args); err != nil {
		return probe, err
	}
	if pfs.NArg() > 0 {
		return probe, fmt.Errorf("unexpected argument %q", pfs.Arg(0))
	}
	file := probe.File
	if !flagGiven(pfs, "config") {
		file = getenv(EnvName("config"))
	}

	c := Default()
	if file != "" {
		// The file holds server settings only, never a command's own
		// flags.
		if err := applyFile(c.FlagSet(name, io.Discard), file); err != nil {
			return c, err
		}
	}
	// Defined after the file was applied, the flags' defaults are the
	// file's values.
	fs := c.FlagSet(name, io.Discard)
	if extra != nil {
		extra(fs)
	}
	var envErr error
	fs.VisitAll(func(f *flag.Flag) {
		env := EnvName(f.Name)
		v := getenv(env)
		if v == "" || envErr != nil || f.Name == "config" {
			return
		}
		if err := f.Value.Set(v); err != nil {
			envErr = fmt.Errorf("%s=%q: %w", env, v, err)
		}
	})
	if envErr != nil {
		return c, envErr
	}
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	c.File = file
	return c, c.Validate()
}

// flagGiven reports whether the named flag was set on the command line.
func flagGiven(fs *flag.FlagSet, name string) bool {
	given := false
	fs.Visit(func(f *flag.Flag) { given = given || f.Name == name })
	return given
}

// Validate checks every field and names the first bad one.
func (c *Config) Validate() error {
	var errs []error
	check := func(ok bool, key, format string, args ...any) {
		if !ok {
			errs = append(errs, fmt.Errorf("%s: "+format, append([]any{key}, args...)...))
		}
	}
	listen := func(key, addr string) {
		_, port, err := net.SplitHostPort(addr)
		check(err == nil && port != "", key, "%q is not a host:port listen address", addr)
	}
	listen("rtmp-addr", c.RTMPAddr)
	listen("http-addr", c.HTTPAddr)
	check(c.DataDir != "", "data", "must not be empty")
	if err := checkDatabaseURL(c.DatabaseURL); err != nil {
		errs = append(errs, fmt.Errorf("database-url: %w", err))
	}
	if c.DebugAddr != "" {
		listen("debug-addr", c.DebugAddr)
	}
	check(oneOf(c.LogLevel, "debug", "info", "warn", "error"), "log-level", "%q is not debug, info, warn or error", c.LogLevel)
	check(oneOf(c.LogFormat, "text", "json"), "log-format", "%q is not text or json", c.LogFormat)
	check(media.ValidName(c.RTMP.App), "rtmp-app", "%q must be 1-128 characters of A-Z a-z 0-9 _ -", c.RTMP.App)
	check(c.RTMP.ChunkSize >= 128 && c.RTMP.ChunkSize <= 1<<24, "rtmp-chunk-size", "%d is outside 128..16777216", c.RTMP.ChunkSize)
	check(c.RTMP.MaxConnections > 0, "rtmp-max-connections", "must be positive")
	check(c.RTMP.MaxMessageSize >= 64<<10, "rtmp-max-message-size", "must be at least 65536")
	check(c.RTMP.HandshakeTimeout > 0, "rtmp-handshake-timeout", "must be positive")
	check(c.RTMP.ReadTimeout > 0, "rtmp-read-timeout", "must be positive")
	check(c.RTMP.WriteTimeout > 0, "rtmp-write-timeout", "must be positive")
	check(c.Hub.GOPMaxFrames > 0, "gop-max-frames", "must be positive")
	check(c.Hub.GOPMaxBytes > 0, "gop-max-bytes", "must be positive")
	check(c.Hub.QueueFrames > 0, "queue-frames", "must be positive")
	check(c.Hub.QueueBytes > 0, "queue-bytes", "must be positive")
	check(c.Hub.FlushInterval >= 0 && c.Hub.FlushInterval <= time.Second, "flush-interval", "%v is outside 0..1s", c.Hub.FlushInterval)
	check(c.Hub.ReconnectGrace >= 0, "reconnect-grace", "must not be negative")
	check(c.Hub.MaxViewers >= 0, "max-viewers-per-stream", "must not be negative")
	check(c.HLS.SegmentDuration >= 500*time.Millisecond && c.HLS.SegmentDuration <= time.Minute, "hls-segment-duration", "%v is outside 500ms..1m", c.HLS.SegmentDuration)
	check(c.HLS.WindowSegments >= 2 && c.HLS.WindowSegments <= 100, "hls-window", "%d is outside 2..100", c.HLS.WindowSegments)
	check(c.HLS.PartDuration == 0 || c.HLS.PartDuration >= 100*time.Millisecond && c.HLS.PartDuration <= c.HLS.SegmentDuration/2, "hls-part-duration", "%v is neither 0 (off) nor within 100ms..half of -hls-segment-duration", c.HLS.PartDuration)
	check(c.HLS.MaxWaiting > 0, "hls-max-waiting", "must be positive")
	check(c.HTTP.WriteTimeout > 0, "http-write-timeout", "must be positive")
	check(validBase(c.PublicURL, "http", "https"), "public-url", "%q is not an http(s):// URL without a path", c.PublicURL)
	check(validBase(c.PublicRTMP, "rtmp", "rtmps"), "public-rtmp", "%q is not an rtmp:// URL without a path", c.PublicRTMP)
	check(c.Auth.PushURLTTL >= time.Minute, "push-url-ttl", "must be at least 1m")
	check(c.Auth.PlayURLTTL >= time.Minute, "play-url-ttl", "must be at least 1m")
	check(c.Auth.SessionTTL >= time.Minute, "session-ttl", "must be at least 1m")
	check(c.Auth.RateLimit > 0, "auth-rate-limit", "must be positive")
	check(c.Auth.PasswordCost >= 4 && c.Auth.PasswordCost <= 31, "password-cost", "%d is outside 4..31", c.Auth.PasswordCost)
	check(validBase(c.WeChat.BaseURL, "http", "https") && c.WeChat.BaseURL != "", "wechat-base-url", "%q is not an http(s):// URL", c.WeChat.BaseURL)
	check((c.WeChat.AppID == "") == (c.WeChat.Secret == ""), "wechat-appid", "wechat-appid and wechat-secret go together")
	check(c.Chat.MaxTextLen >= 1 && c.Chat.MaxTextLen <= 10000, "chat-max-text", "%d is outside 1..10000", c.Chat.MaxTextLen)
	check(c.Chat.RateMessages >= 1, "chat-rate", "must be positive")
	check(c.Chat.RateWindow >= time.Second, "chat-rate-window", "must be at least 1s")
	check(c.Record.MaxAge >= 0, "record-max-age", "must not be negative")
	check(c.Record.MaxBytes >= 0, "record-max-bytes", "must not be negative")
	check(c.ShutdownGrace >= time.Second && c.ShutdownGrace <= 10*time.Minute, "shutdown-grace", "%v is outside 1s..10m", c.ShutdownGrace)
	check(c.Limits.MaxPublishers >= 0, "max-publishers", "must not be negative")
	check(c.Limits.MaxViewers >= 0, "max-viewers", "must not be negative")
	check(c.Limits.MaxChatConnections >= 0, "max-chat-connections", "must not be negative")
	check(c.Limits.APIRate >= 0, "api-rate-limit", "must not be negative")
	c.Quotas.validate(check)
	c.Cohost.validate(check)
	c.validateCluster(check)
	check((c.TLS.CertFile == "") == (c.TLS.KeyFile == ""), "tls-cert", "tls-cert and tls-key go together")
	c.validateTranscode(check)
	if c.TLS.CertFile != "" && c.TLS.KeyFile != "" {
		listen("https-addr", c.TLS.Addr)
		if _, err := tls.LoadX509KeyPair(c.TLS.CertFile, c.TLS.KeyFile); err != nil {
			errs = append(errs, fmt.Errorf("tls-cert, tls-key: %w", err))
		}
	}
	check(validNATSURL(c.NATSURL), "nats-url", "%q is not a comma-separated list of nats://HOST:PORT URLs", redactURL(c.NATSURL))
	for _, u := range c.Webhook.URLs {
		check(validBase(u, "http", "https") || validURL(u), "webhook-urls", "%q is not an http(s) URL", u)
	}
	errs = append(errs, c.validateWebRTC()...)
	return errors.Join(errs...)
}

func oneOf(v string, options ...string) bool {
	for _, o := range options {
		if v == o {
			return true
		}
	}
	return false
}

// validBase reports whether s is empty or a URL of one of the schemes with a
// host and no path, query or fragment.
func validBase(s string, schemes ...string) bool {
	if s == "" {
		return true
	}
	u, err := url.Parse(s)
	return err == nil && oneOf(u.Scheme, schemes...) && u.Host != "" && (u.Path == "" || u.Path == "/") && u.RawQuery == "" && u.Fragment == ""
}

// validNATSURL reports whether s is empty or comma-separated nats:// (or
// tls://) URLs with a host.
func validNATSURL(s string) bool {
	if s == "" {
		return true
	}
	for one := range strings.SplitSeq(s, ",") {
		u, err := url.Parse(strings.TrimSpace(one))
		if err != nil || !oneOf(u.Scheme, "nats", "tls") || u.Host == "" {
			return false
		}
	}
	return true
}

// redactURL hides the passwords in a URL list for error messages.
func redactURL(s string) string {
	parts := strings.Split(s, ",")
	for i, p := range parts {
		if u, err := url.Parse(strings.TrimSpace(p)); err == nil && u.User != nil {
			parts[i] = u.Redacted()
		}
	}
	return strings.Join(parts, ",")
}

// validURL reports whether s is an absolute http(s) URL.
func validURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && oneOf(u.Scheme, "http", "https") && u.Host != ""
}

// listFlag is a comma-separated list flag.
type listFlag []string

// String implements flag.Value.
func (l *listFlag) String() string { return strings.Join(*l, ",") }

// Set implements flag.Value.
func (l *listFlag) Set(v string) error {
	*l = nil
	for _, item := range strings.Split(v, ",") {
		if item = strings.TrimSpace(item); item != "" {
			*l = append(*l, item)
		}
	}
	return nil
}
