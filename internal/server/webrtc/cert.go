package webrtc

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"fmt"
	"sync"
	"time"

	"github.com/pion/webrtc/v4"
)

// certRenewal is how long before its expiry the shared DTLS certificate is
// replaced (pion's are valid for a month).
const certRenewal = 7 * 24 * time.Hour

// certs shares one DTLS certificate among peer connections, so that a
// session does not generate a key pair of its own (peers check the
// certificate's fingerprint in the SDP, not a chain).
type certs struct {
	mu   sync.Mutex
	cert *webrtc.Certificate
}

// config returns a peer connection configuration with the shared
// certificate, renewed when it nears its expiry.
func (c *certs) config() (webrtc.Configuration, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cert == nil || time.Until(c.cert.Expires()) < certRenewal {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return webrtc.Configuration{}, fmt.Errorf("dtls key: %w", err)
		}
		cert, err := webrtc.GenerateCertificate(key)
		if err != nil {
			return webrtc.Configuration{}, fmt.Errorf("dtls certificate: %w", err)
		}
		c.cert = cert
	}
	return webrtc.Configuration{Certificates: []webrtc.Certificate{*c.cert}}, nil
}
