package e2e

import (
	"bufio"
	"context"
	"debug/elf"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// buildBinary builds cmd/roomcast into a temporary directory, as make build
// does (static, version and commit stamped), and returns its path.
func buildBinary(t *testing.T) string {
	t.Helper()
	goTool := requireTool(t, "go")
	bin := filepath.Join(t.TempDir(), "roomcast")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, goTool, "build", "-trimpath",
		"-ldflags", "-X main.version=e2e-version -X main.commit=e2e-commit", "-o", bin, "roomcast/cmd/roomcast")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	// Static: no program interpreter (dynamic loader) to find at run time.
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatalf("read the binary: %v", err)
	}
	defer f.Close()
	for _, prog := range f.Progs {
		if prog.Type == elf.PT_INTERP {
			t.Fatal("the binary is dynamically linked")
		}
	}
	return bin
}

// process is a running roomcast binary.
type process struct {
	cmd            *exec.Cmd
	stdout, stderr *syncBuffer
	done           chan struct{}
	err            error // Wait's result; valid once done is closed
	srv            *testServer
	httpsAddr      string // host:port, "" without a certificate
}

// startBinary runs bin serve with args and extra environment variables
// and waits for its "started" log line (JSON logs), which names the bound
// addresses. The process is killed when the test ends.
func startBinary(t *testing.T, bin string, env []string, args ...string) *process {
	t.Helper()
	p := &process{stdout: &syncBuffer{}, stderr: &syncBuffer{}, done: make(chan struct{})}
	p.cmd = exec.Command(bin, append([]string{"serve"}, args...)...)
	p.cmd.Env = append(os.Environ(), env...)
	p.cmd.Stdout, p.cmd.Stderr = p.stdout, p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = p.cmd.Process.Kill()
			<-p.done
		}
		if t.Failed() {
			t.Logf("roomcast stdout:\n%s\nroomcast stderr:\n%s", p.stdout, p.stderr)
		}
	})
	deadline := time.Now().Add(startTimeout)
	for {
		if addrs, ok := startedLine(p.stdout.String()); ok {
			p.srv = &testServer{rtmpAddr: addrs.RTMP, httpAddr: addrs.HTTP, logs: p.stdout}
			p.httpsAddr = addrs.HTTPS
			return p
		}
		select {
		case <-p.done:
			t.Fatalf("roomcast exited during start: %v\nstderr:\n%s", p.err, p.stderr)
		case <-time.After(pollInterval):
		}
		if time.Now().After(deadline) {
			t.Fatalf("roomcast not started within %v", startTimeout)
		}
	}
}

// startedLine finds the JSON "started" log line and its addresses.
func startedLine(logs string) (addrs struct{ RTMP, HTTP, HTTPS string }, ok bool) {
	sc := bufio.NewScanner(strings.NewReader(logs))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var l struct {
			Msg   string `json:"msg"`
			RTMP  string `json:"rtmp"`
			HTTP  string `json:"http"`
			HTTPS string `json:"https"`
		}
		if json.Unmarshal(sc.Bytes(), &l) == nil && l.Msg == "started" {
			return struct{ RTMP, HTTP, HTTPS string }{l.RTMP, l.HTTP, l.HTTPS}, true
		}
	}
	return addrs, false
}

// signal sends sig to the process.
func (p *process) signal(t *testing.T, sig os.Signal) {
	t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		t.Fatalf("signal %v: %v", sig, err)
	}
}

// wait waits up to timeout for the process to exit and returns its exit
// code and how long it took.
func (p *process) wait(t *testing.T, timeout time.Duration) (code int, took time.Duration) {
	t.Helper()
	t0 := time.Now()
	select {
	case <-p.done:
	case <-time.After(timeout):
		t.Fatalf("roomcast did not exit within %v", timeout)
	}
	took = time.Since(t0)
	var ee *exec.ExitError
	switch {
	case p.err == nil:
		return 0, took
	case errors.As(p.err, &ee):
		return ee.ExitCode(), took
	default:
		t.Fatalf("roomcast: %v", p.err)
	}
	return -1, took
}

