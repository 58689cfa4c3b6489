// Package pgtest runs a throwaway real Postgres server for tests: a fresh
// cluster (initdb) in a temporary directory, started on a free loopback port
// and stopped, and its files removed, when the test (or TestMain) ends.
//
// One cluster is cheap to share by a whole test package (start it in
// TestMain with New, or in one test with Start) while every test gets a
// database of its own from NewDatabase. A test that stops the server (Stop,
// then Start on the same port and data, to prove that clients recover) starts
// a cluster of its own.
//
// The server runs as the "postgres" system user when the tests run as root
// (Postgres refuses to run as root), else as the current user. It is a child
// of the test process that gets SIGQUIT (immediate shutdown) if the test
// process dies, so a killed test binary does not leave a server behind.
//
// The Postgres binaries (Debian package postgresql: initdb and postgres) are
// looked for in $ROOMCAST_PG_BIN, then /usr/lib/postgresql/*/bin (newest
// first), then $PATH. Without them New fails and Start fails the test, with
// how to install them: tests never skip.
package pgtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// InstallHint says how to get the binaries pgtest needs.
const InstallHint = "install Debian's postgresql package (scripts/install-test-deps.sh does: apt-get install postgresql) or set ROOMCAST_PG_BIN to the directory holding initdb and postgres"

// startTimeout bounds how long Start waits for the server to accept
// connections; initdb and a first start take a few seconds on a busy machine.
const startTimeout = 60 * time.Second

// Cluster is one Postgres server and its data directory. Its methods are
// safe for concurrent use.
type Cluster struct {
	bin     string // directory of initdb and postgres
	base    string // temporary directory holding data, sock and the log
	port    int
	cred    *syscall.Credential // nil: run as the current user
	dbCount atomic.Int64

	mu   sync.Mutex
	cmd  *exec.Cmd     // the running server, nil when stopped
	done chan struct{} // closed when cmd has exited
}

// Start starts a cluster for t and stops it when t ends. It fails t when the
// binaries are missing or the server does not start.
func Start(t testing.TB) *Cluster {
	t.Helper()
	c, err := New()
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	t.Cleanup(c.Close)
	return c
}

// New initialises a cluster in a new temporary directory and starts it. The
// caller must Close it.
func New() (*Cluster, error) {
	bin, err := findBin()
	if err != nil {
		return nil, err
	}
	c := &Cluster{bin: bin}
	if os.Geteuid() == 0 {
		if c.cred, err = postgresUser(); err != nil {
			return nil, err
		}
	}
	if c.base, err = os.MkdirTemp("", "pgtest-"); err != nil {
		return nil, fmt.Errorf("pgtest: %w", err)
	}
	ok := false
	defer func() {
		if !ok {
			os.RemoveAll(c.base)
		}
	}()
	if err := os.Mkdir(c.sockDir(), 0o700); err != nil {
		return nil, fmt.Errorf("pgtest: %w", err)
	}
	if c.cred != nil {
		for _, d := range []string{c.base, c.sockDir()} {
			if err := os.Chown(d, int(c.cred.Uid), int(c.cred.Gid)); err != nil {
				return nil, fmt.Errorf("pgtest: %w", err)
			}
		}
	}
	if err := c.initdb(); err != nil {
		return nil, err
	}
	// The free port may be taken by another process (another test package
	// starting its server) before postgres binds it: then try another.
	for attempt := 1; ; attempt++ {
		if c.port, err = freePort(); err != nil {
			return nil, fmt.Errorf("pgtest: %w", err)
		}
		err = c.Start()
		if err == nil {
			break
		}
		if attempt == 3 || !strings.Contains(err.Error(), "could not bind") {
			return nil, err
		}
	}
	ok = true
	return c, nil
}

// findBin returns the directory holding initdb and postgres.
func findBin() (string, error) {
	var dirs []string
	if d := os.Getenv("ROOMCAST_PG_BIN"); d != "" {
		dirs = append(dirs, d)
	}
	found, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	slices.SortFunc(found, func(a, b string) int { return versionOf(b) - versionOf(a) })
	dirs = append(dirs, found...)
	if p, err := exec.LookPath("initdb"); err == nil {
		dirs = append(dirs, filepath.Dir(p))
	}
	return findBinIn(dirs)
}

// findBinIn returns the first of dirs that holds initdb and postgres.
func findBinIn(dirs []string) (string, error) {
	for _, d := range dirs {
		if isExec(filepath.Join(d, "initdb")) && isExec(filepath.Join(d, "postgres")) {
			return d, nil
		}
	}
	return "", fmt.Errorf("pgtest: Postgres binaries (initdb, postgres) not found in $ROOMCAST_PG_BIN, /usr/lib/postgresql/*/bin or $PATH: %s", InstallHint)
}

// versionOf returns the major version in /usr/lib/postgresql/N/bin.
func versionOf(dir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(dir)))
	return n
}

func isExec(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir() && st.Mode()&0o111 != 0
}

