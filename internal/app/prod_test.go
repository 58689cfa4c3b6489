package app

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"roomcast/internal/httpx"
	"roomcast/internal/metrics"
)

// writeCert writes a self-signed certificate for 127.0.0.1 with the given
// serial number to cert and key.
func writeCert(t *testing.T, certFile, keyFile string, serial int64) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial),
		Subject:      pkix.Name{CommonName: "roomcast test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		t.Fatal(err)
	}
}

func servedSerial(t *testing.T, r *certReloader) int64 {
	t.Helper()
	c, err := r.getCertificate(nil)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(c.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	return leaf.SerialNumber.Int64()
}

func TestCertReloader(t *testing.T) {
	dir := t.TempDir()
	cert, key := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if _, err := newCertReloader(cert, key, slog.New(slog.DiscardHandler)); err == nil {
		t.Fatal("missing files accepted")
	}
	writeCert(t, cert, key, 1)
	logs := &strings.Builder{}
	var mu sync.Mutex
	log := slog.New(slog.NewTextHandler(lockedWriter{&mu, logs}, nil))
	r, err := newCertReloader(cert, key, log)
	if err != nil {
		t.Fatal(err)
	}
	if servedSerial(t, r) != 1 || r.changed() {
		t.Fatal("first certificate")
	}
	reload := make(chan struct{})
	ctx := t.Context()
	done := make(chan struct{})
	go func() { defer close(done); r.run(ctx, reload, 20*time.Millisecond) }()

	// A change of the files is picked up by the poll.
	writeCert(t, cert, key, 2)
	waitFor(t, "the changed files to be loaded", func() bool { return servedSerial(t, r) == 2 })

	// A broken pair keeps the old certificate; a reload request logs it.
	if err := os.WriteFile(key, []byte("garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	reload <- struct{}{}
	waitFor(t, "the failed reload to be logged", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return strings.Contains(logs.String(), "not reloaded")
	})
	if servedSerial(t, r) != 2 {
		t.Fatal("a broken pair replaced the certificate")
	}
	writeCert(t, cert, key, 3)
	reload <- struct{}{}
	waitFor(t, "the reload request", func() bool { return servedSerial(t, r) == 3 })
	cfg := r.tlsConfig()
	if cfg.MinVersion != tls.VersionTLS12 || len(cfg.NextProtos) != 1 || cfg.NextProtos[0] != "http/1.1" {
		t.Fatalf("tls config %+v", cfg)
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestIPLimiter(t *testing.T) {
	now := time.Unix(1000, 0)
	l := newAPILimiter(2, func() time.Time { return now })
	for i := range 4 {
		if _, ok := l.Allow("a"); !ok {
			t.Fatalf("request %d of the burst refused", i)
		}
	}
	wait, ok := l.Allow("a")
	if ok || wait <= 0 || wait > time.Second {
		t.Fatalf("past the burst: %v %v", wait, ok)
	}
	if _, ok := l.Allow("b"); !ok {
		t.Fatal("another IP refused")
	}
	now = now.Add(500 * time.Millisecond) // one token back
	if _, ok := l.Allow("a"); !ok {
		t.Fatal("refilled token refused")
	}
	if _, ok := l.Allow("a"); ok {
		t.Fatal("more than the refill allowed")
	}
}

func TestConnLimit(t *testing.T) {
	l := connLimit{max: 2}
	if !l.acquire() || !l.acquire() || l.acquire() {
		t.Fatal("limit of 2")
	}
	l.release()
	if !l.acquire() {
		t.Fatal("released slot")
	}
	var none connLimit
	for range 100 {
		if !none.acquire() {
			t.Fatal("max 0 limits")
		}
	}
}

func TestAPIRateLimit(t *testing.T) {
	m := metrics.New(metrics.Sources{}, metrics.Build{})
	h := apiRateLimit(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}), httpx.NewLimiter(1, time.Second, 10, time.Now), true, m)
	do := func(path, xff string) *httptest.ResponseRecorder {
		req := httptest.NewRequest("GET", path, nil)
		req.RemoteAddr = "10.0.0.1:1234"
		if xff != "" {
			req.Header.Set("X-Forwarded-For", xff)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	if do("/api/v1/rooms", "1.1.1.1").Code != 200 {
		t.Fatal("first request refused")
	}
	rec := do("/api/v1/rooms", "9.9.9.9, 1.1.1.1")
	if rec.Code != http.StatusTooManyRequests || rec.Header().Get("Retry-After") == "" || !strings.Contains(rec.Body.String(), "rate_limited") {
		t.Fatalf("second request: %d %v %s", rec.Code, rec.Header(), rec.Body)
	}
	if do("/api/v1/rooms", "2.2.2.2").Code != 200 {
		t.Fatal("another client refused")
	}
	if do("/live/s.flv", "1.1.1.1").Code != 200 || do("/metrics", "1.1.1.1").Code != 200 {
		t.Fatal("non-API path limited")
	}
	if httpx.ClientIP(httptest.NewRequest("GET", "/", nil), false) != "192.0.2.1" {
		t.Fatal("clientIP without proxy")
	}
}

func TestHLSRequest(t *testing.T) {
	match := hlsRequest("live")
	tests := []struct {
		method, path string
		want         bool
	}{
		{"GET", "/live/s.m3u8", true},
		{"HEAD", "/live/s.m3u8", true},
		{"GET", "/live/s/k1-12.ts", true},
		{"GET", "/live/s/k1-12.3.ts", true},
		{"POST", "/live/s/whip", false},
		{"OPTIONS", "/live/s.m3u8", false},
		{"GET", "/live/s.flv", false},
		{"GET", "/live/s.jpg", false},
		{"GET", "/live/", false},
		{"GET", "/live//x", false},
		{"GET", "/live/s/", false},
		{"GET", "/live/s/a/b", false},
		{"GET", "/vod/s.m3u8", false},
		{"GET", "/api/v1/rooms", false},
	}
	for _, tt := range tests {
		if got := match(tt.method, tt.path); got != tt.want {
			t.Errorf("%s %s: %v, want %v", tt.method, tt.path, got, tt.want)
		}
	}
}