// writeConfig writes a YAML configuration for the binary tests and returns
// its path; extra is appended.
func writeConfig(t *testing.T, dataDir, extra string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "roomcast.yaml")
	content := fmt.Sprintf(`# e2e configuration
rtmp-addr: "127.0.0.1:0"
http-addr: "127.0.0.1:0"
webrtc-udp-addr: "127.0.0.1:0"
webrtc-tcp-addr: "127.0.0.1:0"
data: %q
log:
  level: debug
  format: json
push-key: %q
play-key: %q
reconnect-grace: 1s
password-cost: 4
hls-segment-duration: 1s
shutdown-grace: 30s
%s`, dataDir, testPushKey, testPlayKey, extra)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestSIGTERMDuringLive: the real binary, configured by a YAML file and an
// environment variable, is stopped with SIGTERM during a live stream with
// chat and a recording. It exits within the grace period, tells the chat
// client it is going away, finalises the recording, and after a restart
// the replay is ready (#EXT-X-ENDLIST) and the chat message is stored.
func TestSIGTERMDuringLive(t *testing.T) {
	ctx := testContext(t)
	bin := buildBinary(t)

	var out strings.Builder
	v := exec.Command(bin, "version")
	v.Stdout = &out
	if err := v.Run(); err != nil || !strings.HasPrefix(out.String(), "roomcast e2e-version (commit e2e-commit, go") {
		t.Fatalf("roomcast version: %v %q", err, out.String())
	}

	const grace = 12 * time.Second
	dataDir := t.TempDir()
	cfgFile := writeConfig(t, dataDir, "")
	env := []string{"ROOMCAST_SHUTDOWN_GRACE=" + grace.String()} // wins over the file's 30s
	p := startBinary(t, bin, env, "-config", cfgFile)
	s := p.srv
	if !strings.Contains(p.stdout.String(), `"config":"`+cfgFile+`"`) {
		t.Fatalf("the started line does not name the configuration file")
	}

	host := s.register(ctx, t, "termhost")
	rm := s.createRoom(ctx, t, host, "sigterm", false)
	chat := dialChat(ctx, t, s, rm.ID, host.Token)
	chat.next(ctx, t, "history")
	chat.send(ctx, t, map[string]any{"type": "chat", "text": "stored before SIGTERM"})
	if m := chat.next(ctx, t, "chat"); m["text"] != "stored before SIGTERM" {
		t.Fatalf("chat echo %v", m)
	}

	push := s.pushURL(ctx, t, host, rm.ID)
	startPublisher(t, push.URL)
	s.waitRoom(t, host.Token, rm.ID, "live", 20*time.Second, func(r roomJSON) bool { return r.Status == "live" })
	var rec replayJSON
	deadline := time.Now().Add(30 * time.Second)
	for {
		l := s.replays(ctx, t, host.Token, rm.ID)
		if len(l) == 1 && l[0].Status == "recording" {
			if a, _ := getMedia(ctx, l[0].URL); a.Status == http.StatusOK {
				if _, body := get(ctx, t, l[0].URL); len(segmentURIs(body)) >= 2 {
					rec = l[0]
					break
				}
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no recording with two segments: %+v", l)
		}
		time.Sleep(pollInterval)
	}

	p.signal(t, syscall.SIGTERM)
	code, status := websocket.StatusCode(0), ""
	closed := make(chan struct{})
	go func() {
		defer close(closed)
		code, status, _ = chat.expectClose(ctx, t)
	}()
	exit, took := p.wait(t, grace+5*time.Second)
	if exit != 0 || took > grace {
		t.Fatalf("exit code %d after %v, want 0 within the %v grace", exit, took, grace)
	}
	<-closed
	if code != websocket.StatusGoingAway {
		t.Errorf("chat closed with %d %q, want 1001 (going away)", code, status)
	}
	for _, want := range []string{`"msg":"shutting down"`, `"msg":"stopped"`} {
		if !strings.Contains(p.stdout.String(), want) {
			t.Errorf("logs lack %s", want)
		}
	}
	if strings.Contains(p.stdout.String(), "not all finalised") {
		t.Error("the recording was not finalised at shutdown")
	}
	if strings.Contains(p.stdout.String(), testPushKey) || strings.Contains(p.stderr.String(), testPushKey) {
		t.Error("a secret was logged")
	}

	// Restart on the same data: the replay is ready and complete, and the
	// chat message is stored.
	p2 := startBinary(t, bin, env, "-config", cfgFile)
	s2 := p2.srv
	ready := s2.waitReady(ctx, t, host.Token, rm.ID, 1)
	if ready.ID != rec.ID || ready.Recovered {
		t.Fatalf("replay after restart %+v, want %s finalised at shutdown (not recovered)", ready, rec.ID)
	}
	_, body := get(ctx, t, ready.URL)
	if !strings.Contains(string(body), "#EXT-X-ENDLIST") {
		t.Fatalf("replay playlist without #EXT-X-ENDLIST:\n%s", body)
	}
	msgs := s2.chatMessages(ctx, t, host.Token, rm.ID)
	found := false
	for _, text := range msgs {
		found = found || text == "stored before SIGTERM"
	}
	if !found {
		t.Fatalf("chat message not stored: %v", msgs)
	}
	p2.signal(t, syscall.SIGINT)
	if exit, _ := p2.wait(t, grace+5*time.Second); exit != 0 {
		t.Fatalf("second run exit code %d", exit)
	}
}

// TestSecondSignalForcesExit: a shutdown held up by a webhook receiver that
// never answers is cut short by a second SIGTERM (exit status 3).
func TestSecondSignalForcesExit(t *testing.T) {
	ctx := testContext(t)
	bin := buildBinary(t)
	stuck := make(chan struct{})
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-stuck:
		case <-r.Context().Done():
		}
	}))
	defer hook.Close()
	defer close(stuck)

	cfgFile := writeConfig(t, t.TempDir(), "webhook-urls: ["+hook.URL+"/hook]\nshutdown-grace: 2m\n")
	// shutdown-grace is set twice in the file: the start must fail and say
	// so, naming the key.
	bad := exec.Command(bin, "serve", "-config", cfgFile)
	outb, err := bad.CombinedOutput()
	if err == nil || !strings.Contains(string(outb), "shutdown-grace") || !strings.Contains(string(outb), "twice") {
		t.Fatalf("a duplicate key was accepted: %v %s", err, outb)
	}
	cfgFile = writeConfig(t, t.TempDir(), "webhook-urls: ["+hook.URL+"/hook]\n")
	p := startBinary(t, bin, []string{"ROOMCAST_SHUTDOWN_GRACE=2m"}, "-config", cfgFile)
	s := p.srv
	host := s.register(ctx, t, "forcehost")
	rm := s.createRoom(ctx, t, host, "force", false)
	push := s.pushURL(ctx, t, host, rm.ID)
	startPublisher(t, push.URL)
	s.waitRoom(t, host.Token, rm.ID, "live", 20*time.Second, func(r roomJSON) bool { return r.Status == "live" })

	p.signal(t, syscall.SIGTERM)
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(p.stdout.String(), `"msg":"shutting down"`) {
		if time.Now().After(deadline) {
			t.Fatal("no shutdown after SIGTERM")
		}
		time.Sleep(pollInterval)
	}
	// The webhooks cannot be flushed: the process waits for its 2 minutes.
	select {
	case <-p.done:
		t.Fatalf("exited before the second signal: %v", p.err)
	case <-time.After(2 * time.Second):
	}
	p.signal(t, syscall.SIGTERM)
	exit, took := p.wait(t, 10*time.Second)
	if exit != 3 || took > 5*time.Second {
		t.Fatalf("exit %d after %v, want 3 at once", exit, took)
	}
	if !strings.Contains(p.stderr.String(), "forced exit") {
		t.Errorf("stderr lacks the forced exit: %s", p.stderr)
	}
}

