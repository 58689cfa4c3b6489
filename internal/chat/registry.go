package chat

import "sync"

// shards is the number of independently locked parts of the room registry
// and of the connection counters: joins and leaves of different rooms (and
// users) rarely wait for each other, and a room being opened (its history
// loaded from the store) holds up only its own shard.
const shards = 64

// registry holds the open room channels with the number of clients
// (joined or joining) of each, sharded by room id. Its zero value is
// ready to use.
type registry struct {
	shards [shards]registryShard
}

type registryShard struct {
	mu       sync.Mutex
	channels map[string]*roomChannel
	refs     map[string]int
}

func (r *registry) shard(id string) *registryShard { return &r.shards[shardOf(id)] }

// shardOf picks the shard of a key (FNV-1a).
func shardOf(key string) uint32 {
	h := uint32(2166136261)
	for i := 0; i < len(key); i++ {
		h ^= uint32(key[i])
		h *= 16777619
	}
	return h % shards
}

// get returns the room's channel, nil when it is not open.
func (r *registry) get(id string) *roomChannel {
	sh := r.shard(id)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	return sh.channels[id]
}

// all returns every open channel.
func (r *registry) all() []*roomChannel {
	var out []*roomChannel
	for i := range r.shards {
		sh := &r.shards[i]
		sh.mu.Lock()
		for _, ch := range sh.channels {
			out = append(out, ch)
		}
		sh.mu.Unlock()
	}
	return out
}

// acquire returns the room's channel, opening it with open (called with
// the shard locked) when it is not open, and counts one more client.
func (r *registry) acquire(id string, open func() (*roomChannel, error)) (*roomChannel, error) {
	sh := r.shard(id)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	ch := sh.channels[id]
	if ch == nil {
		var err error
		if ch, err = open(); err != nil {
			return nil, err
		}
		if sh.channels == nil {
			sh.channels, sh.refs = make(map[string]*roomChannel), make(map[string]int)
		}
		sh.channels[id] = ch
	}
	sh.refs[id]++
	return ch, nil
}

// release counts one client less and reports whether it was the last: the
// channel is then out of the registry and the caller closes it.
func (r *registry) release(id string) bool {
	sh := r.shard(id)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	sh.refs[id]--
	if sh.refs[id] > 0 {
		return false
	}
	delete(sh.refs, id)
	delete(sh.channels, id)
	return true
}

// connCounts counts connections per key (user id, client IP) within a
// limit, sharded by key. Its zero value is ready to use.
type connCounts struct {
	shards [shards]counterShard
}

type counterShard struct {
	mu sync.Mutex
	n  map[string]int
}

func (c *connCounts) shard(key string) *counterShard { return &c.shards[shardOf(key)] }

// add counts one more for key unless it is at limit, and reports whether
// it did; each true is paired with a remove.
func (c *connCounts) add(key string, limit int) bool {
	sh := c.shard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if sh.n[key] >= limit {
		return false
	}
	if sh.n == nil {
		sh.n = make(map[string]int)
	}
	sh.n[key]++
	return true
}

// remove undoes an add.
func (c *connCounts) remove(key string) {
	sh := c.shard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if sh.n[key]--; sh.n[key] <= 0 {
		delete(sh.n, key)
	}
}