// postgresUser returns the credential of the postgres system user.
func postgresUser() (*syscall.Credential, error) {
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("pgtest: running as root needs the postgres system user to run the server as: %w; %s", err, InstallHint)
	}
	uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
	gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
	if err1 != nil || err2 != nil {
		return nil, fmt.Errorf("pgtest: postgres user has uid %q gid %q", u.Uid, u.Gid)
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

func (c *Cluster) dataDir() string { return filepath.Join(c.base, "data") }
func (c *Cluster) sockDir() string { return filepath.Join(c.base, "sock") }
func (c *Cluster) logPath() string { return filepath.Join(c.base, "postgres.log") }

// command returns cmd name of the Postgres binaries, run as the server's user.
func (c *Cluster) command(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(filepath.Join(c.bin, name), args...)
	cmd.Dir = c.base
	cmd.Env = append(os.Environ(), "LC_ALL=C", "TZ=UTC")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: c.cred, Pdeathsig: syscall.SIGQUIT}
	return cmd
}

// initdb creates the cluster: trust authentication on loopback and the
// socket only, superuser "postgres", no fsync (a test's data need not
// survive a power cut).
func (c *Cluster) initdb() error {
	cmd := c.command("initdb", "-D", c.dataDir(), "-U", "postgres", "--auth=trust",
		"-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("pgtest: initdb: %w\n%s", err, out)
	}
	return nil
}

// Port returns the TCP port the server listens on, on 127.0.0.1. It stays
// the same across Stop and Start.
func (c *Cluster) Port() int { return c.port }

// URL returns the postgres:// URL of database db on the cluster, as the
// superuser.
func (c *Cluster) URL(db string) string {
	u := url.URL{
		Scheme:   "postgres",
		User:     url.User("postgres"),
		Host:     net.JoinHostPort("127.0.0.1", strconv.Itoa(c.port)),
		Path:     "/" + db,
		RawQuery: "sslmode=disable",
	}
	return u.String()
}

// Start starts the server on its port and data, if it is not running, and
// waits until it accepts connections.
func (c *Cluster) Start() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cmd != nil {
		return nil
	}
	logf, err := os.OpenFile(c.logPath(), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("pgtest: %w", err)
	}
	defer logf.Close()
	cmd := c.command("postgres", "-D", c.dataDir(),
		"-p", strconv.Itoa(c.port),
		"-k", c.sockDir(),
		"-c", "listen_addresses=127.0.0.1",
		"-c", "fsync=off",
		"-c", "synchronous_commit=off",
		"-c", "full_page_writes=off",
		"-c", "max_connections=200",
		"-c", "shared_buffers=32MB",
		"-c", "TimeZone=UTC",
	)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("pgtest: start postgres: %w", err)
	}
	done := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(done)
	}()
	c.cmd, c.done = cmd, done

	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	for {
		err := c.ping(ctx)
		if err == nil {
			return nil
		}
		select {
		case <-done:
			c.cmd = nil
			return fmt.Errorf("pgtest: postgres exited at start: %s", c.logTail())
		case <-ctx.Done():
			c.stopLocked()
			return fmt.Errorf("pgtest: postgres did not accept connections within %s: %v\n%s", startTimeout, err, c.logTail())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// ping connects to the postgres database once.
func (c *Cluster) ping(ctx context.Context) error {
	pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	conn, err := pgx.Connect(pctx, c.URL("postgres"))
	if err != nil {
		return err
	}
	return conn.Close(pctx)
}

// Stop stops the server (fast shutdown: open connections are cut) and waits
// for it to exit. Its data stay for Start. Stopping a stopped server does
// nothing.
func (c *Cluster) Stop() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stopLocked()
}

func (c *Cluster) stopLocked() error {
	if c.cmd == nil {
		return nil
	}
	cmd, done := c.cmd, c.done
	c.cmd = nil
	_ = cmd.Process.Signal(syscall.SIGINT) // fast shutdown
	select {
	case <-done:
		return nil
	case <-time.After(30 * time.Second):
	}
	_ = cmd.Process.Signal(syscall.SIGQUIT) // immediate shutdown
	select {
	case <-done:
		return nil
	case <-time.After(10 * time.Second):
		_ = cmd.Process.Kill()
		<-done
		return errors.New("pgtest: postgres did not stop; killed")
	}
}

// Close stops the server and removes its files.
func (c *Cluster) Close() {
	_ = c.Stop()
	_ = os.RemoveAll(c.base)
}

// CreateDatabase creates an empty database with a new name and returns its
// URL.
func (c *Cluster) CreateDatabase(ctx context.Context) (string, error) {
	name := fmt.Sprintf("test_%d", c.dbCount.Add(1))
	conn, err := pgx.Connect(ctx, c.URL("postgres"))
	if err != nil {
		return "", fmt.Errorf("pgtest: create database: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		return "", fmt.Errorf("pgtest: create database %s: %w", name, err)
	}
	return c.URL(name), nil
}

// NewDatabase creates an empty database for t and returns its URL. It fails
// t if it cannot. The database is left for Close to remove with the cluster.
func (c *Cluster) NewDatabase(t testing.TB) string {
	t.Helper()
	u, err := c.CreateDatabase(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// logTail returns the end of the server's log, for errors.
func (c *Cluster) logTail() string {
	b, _ := os.ReadFile(c.logPath())
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(bytes.TrimSpace(b))
}

// freePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// RunMain starts a cluster shared by a test package, stores it in *c, runs
// the package's tests and closes the cluster, for TestMain:
//
//	var cluster *pgtest.Cluster
//
//	func TestMain(m *testing.M) { os.Exit(pgtest.RunMain(m, &cluster)) }
//
// When the cluster cannot start it prints why and returns 1 without running
// the tests: they fail loudly, never skip.
func RunMain(m *testing.M, c **Cluster) int {
	cl, err := New()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer cl.Close()
	*c = cl
	return m.Run()
}