// TestSIGHUPReloadsCertificate: the binary serves HTTPS with the configured
// certificate and serves a replaced one after SIGHUP.
func TestSIGHUPReloadsCertificate(t *testing.T) {
	ctx := testContext(t)
	bin := buildBinary(t)
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	cert := testCert(t, certFile, keyFile, 10)
	cfgFile := writeConfig(t, t.TempDir(), fmt.Sprintf("https-addr: \"127.0.0.1:0\"\ntls:\n  cert: %q\n  key: %q\n", certFile, keyFile))
	p := startBinary(t, bin, nil, "-config", cfgFile)
	if p.httpsAddr == "" {
		t.Fatal("no HTTPS address in the started line")
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "https://"+p.httpsAddr+"/readyz", nil)
	resp, err := tlsClient(cert).Do(req)
	if err != nil {
		t.Fatalf("HTTPS with the configured certificate: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("HTTPS /readyz: %s", resp.Status)
	}
	testCert(t, certFile, keyFile, 11)
	p.signal(t, syscall.SIGHUP)
	deadline := time.Now().Add(10 * time.Second)
	for servedSerial(t, p.httpsAddr) != 11 {
		if time.Now().After(deadline) {
			t.Fatal("the replaced certificate is not served after SIGHUP")
		}
		time.Sleep(pollInterval)
	}
	if !strings.Contains(p.stdout.String(), "reload requested (SIGHUP)") {
		t.Error("the reload was not logged as a SIGHUP")
	}
	p.signal(t, syscall.SIGTERM)
	if exit, _ := p.wait(t, 20*time.Second); exit != 0 {
		t.Fatalf("exit code %d", exit)
	}
}
