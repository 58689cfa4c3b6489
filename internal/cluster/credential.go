package cluster

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"time"
)

// Query parameters of a relay request: the play URL of an edge node pulling
// a stream from the node that holds it.
const (
	ParamNode = "relayNode" // the pulling node's id
	ParamTime = "relayTime" // Unix seconds when the request was signed
	ParamSign = "relaySign" // hex HMAC-SHA256 over the stream, node and time
)

// credentialSkew is how far a relay request's time may be from the
// receiving node's clock.
const credentialSkew = 5 * time.Minute

// ErrCredential refuses a relay request whose cluster credential is missing
// or wrong.
var ErrCredential = errors.New("cluster: relay refused: missing or wrong cluster credential")

// Credential signs and checks relay requests with the key all nodes share.
type Credential struct {
	key []byte
}

// NewCredential returns a Credential for the shared cluster key.
func NewCredential(key string) Credential { return Credential{key: []byte(key)} }

func (c Credential) sign(stream, node string, unix int64) string {
	m := hmac.New(sha256.New, c.key)
	fmt.Fprintf(m, "roomcast-relay\n%s\n%s\n%d", stream, node, unix)
	return hex.EncodeToString(m.Sum(nil))
}

// Query returns the relay parameters for node pulling stream at now.
func (c Credential) Query(stream, node string, now time.Time) url.Values {
	unix := now.Unix()
	return url.Values{
		ParamNode: {node},
		ParamTime: {strconv.FormatInt(unix, 10)},
		ParamSign: {c.sign(stream, node, unix)},
	}
}

// IsRelay reports whether a request's query claims to be a relay request:
// it carries any of the relay parameters.
func IsRelay(q url.Values) bool {
	return q.Has(ParamNode) || q.Has(ParamTime) || q.Has(ParamSign)
}

// Verify checks a relay request's parameters for stream and returns the
// pulling node's id. Every failure wraps ErrCredential.
func (c Credential) Verify(q url.Values, stream string, now time.Time) (string, error) {
	node, ts, sig := q.Get(ParamNode), q.Get(ParamTime), q.Get(ParamSign)
	if node == "" || ts == "" || sig == "" {
		return "", fmt.Errorf("%w: %s, %s and %s are required", ErrCredential, ParamNode, ParamTime, ParamSign)
	}
	if len(c.key) == 0 {
		return "", fmt.Errorf("%w: this node has no cluster key", ErrCredential)
	}
	unix, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return "", fmt.Errorf("%w: %s %q is not a Unix time", ErrCredential, ParamTime, ts)
	}
	if d := now.Sub(time.Unix(unix, 0)); d > credentialSkew || d < -credentialSkew {
		return "", fmt.Errorf("%w: %s is %v away from this node's clock", ErrCredential, ParamTime, d.Round(time.Second))
	}
	want := c.sign(stream, node, unix)
	if !hmac.Equal([]byte(sig), []byte(want)) {
		return "", fmt.Errorf("%w: bad signature", ErrCredential)
	}
	return node, nil
}
