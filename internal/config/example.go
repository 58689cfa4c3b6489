package config

import (
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// exampleSection is a titled group of settings in the example file.
type exampleSection struct {
	title string
	keys  []string
}

// exampleSections orders every setting for WriteExample; a test checks that
// each flag appears exactly once.
func exampleSections() []exampleSection {
	return []exampleSection{
		{"Listeners and data", []string{"rtmp-addr", "http-addr", "data", "database-url", "public-url", "public-rtmp", "trust-proxy", "debug-addr"}},
		{"HTTPS and WSS (a second listener, on when both files are set)", []string{"https-addr", "tls-cert", "tls-key"}},
		{"Logs, metrics and shutdown", []string{"log-level", "log-format", "metrics", "shutdown-grace"}},
		{"Limits that protect the server (0: no limit)", []string{"max-publishers", "max-viewers", "max-viewers-per-stream", "max-chat-connections", "rtmp-max-connections", "api-rate-limit", "auth-rate-limit"}},
		{"Publishing and signatures (empty keys are generated into the data directory)", []string{"open-publish", "push-key", "play-key", "push-url-ttl", "play-url-ttl", "publish-takeover", "reconnect-grace"}},
		{"RTMP", []string{"rtmp-app", "rtmp-chunk-size", "rtmp-max-message-size", "rtmp-handshake-timeout", "rtmp-read-timeout", "rtmp-write-timeout"}},
		{"Fan-out to viewers", []string{"gop-max-frames", "gop-max-bytes", "queue-frames", "queue-bytes", "flush-interval", "http-write-timeout"}},
		{"Live HLS", []string{"hls-segment-duration", "hls-window", "hls-part-duration", "hls-max-waiting"}},
		{"WebRTC: WHIP publish and WHEP play (docs/webrtc.md)", []string{"webrtc-udp-addr", "webrtc-tcp-addr", "webrtc-public-ip"}},
		{"Accounts and browsers", []string{"session-ttl", "password-cost", "cors-origins", "wechat-appid", "wechat-secret", "wechat-base-url"}},
		{"Webhooks (the secret is generated when empty)", []string{"webhook-urls", "webhook-secret"}},
		{"Chat", []string{"chat-guests", "chat-max-text", "chat-sensitive-words", "chat-rate", "chat-rate-window"}},
		{"Recording", []string{"record", "record-max-age", "record-max-bytes", "record-dir"}},
		{"Quotas and retention (0: no limit)", []string{"max-rooms-per-user", "max-publishes-per-user", "max-recording-bytes-per-user", "chat-history-max", "chat-history-max-age", "webhook-outbox-max-age"}},
		{"Co-hosts (连麦)", []string{"max-cohosts", "cohost-request-ttl", "cohost-mix", "cohost-layout"}},
		{"Covers and transcoding (ffmpeg; off without it)", []string{"ffmpeg", "max-transcodes", "cover-interval", "abr-ladder"}},
		{"Cluster (several nodes; empty: one node; see docs/cluster.md)", []string{"nats-url", "node-id", "node-addr", "cluster-key", "relay-linger"}},
	}
}

// commentedOut reports whether the example leaves key commented out:
// secrets (generated values are better than a shared example value) and
// settings whose empty default cannot be written as a working value.
func commentedOut(key string) bool {
	switch key {
	case "database-url", "push-key", "play-key", "webhook-secret", "cluster-key", "wechat-appid", "wechat-secret", "tls-cert", "tls-key", "debug-addr":
		return true
	}
	return false
}

// WriteExample writes a commented reference configuration file with every
// setting at its default value. LoadFile accepts it as it is.
func WriteExample(w io.Writer) error {
	c := Default()
	fs := c.FlagSet("example", io.Discard)
	var b strings.Builder
	b.WriteString(`# roomcast configuration (roomcast serve --config roomcast.yaml).
#
# Every key is a flag of "roomcast serve" without its dash; every value here
# is the default. Precedence: defaults < this file < ROOMCAST_* environment
# variables (-http-addr is ROOMCAST_HTTP_ADDR) < command-line flags.
# Settings sharing a leading word may be grouped, e.g.
#   rtmp:
#     addr: ":1935"
#     chunk-size: 4096
# Unknown keys and invalid values stop the start with a message naming them.
# Durations are written 500ms, 10s, 5m, 24h; sizes are in bytes.
`)
	for _, sec := range exampleSections() {
		fmt.Fprintf(&b, "\n# --- %s ---\n", sec.title)
		for _, key := range sec.keys {
			f := fs.Lookup(key)
			if f == nil {
				return fmt.Errorf("example: no setting %q", key)
			}
			fmt.Fprintf(&b, "\n# %s\n", f.Usage)
			prefix := ""
			if commentedOut(key) {
				prefix = "# "
			}
			fmt.Fprintf(&b, "%s%s: %s\n", prefix, key, exampleValue(f))
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// exampleValue renders a flag's default as a YAML value.
func exampleValue(f *flag.Flag) string {
	if l, ok := f.Value.(*listFlag); ok {
		quoted := make([]string, len(*l))
		for i, item := range *l {
			quoted[i] = strconv.Quote(item)
		}
		return "[" + strings.Join(quoted, ", ") + "]"
	}
	if bf, ok := f.Value.(interface{ IsBoolFlag() bool }); ok && bf.IsBoolFlag() {
		return f.DefValue
	}
	switch f.Value.(flag.Getter).Get().(type) {
	case string:
		return strconv.Quote(f.DefValue)
	default:
		return f.DefValue
	}
}
