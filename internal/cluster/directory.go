package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Bucket is the JetStream key-value bucket of the stream directory. Keys
// are "s.STREAM" (the node holding the stream's publisher) and "n.NODE"
// (a node that is up); both expire TTL after their last heartbeat.
const Bucket = "roomcast_cluster"

// DefaultTTL is how long a directory entry outlives its last heartbeat:
// a dead node's streams vanish this long after it died.
const DefaultTTL = 5 * time.Second

// Entry is a directory value: the node holding a stream, or a node that is
// up.
type Entry struct {
	Node string `json:"node"`
	// Addr is the RTMP host:port other nodes pull the stream from.
	Addr string `json:"addr"`
	// Since is when the claim (or the node) started.
	Since time.Time `json:"since"`
	// Ended marks a stream's entry that its node gave up because the
	// stream ended there (a tombstone until it expires).
	Ended bool `json:"ended,omitempty"`

	revision uint64
}

// directory is the stream directory in a key-value bucket.
type directory struct {
	kv jetstream.KeyValue
}

// openDirectory creates the bucket if needed and returns its directory.
func openDirectory(ctx context.Context, js jetstream.JetStream, ttl time.Duration) (*directory, error) {
	kv, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:      Bucket,
		Description: "roomcast: which node holds each live stream, and the nodes that are up",
		History:     1,
		TTL:         ttl,
	})
	if err != nil {
		return nil, fmt.Errorf("key-value bucket %s: %w", Bucket, err)
	}
	return &directory{kv: kv}, nil
}

func streamKey(name string) string { return "s." + name }
func nodeKey(id string) string     { return "n." + id }

func encode(e Entry) []byte {
	b, _ := json.Marshal(e) // a struct of strings and a time: cannot fail
	return b
}

func decode(v jetstream.KeyValueEntry) (Entry, error) {
	var e Entry
	if err := json.Unmarshal(v.Value(), &e); err != nil {
		return Entry{}, fmt.Errorf("directory entry %s: %w", v.Key(), err)
	}
	e.revision = v.Revision()
	return e, nil
}

// errNoEntry: the directory has no (live) entry for the key.
var errNoEntry = errors.New("cluster: no directory entry")

// errReleased: the holder gave the entry up (the stream ended there), as
// opposed to an entry that expired with its node. It wraps errNoEntry.
var errReleased = fmt.Errorf("%w: released by its node", errNoEntry)

// get returns the entry of key, or errNoEntry; for a tombstone it returns
// the entry (for its revision) and errReleased.
func (d *directory) get(ctx context.Context, key string) (Entry, error) {
	v, err := d.kv.Get(ctx, key)
	if errors.Is(err, jetstream.ErrKeyNotFound) || errors.Is(err, jetstream.ErrKeyDeleted) {
		return Entry{}, errNoEntry
	}
	if err != nil {
		return Entry{}, fmt.Errorf("directory get %s: %w", key, err)
	}
	e, err := decode(v)
	if err == nil && e.Ended {
		return e, errReleased
	}
	return e, err
}

// create writes e under key if the key has no live entry; it returns the
// new revision, or jetstream.ErrKeyExists.
func (d *directory) create(ctx context.Context, key string, e Entry) (uint64, error) {
	rev, err := d.kv.Create(ctx, key, encode(e))
	if err != nil {
		return 0, fmt.Errorf("directory create %s: %w", key, err)
	}
	return rev, nil
}

// update replaces the entry at revision rev (compare and set).
func (d *directory) update(ctx context.Context, key string, e Entry, rev uint64) (uint64, error) {
	rev, err := d.kv.Update(ctx, key, encode(e), rev)
	if err != nil {
		return 0, fmt.Errorf("directory update %s: %w", key, err)
	}
	return rev, nil
}

// put writes e under key unconditionally (node heartbeats).
func (d *directory) put(ctx context.Context, key string, e Entry) error {
	if _, err := d.kv.Put(ctx, key, encode(e)); err != nil {
		return fmt.Errorf("directory put %s: %w", key, err)
	}
	return nil
}

// release replaces e, still at revision rev, with its tombstone: the
// stream ended on e's node.
func (d *directory) release(ctx context.Context, key string, e Entry, rev uint64) error {
	e.Ended = true
	if _, err := d.kv.Update(ctx, key, encode(e), rev); err != nil {
		return fmt.Errorf("directory release %s: %w", key, err)
	}
	return nil
}

// list returns the live entries whose keys start with prefix ("s." or
// "n."), by the rest of the key.
func (d *directory) list(ctx context.Context, prefix string) (map[string]Entry, error) {
	out := make(map[string]Entry)
	lister, err := d.kv.ListKeysFiltered(ctx, prefix+">")
	if errors.Is(err, jetstream.ErrNoKeysFound) {
		return out, nil
	}
	if err != nil {
		return nil, fmt.Errorf("directory list %s: %w", prefix, err)
	}
	var keys []string
	for k := range lister.Keys() {
		keys = append(keys, k)
	}
	for _, k := range keys {
		e, err := d.get(ctx, k)
		if errors.Is(err, errNoEntry) {
			continue // expired or removed meanwhile
		}
		if err != nil {
			return nil, err
		}
		out[strings.TrimPrefix(k, prefix)] = e
	}
	return out, nil
}
