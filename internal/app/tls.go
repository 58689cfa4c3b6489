package app

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"
)

// certCheckInterval is how often the certificate files are checked for
// changes (a renewal by certbot or cert-manager), besides SIGHUP.
const certCheckInterval = 30 * time.Second

// certReloader serves the certificate of two PEM files and loads them again
// on request or when they change. A failed reload keeps the certificate in
// use. Its methods are safe for concurrent use.
type certReloader struct {
	certFile, keyFile string
	log               *slog.Logger

	mu      sync.Mutex
	cert    *tls.Certificate
	modTime time.Time // newest modification time of the two files when loaded
	size    int64     // their total size when loaded
}

// newCertReloader loads the pair once; a bad pair is an error.
func newCertReloader(certFile, keyFile string, log *slog.Logger) (*certReloader, error) {
	r := &certReloader{certFile: certFile, keyFile: keyFile, log: log}
	if err := r.reload(); err != nil {
		return nil, err
	}
	return r, nil
}

// getCertificate implements tls.Config.GetCertificate.
func (r *certReloader) getCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.cert, nil
}

// stamp returns the newest modification time and the total size of the
// files.
func (r *certReloader) stamp() (time.Time, int64, error) {
	var newest time.Time
	var size int64
	for _, f := range []string{r.certFile, r.keyFile} {
		st, err := os.Stat(f)
		if err != nil {
			return time.Time{}, 0, fmt.Errorf("tls: %w", err)
		}
		if st.ModTime().After(newest) {
			newest = st.ModTime()
		}
		size += st.Size()
	}
	return newest, size, nil
}

// reload loads the pair and, if it is valid, serves it from now on.
func (r *certReloader) reload() error {
	mod, size, err := r.stamp()
	if err != nil {
		return err
	}
	cert, err := tls.LoadX509KeyPair(r.certFile, r.keyFile)
	if err != nil {
		return fmt.Errorf("tls: load %s and %s: %w", r.certFile, r.keyFile, err)
	}
	r.mu.Lock()
	r.cert, r.modTime, r.size = &cert, mod, size
	r.mu.Unlock()
	return nil
}

// changed reports whether the files differ from the ones loaded.
func (r *certReloader) changed() bool {
	mod, size, err := r.stamp()
	if err != nil {
		return false // reported when a reload is attempted
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return !mod.Equal(r.modTime) || size != r.size
}

// run reloads the certificate at each request on reload (SIGHUP) and when
// the files change, checking every interval, until ctx ends.
func (r *certReloader) run(ctx context.Context, reload <-chan struct{}, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		why := ""
		select {
		case <-ctx.Done():
			return
		case <-reload:
			why = "reload requested (SIGHUP)"
		case <-t.C:
			if !r.changed() {
				continue
			}
			why = "certificate files changed"
		}
		if err := r.reload(); err != nil {
			r.log.Error("TLS certificate not reloaded; the previous one stays in use", "why", why, "err", err)
			continue
		}
		r.log.Info("TLS certificate reloaded", "why", why, "cert", r.certFile)
	}
}

// tlsConfig returns the server TLS configuration serving r's certificate:
// TLS 1.2 or later, HTTP/1.1 only, since HTTP-FLV and WebSocket take over
// the connection, which HTTP/2 does not allow.
func (r *certReloader) tlsConfig() *tls.Config {
	return &tls.Config{
		MinVersion:     tls.VersionTLS12,
		GetCertificate: r.getCertificate,
		NextProtos:     []string{"http/1.1"},
	}
}
