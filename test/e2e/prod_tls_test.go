package e2e

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"roomcast/internal/app"
	"roomcast/internal/config"
)

// testCert writes a self-signed certificate for 127.0.0.1 with the given
// serial number to certFile and keyFile and returns it.
func testCert(t *testing.T, certFile, keyFile string, serial int64) *x509.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(serial),
		Subject:               pkix.Name{CommonName: "roomcast e2e"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IsCA:                  true,
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	// Write to temporary names and rename, as certbot's deploy does, so
	// the server never reads a half-written pair.
	for _, f := range []struct {
		path  string
		block *pem.Block
	}{{certFile, &pem.Block{Type: "CERTIFICATE", Bytes: der}}, {keyFile, &pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}}} {
		if err := os.WriteFile(f.path+".tmp", pem.EncodeToMemory(f.block), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(f.path+".tmp", f.path); err != nil {
			t.Fatal(err)
		}
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

// tlsClient returns an HTTP client trusting only cert.
func tlsClient(cert *x509.Certificate) *http.Client {
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}, Timeout: 30 * time.Second}
}

// servedSerial connects to addr over TLS and returns the serial number of
// the certificate the server presents.
func servedSerial(t *testing.T, addr string) int64 {
	t.Helper()
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", addr, &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		t.Fatalf("TLS dial %s: %v", addr, err)
	}
	defer conn.Close()
	return conn.ConnectionState().PeerCertificates[0].SerialNumber.Int64()
}

// TestTLSListener: with a certificate configured, the API, HTTP-FLV and
// the WebSocket chat are served over HTTPS/WSS on the second listener, and
// a reload (SIGHUP) serves a replaced certificate.
func TestTLSListener(t *testing.T) {
	ctx := testContext(t)
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	cert := testCert(t, certFile, keyFile, 1)

	cfg := testConfig(t, func(c *config.Config) {
		c.TLS.Addr, c.TLS.CertFile, c.TLS.KeyFile = "127.0.0.1:0", certFile, keyFile
	})
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	reload := make(chan struct{}, 1)
	ready := make(chan app.Addrs, 1)
	runCtx, stop := context.WithCancel(context.Background())
	stopped := make(chan error, 1)
	go func() {
		stopped <- app.Run(runCtx, cfg, app.Options{Logs: logs, ShutdownGrace: 5 * time.Second, Reload: reload,
			OnReady: func(a app.Addrs) { ready <- a }})
	}()
	t.Cleanup(func() {
		stop()
		select {
		case err := <-stopped:
			if err != nil {
				t.Errorf("server stopped with %v", err)
			}
		case <-time.After(stopTimeout):
			t.Errorf("server did not stop")
		}
		if t.Failed() {
			t.Logf("server logs:\n%s", logs)
		}
	})
	var addrs app.Addrs
	select {
	case addrs = <-ready:
	case err := <-stopped:
		t.Fatalf("server exited: %v", err)
	case <-time.After(startTimeout):
		t.Fatal("server not ready")
	}
	if addrs.HTTPS == nil {
		t.Fatal("no HTTPS address")
	}
	httpsAddr := addrs.HTTPS.String()
	base := "https://" + httpsAddr
	client := tlsClient(cert)

	// The API over HTTPS.
	resp, err := client.Get(base + "/api/v1/openapi.json")
	if err != nil {
		t.Fatalf("HTTPS API: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"openapi"`) || resp.TLS == nil || resp.Proto != "HTTP/1.1" {
		t.Fatalf("HTTPS API: %s %s %.100s", resp.Status, resp.Proto, body)
	}
	if hsts := resp.Header.Get("Strict-Transport-Security"); !strings.HasPrefix(hsts, "max-age=31536000") {
		t.Fatalf("HTTPS API: Strict-Transport-Security %q, want a year", hsts)
	}
	plain, err := http.Get("http://" + addrs.HTTP.String() + "/api/v1/openapi.json")
	if err != nil {
		t.Fatalf("HTTP API: %v", err)
	}
	plain.Body.Close()
	if hsts := plain.Header.Get("Strict-Transport-Security"); hsts != "" {
		t.Fatalf("plain HTTP carries Strict-Transport-Security %q", hsts)
	}

	// HTTP-FLV over HTTPS: a playable FLV stream.
	stream := streamName("tls")
	startPublisher(t, "rtmp://"+addrs.RTMP.String()+"/live/"+stream)
	s := &testServer{rtmpAddr: addrs.RTMP.String(), httpAddr: addrs.HTTP.String(), logs: logs, cfg: cfg}
	s.waitLive(t, stream)
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/live/"+stream+".flv", nil)
	resp, err = client.Do(req)
	if err != nil {
		t.Fatalf("HTTPS FLV: %v", err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("HTTPS FLV: %s", resp.Status)
	}
	fs, _, err := newFLVStream(resp.Body)
	if err != nil {
		t.Fatalf("HTTPS FLV header: %v", err)
	}
	if _, err := checkStartsPlayable(fs); err != nil {
		t.Fatalf("HTTPS FLV: %v", err)
	}
	resp.Body.Close()

	// WebSocket-FLV over WSS.
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	wsClient := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	wc, _, err := websocket.Dial(wctx, "wss://"+httpsAddr+"/live/"+stream+".flv", &websocket.DialOptions{HTTPClient: wsClient})
	cancel()
	if err != nil {
		t.Fatalf("WSS FLV: %v", err)
	}
	wc.SetReadLimit(16 << 20)
	rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	_, first, err := wc.Read(rctx)
	cancel()
	wc.CloseNow()
	if err != nil || len(first) < 3 || string(first[:3]) != "FLV" {
		t.Fatalf("WSS FLV first message: %q (%d bytes) %v", first[:min(len(first), 16)], len(first), err)
	}

	// A replaced certificate is served after a reload request.
	if got := servedSerial(t, httpsAddr); got != 1 {
		t.Fatalf("serial %d before the reload", got)
	}
	testCert(t, certFile, keyFile, 2)
	reload <- struct{}{}
	deadline := time.Now().Add(10 * time.Second)
	for servedSerial(t, httpsAddr) != 2 {
		if time.Now().After(deadline) {
			t.Fatal("the new certificate is not served after the reload")
		}
		time.Sleep(pollInterval)
	}
	// The new certificate is in use before the reload's log line is
	// written: wait for the line too.
	for !strings.Contains(logs.String(), "TLS certificate reloaded") {
		if time.Now().After(deadline) {
			t.Fatal("the reload was not logged")
		}
		time.Sleep(pollInterval)
	}
}
