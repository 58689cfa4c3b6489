package e2e

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"roomcast/internal/config"
)

// repoRoot is the repository, two levels above this package.
const repoRoot = "../.."

// TestDockerfile checks what can be checked without a Docker engine: every
// file copied from the build context exists (and is not excluded by
// .dockerignore), the binary is built static with the version stamped, and
// the image runs as a non-root user.
func TestDockerfile(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(repoRoot, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	ignore, err := os.ReadFile(filepath.Join(repoRoot, ".dockerignore"))
	if err != nil {
		t.Fatal(err)
	}
	ignored := map[string]bool{}
	for _, l := range strings.Split(string(ignore), "\n") {
		ignored[strings.TrimSuffix(strings.TrimSpace(l), "/")] = true
	}
	var (
		stages   int
		lastUser string
		text     = string(b)
	)
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) == 0 || strings.HasPrefix(fields[0], "#") {
			continue
		}
		switch fields[0] {
		case "FROM":
			stages++
		case "USER":
			lastUser = fields[1]
		case "COPY":
			args := fields[1:]
			if strings.HasPrefix(args[0], "--from=") {
				continue
			}
			for len(args) > 0 && strings.HasPrefix(args[0], "--") {
				args = args[1:]
			}
			for _, src := range args[:len(args)-1] {
				if ignored[strings.TrimSuffix(src, "/")] {
					t.Errorf("COPY %s: excluded by .dockerignore", src)
				}
				if _, err := os.Stat(filepath.Join(repoRoot, src)); err != nil {
					t.Errorf("COPY %s: %v", src, err)
				}
			}
		}
	}
	if stages < 2 {
		t.Errorf("%d stages, want a multi-stage build", stages)
	}
	if lastUser == "" || strings.HasPrefix(lastUser, "0") || lastUser == "root" {
		t.Errorf("the image runs as %q, want a non-root user", lastUser)
	}
	for _, want := range []string{"CGO_ENABLED=0", "-X main.version=", "-X main.commit=", "STOPSIGNAL SIGTERM"} {
		if !strings.Contains(text, want) {
			t.Errorf("Dockerfile lacks %s", want)
		}
	}
}

// TestSystemdUnit checks the unit: it runs the binary with a configuration
// file as an unprivileged user, reloads with SIGHUP, and gives the graceful
// shutdown more time than its default grace.
func TestSystemdUnit(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(repoRoot, "deploy", "roomcast.service"))
	if err != nil {
		t.Fatal(err)
	}
	keys := map[string]string{}
	for _, l := range strings.Split(string(b), "\n") {
		l = strings.TrimSpace(l)
		if l == "" || l[0] == '#' || l[0] == '[' {
			continue
		}
		k, v, ok := strings.Cut(l, "=")
		if !ok {
			t.Errorf("bad line %q", l)
			continue
		}
		keys[k] = v
	}
	for k, want := range map[string]string{
		"User": "roomcast", "KillSignal": "SIGTERM", "ExecReload": "/bin/kill -HUP $MAINPID",
		"NoNewPrivileges": "yes", "ProtectSystem": "strict", "ProtectHome": "yes", "PrivateTmp": "yes",
		"StateDirectory": "roomcast", "CapabilityBoundingSet": "CAP_NET_BIND_SERVICE",
	} {
		if keys[k] != want {
			t.Errorf("%s=%q, want %q", k, keys[k], want)
		}
	}
	if !strings.HasPrefix(keys["ExecStart"], "/usr/local/bin/roomcast serve --config ") {
		t.Errorf("ExecStart=%q", keys["ExecStart"])
	}
	stop, err := time.ParseDuration(keys["TimeoutStopSec"])
	if err != nil || stop <= config.Default().ShutdownGrace {
		t.Errorf("TimeoutStopSec=%q must exceed the default shutdown grace %v", keys["TimeoutStopSec"], config.Default().ShutdownGrace)
	}
}
