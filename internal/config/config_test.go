package config

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestLoadPrecedence(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want func(c Config) bool
	}{
		{"defaults", nil, nil, func(c Config) bool {
			return c.RTMPAddr == ":1935" && c.HTTPAddr == ":8080" && c.DataDir == "./data" && c.Hub.ReconnectGrace == 10*time.Second
		}},
		{"env overrides default", map[string]string{"ROOMCAST_HTTP_ADDR": "127.0.0.1:9000", "ROOMCAST_RECONNECT_GRACE": "3s"}, nil, func(c Config) bool {
			return c.HTTPAddr == "127.0.0.1:9000" && c.Hub.ReconnectGrace == 3*time.Second
		}},
		{"nats url from env", map[string]string{"ROOMCAST_NATS_URL": "nats://n1:4222, nats://n2:4222", "ROOMCAST_CLUSTER_KEY": "0123456789abcdef"}, nil, func(c Config) bool {
			return c.NATSURL == "nats://n1:4222, nats://n2:4222"
		}},
		{"flag overrides env", map[string]string{"ROOMCAST_HTTP_ADDR": "127.0.0.1:9000"}, []string{"-http-addr", "127.0.0.1:9001"}, func(c Config) bool {
			return c.HTTPAddr == "127.0.0.1:9001"
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Load("serve", tt.args, env(tt.env), io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			if !tt.want(c) {
				t.Fatalf("unexpected config %+v", c)
			}
		})
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		args    []string
		wantKey string
	}{
		{"bad env duration", map[string]string{"ROOMCAST_RECONNECT_GRACE": "soon"}, nil, "ROOMCAST_RECONNECT_GRACE"},
		{"bad address", nil, []string{"-rtmp-addr", "nowhere"}, "rtmp-addr"},
		{"bad app", nil, []string{"-rtmp-app", "a/b"}, "rtmp-app"},
		{"chunk size too small", nil, []string{"-rtmp-chunk-size", "10"}, "rtmp-chunk-size"},
		{"bad log level", nil, []string{"-log-level", "loud"}, "log-level"},
		{"bad log format", nil, []string{"-log-format", "xml"}, "log-format"},
		{"negative grace", nil, []string{"-reconnect-grace", "-1s"}, "reconnect-grace"},
		{"flush too long", nil, []string{"-flush-interval", "2s"}, "flush-interval"},
		{"hls segment too short", nil, []string{"-hls-segment-duration", "100ms"}, "hls-segment-duration"},
		{"hls window", nil, []string{"-hls-window", "1"}, "hls-window"},
		{"hls part too short", nil, []string{"-hls-part-duration", "50ms"}, "hls-part-duration"},
		{"hls part past half a segment", nil, []string{"-hls-segment-duration", "1s", "-hls-part-duration", "600ms"}, "hls-part-duration"},
		{"hls max waiting", nil, []string{"-hls-max-waiting", "0"}, "hls-max-waiting"},
		{"unknown flag", nil, []string{"-nope"}, "nope"},
		{"nats url scheme", nil, []string{"-nats-url", "http://127.0.0.1:4222"}, "nats-url"},
		{"nats url host", map[string]string{"ROOMCAST_NATS_URL": "nats://a:4222,nats://"}, nil, "nats-url"},
		{"stray argument", nil, []string{"extra"}, "extra"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load("serve", tt.args, env(tt.env), io.Discard)
			if err == nil || !strings.Contains(err.Error(), tt.wantKey) {
				t.Fatalf("err = %v, want one naming %q", err, tt.wantKey)
			}
		})
	}
}

func TestEnvName(t *testing.T) {
	if got := EnvName("rtmp-chunk-size"); got != "ROOMCAST_RTMP_CHUNK_SIZE" {
		t.Fatal(got)
	}
}

func TestFillSecrets(t *testing.T) {
	dir := t.TempDir()
	c := Default()
	c.DataDir = dir
	c.Auth.PlayKey = "configured"
	if err := c.FillSecrets(); err != nil {
		t.Fatal(err)
	}
	if len(c.Auth.PushKey) != 48 || c.Auth.PlayKey != "configured" || c.Webhook.Secret == "" || c.Webhook.Secret == c.Auth.PushKey {
		t.Fatalf("secrets %+v %+v", c.Auth, c.Webhook)
	}
	// A second start reuses the generated values.
	again := Default()
	again.DataDir = dir
	if err := again.FillSecrets(); err != nil {
		t.Fatal(err)
	}
	if again.Auth.PushKey != c.Auth.PushKey || again.Webhook.Secret != c.Webhook.Secret {
		t.Fatal("generated secrets changed across starts")
	}
	if again.Auth.PlayKey == "configured" || again.Auth.PlayKey == "" {
		t.Fatal("configured secret was written to disk or not generated")
	}
	st, err := os.Stat(filepath.Join(dir, SecretsFile))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("secrets file %v %v", st, err)
	}
}

func TestValidateURLs(t *testing.T) {
	tests := []struct {
		args []string
		key  string
	}{
		{[]string{"-public-url", "ftp://x"}, "public-url"},
		{[]string{"-public-url", "https://x/path"}, "public-url"},
		{[]string{"-public-rtmp", "http://x"}, "public-rtmp"},
		{[]string{"-webhook-urls", "http://ok/hook,nope"}, "webhook-urls"},
		{[]string{"-wechat-appid", "wx1"}, "wechat-appid"},
		{[]string{"-push-url-ttl", "1s"}, "push-url-ttl"},
		{[]string{"-record-max-age", "-1h"}, "record-max-age"},
		{[]string{"-record-max-bytes", "-1"}, "record-max-bytes"},
	}
	for _, tt := range tests {
		_, err := Load("serve", tt.args, env(nil), io.Discard)
		if err == nil || !strings.Contains(err.Error(), tt.key) {
			t.Errorf("%v: err = %v, want one naming %s", tt.args, err, tt.key)
		}
	}
	c, err := Load("serve", []string{"-public-url", "https://live.example.com", "-webhook-urls", "http://a/x, http://b/y"}, env(nil), io.Discard)
	if err != nil || len(c.Webhook.URLs) != 2 || c.Webhook.URLs[1] != "http://b/y" {
		t.Fatalf("%+v %v", c.Webhook, err)
	}
}

func TestRecordFlags(t *testing.T) {
	c, err := Load("serve", nil, env(nil), io.Discard)
	if err != nil || !c.Record.Enabled || c.Record.MaxAge != 0 || c.Record.MaxBytes != 0 {
		t.Fatalf("defaults %+v, %v", c.Record, err)
	}
	c, err = Load("serve", []string{"-record=false", "-record-max-age", "720h", "-record-max-bytes", "1000"}, env(nil), io.Discard)
	if err != nil || c.Record.Enabled || c.Record.MaxAge != 720*time.Hour || c.Record.MaxBytes != 1000 {
		t.Fatalf("flags %+v, %v", c.Record, err)
	}
}
