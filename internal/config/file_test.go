package config

import (
	"bytes"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func writeFile(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "roomcast.yaml")
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestFilePrecedence(t *testing.T) {
	path := writeFile(t, `
http-addr: "127.0.0.1:7000"
rtmp-addr: "127.0.0.1:7001"
reconnect-grace: 4s
rtmp:
  chunk-size: 8192
  app: show
cors-origins: ["https://a.example", "https://b.example"]
record: false
record-max-age: 48h
`)
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want func(c Config) bool
	}{
		{"file overrides defaults", nil, []string{"-config", path}, func(c Config) bool {
			return c.HTTPAddr == "127.0.0.1:7000" && c.Hub.ReconnectGrace == 4*time.Second && c.RTMP.ChunkSize == 8192 &&
				c.RTMP.App == "show" && len(c.Auth.CORSOrigins) == 2 && c.Auth.CORSOrigins[1] == "https://b.example" &&
				!c.Record.Enabled && c.Record.MaxAge == 48*time.Hour && c.File == path &&
				c.DataDir == "./data" // untouched keys keep their defaults
		}},
		{"env names the file", map[string]string{"ROOMCAST_CONFIG": path}, nil, func(c Config) bool {
			return c.HTTPAddr == "127.0.0.1:7000" && c.File == path
		}},
		{"env overrides file", map[string]string{"ROOMCAST_HTTP_ADDR": "127.0.0.1:9000"}, []string{"-config", path}, func(c Config) bool {
			return c.HTTPAddr == "127.0.0.1:9000" && c.RTMPAddr == "127.0.0.1:7001"
		}},
		{"flag overrides env and file", map[string]string{"ROOMCAST_HTTP_ADDR": "127.0.0.1:9000"}, []string{"-http-addr", "127.0.0.1:9001", "-config", path, "-record"}, func(c Config) bool {
			return c.HTTPAddr == "127.0.0.1:9001" && c.Record.Enabled && c.RTMP.ChunkSize == 8192
		}},
		{"flag -config wins over env", map[string]string{"ROOMCAST_CONFIG": "/does/not/exist.yaml"}, []string{"-config", path}, func(c Config) bool {
			return c.HTTPAddr == "127.0.0.1:7000"
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

func TestFileErrors(t *testing.T) {
	tests := []struct {
		name, yaml string
		want       []string // all must appear in the error
	}{
		{"unknown key", "http-adr: :8080\n", []string{`"http-adr"`, "line 1"}},
		{"unknown nested key", "rtmp:\n  chunk-sise: 10\n", []string{`"rtmp.chunk-sise"`, "line 2"}},
		{"unknown group", "nothing:\n  addr: x\n", []string{`"nothing"`}},
		{"bad duration", "reconnect-grace: soon\n", []string{"reconnect-grace", "soon"}},
		{"bad int", "hls-window: many\n", []string{"hls-window"}},
		{"bad bool", "record: sometimes\n", []string{"record"}},
		{"invalid value", "hls-window: 1\n", []string{"hls-window", "outside"}},
		{"null value", "public-url:\n", []string{"public-url", "no value"}},
		{"list for scalar", "http-addr: [a, b]\n", []string{"http-addr", "single value"}},
		{"duplicate", "http-addr: :1\nhttp-addr: :2\n", []string{"http-addr", "twice"}},
		{"duplicate through group", "rtmp-app: a\nrtmp:\n  app: b\n", []string{"rtmp.app", "twice"}},
		{"not a mapping", "- a\n- b\n", []string{"mapping"}},
		{"bad yaml", "a: [\n", []string{"invalid YAML"}},
		{"two documents", "http-addr: :1\n---\nhttp-addr: :2\n", []string{"more than one"}},
		{"config key inside the file", "config: other.yaml\n", []string{`"config"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeFile(t, tt.yaml)
			_, err := Load("serve", []string{"-config", path}, env(nil), io.Discard)
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Fatalf("err = %v, want it to contain %q", err, w)
				}
			}
		})
	}
	if _, err := Load("serve", []string{"-config", filepath.Join(t.TempDir(), "missing.yaml")}, env(nil), io.Discard); err == nil || !strings.Contains(err.Error(), "missing.yaml") {
		t.Fatalf("missing file: %v", err)
	}
}

func TestEmptyFile(t *testing.T) {
	for _, content := range []string{"", "# only comments\n", "~\n"} {
		c, err := Load("serve", []string{"-config", writeFile(t, content)}, env(nil), io.Discard)
		if err != nil || c.HTTPAddr != ":8080" {
			t.Fatalf("%q: %v %+v", content, err, c)
		}
	}
}

func TestExample(t *testing.T) {
	var b bytes.Buffer
	if err := WriteExample(&b); err != nil {
		t.Fatal(err)
	}
	c, err := LoadFile(b.Bytes())
	if err != nil {
		t.Fatalf("the example does not load: %v\n%s", err, b.String())
	}
	def := Default()
	if c.HTTPAddr != def.HTTPAddr || c.Hub.ReconnectGrace != def.Hub.ReconnectGrace || c.ShutdownGrace != def.ShutdownGrace || !c.Record.Enabled {
		t.Fatalf("the example's values differ from the defaults: %+v", c)
	}
	// Every setting is in the example exactly once, secrets commented out.
	count := map[string]int{}
	for _, sec := range exampleSections() {
		for _, k := range sec.keys {
			count[k]++
		}
	}
	fs := def.FlagSet("x", io.Discard)
	fs.VisitAll(func(f *flag.Flag) {
		if f.Name == "config" {
			return
		}
		if count[f.Name] != 1 {
			t.Errorf("setting %s appears %d times in the example", f.Name, count[f.Name])
		}
		delete(count, f.Name)
	})
	for k := range count {
		t.Errorf("example lists %s, which is no setting", k)
	}
	for _, k := range []string{"push-key", "webhook-secret", "wechat-secret"} {
		if !strings.Contains(b.String(), "\n# "+k+": ") {
			t.Errorf("%s is not commented out in the example", k)
		}
	}
	// Uncommenting the secrets gives a file that loads too.
	uncommented := strings.NewReplacer("# push-key: ", "push-key: ", "# webhook-secret: ", "webhook-secret: ").Replace(b.String())
	if _, err := LoadFile([]byte(uncommented)); err != nil {
		t.Fatalf("uncommented example: %v", err)
	}
}

func TestNewSettingsValidation(t *testing.T) {
	dir := t.TempDir()
	cert, key := filepath.Join(dir, "c.pem"), filepath.Join(dir, "k.pem")
	if err := os.WriteFile(cert, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(key, []byte("not a key"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		args []string
		key  string
	}{
		{[]string{"-shutdown-grace", "0s"}, "shutdown-grace"},
		{[]string{"-shutdown-grace", "1h"}, "shutdown-grace"},
		{[]string{"-max-publishers", "-1"}, "max-publishers"},
		{[]string{"-max-viewers", "-1"}, "max-viewers"},
		{[]string{"-max-viewers-per-stream", "-1"}, "max-viewers-per-stream"},
		{[]string{"-max-chat-connections", "-1"}, "max-chat-connections"},
		{[]string{"-api-rate-limit", "-1"}, "api-rate-limit"},
		{[]string{"-tls-cert", cert}, "tls-cert"},
		{[]string{"-tls-key", key}, "tls-cert"},
		{[]string{"-tls-cert", cert, "-tls-key", key}, "tls-cert, tls-key"},
		{[]string{"-tls-cert", filepath.Join(dir, "none.pem"), "-tls-key", key}, "none.pem"},
		{[]string{"-tls-cert", cert, "-tls-key", key, "-https-addr", "nowhere"}, "https-addr"},
		{[]string{"-debug-addr", "x"}, "debug-addr"},
		{[]string{"-http-addr", "8080"}, "http-addr"},
		{[]string{"-data", ""}, "data"},
		{[]string{"-rtmp-max-connections", "0"}, "rtmp-max-connections"},
		{[]string{"-rtmp-max-message-size", "10"}, "rtmp-max-message-size"},
		{[]string{"-rtmp-handshake-timeout", "0s"}, "rtmp-handshake-timeout"},
		{[]string{"-rtmp-read-timeout", "0s"}, "rtmp-read-timeout"},
		{[]string{"-rtmp-write-timeout", "0s"}, "rtmp-write-timeout"},
		{[]string{"-gop-max-frames", "0"}, "gop-max-frames"},
		{[]string{"-gop-max-bytes", "0"}, "gop-max-bytes"},
		{[]string{"-queue-frames", "0"}, "queue-frames"},
		{[]string{"-queue-bytes", "0"}, "queue-bytes"},
		{[]string{"-http-write-timeout", "0s"}, "http-write-timeout"},
		{[]string{"-play-url-ttl", "1s"}, "play-url-ttl"},
		{[]string{"-session-ttl", "1s"}, "session-ttl"},
		{[]string{"-auth-rate-limit", "0"}, "auth-rate-limit"},
		{[]string{"-password-cost", "3"}, "password-cost"},
		{[]string{"-wechat-base-url", "ftp://x"}, "wechat-base-url"},
		{[]string{"-chat-max-text", "0"}, "chat-max-text"},
		{[]string{"-chat-rate", "0"}, "chat-rate"},
		{[]string{"-chat-rate-window", "10ms"}, "chat-rate-window"},
		{[]string{"-metrics=maybe"}, "metrics"},
	}
	for _, tt := range tests {
		_, err := Load("serve", tt.args, env(nil), io.Discard)
		if err == nil || !strings.Contains(err.Error(), tt.key) {
			t.Errorf("%v: err = %v, want one naming %s", tt.args, err, tt.key)
		}
	}
}

func TestUnknownEnv(t *testing.T) {
	got := UnknownEnv([]string{"ROOMCAST_HTTP_ADDR=:1", "ROOMCAST_HTTP_ADR=:2", "HOME=/root", "ROOMCAST_CONFIG=x", "ROOMCAST_MAX_VIEWERS=3"})
	if len(got) != 1 || got[0] != "ROOMCAST_HTTP_ADR" {
		t.Fatalf("unknown %v", got)
	}
}

func TestFileHoldsNoCommandFlags(t *testing.T) {
	path := writeFile(t, "admin: true\n")
	var admin bool
	_, err := LoadWith("user add", []string{"-config", path}, env(nil), io.Discard, func(fs *flag.FlagSet) {
		fs.BoolVar(&admin, "admin", false, "")
	})
	if err == nil || !strings.Contains(err.Error(), `"admin"`) || admin {
		t.Fatalf("a command flag in the file: %v, admin=%v", err, admin)
	}
	path = writeFile(t, "data: /tmp/from-file\n")
	c, err := LoadWith("user add", []string{"-config", path, "-admin"}, env(nil), io.Discard, func(fs *flag.FlagSet) {
		fs.BoolVar(&admin, "admin", false, "")
	})
	if err != nil || !admin || c.DataDir != "/tmp/from-file" {
		t.Fatalf("%v admin=%v data=%s", err, admin, c.DataDir)
	}
}
