package config

import (
	"flag"
	"net"
	"os"
	"regexp"
	"time"
)

// Cluster configures a node of a roomcast cluster: several processes that
// share NATS (Config.NATSURL: chat, the stream directory, relays between
// nodes) and the Postgres database. With NATSURL empty the node runs
// alone. See docs/cluster.md.
type Cluster struct {
	// NodeID names this node in the stream directory and the streams API;
	// empty means the host name.
	NodeID string
	// NodeAddr is the RTMP host:port other nodes reach this node at to
	// relay its streams; empty means the host name and the RTMP port.
	NodeAddr string
	// Key is the secret all nodes share: it signs the relay requests
	// between nodes. Required with Config.NATSURL.
	Key string
	// RelayLinger is how long an edge keeps relaying a stream after its
	// last local viewer left.
	RelayLinger time.Duration
}

// minClusterKey is the shortest cluster key accepted.
const minClusterKey = 16

// nodeIDPattern is what a node id may hold: it is a NATS subject token and
// key-value key.
var nodeIDPattern = regexp.MustCompile(`^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,63}$`)

// defaultCluster is a single node that would relay for 10 s.
func defaultCluster() Cluster {
	return Cluster{RelayLinger: 10 * time.Second}
}

// clusterFlags defines the cluster flags and -record-dir on fs.
func (c *Config) clusterFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.Cluster.NodeID, "node-id", c.Cluster.NodeID, "this node's name in the cluster (default: the host name)")
	fs.StringVar(&c.Cluster.NodeAddr, "node-addr", c.Cluster.NodeAddr, "RTMP HOST:PORT other nodes reach this node at (default: the host name and the RTMP port)")
	fs.StringVar(&c.Cluster.Key, "cluster-key", c.Cluster.Key, "secret shared by all nodes, signing relays between them (required with -nats-url; at least 16 characters)")
	fs.DurationVar(&c.Cluster.RelayLinger, "relay-linger", c.Cluster.RelayLinger, "keep relaying a stream from another node this long after its last viewer here left")
	fs.StringVar(&c.Record.Dir, "record-dir", c.Record.Dir, "directory of the replays (default: DATA/recordings); in a cluster, one directory all nodes share (NFS)")
}

// validateCluster reports bad cluster values through check.
func (c *Config) validateCluster(check func(ok bool, key, format string, args ...any)) {
	cl := c.Cluster
	if c.NATSURL != "" {
		check(len(cl.Key) >= minClusterKey, "cluster-key", "must be set to a secret of at least %d characters shared by all nodes when nats-url is set", minClusterKey)
	}
	check(cl.NodeID == "" || nodeIDPattern.MatchString(cl.NodeID), "node-id", "%q must be 1-64 characters of A-Z a-z 0-9 _ - .", cl.NodeID)
	if cl.NodeAddr != "" {
		host, port, err := net.SplitHostPort(cl.NodeAddr)
		check(err == nil && host != "" && port != "", "node-addr", "%q is not a HOST:PORT other nodes can reach", cl.NodeAddr)
	}
	check(cl.RelayLinger >= 0, "relay-linger", "must not be negative")
}

// Node returns the node id: NodeID, or the host name made into a valid id.
func (cl Cluster) Node() string {
	if cl.NodeID != "" {
		return cl.NodeID
	}
	return hostID()
}

// Addr returns the node address: NodeAddr, or the host name with the port
// of rtmpAddr (the bound RTMP address).
func (cl Cluster) Addr(rtmpAddr string) string {
	if cl.NodeAddr != "" {
		return cl.NodeAddr
	}
	_, port, err := net.SplitHostPort(rtmpAddr)
	if err != nil {
		port = "1935"
	}
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "localhost"
	}
	return net.JoinHostPort(host, port)
}

func hostID() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		return "node"
	}
	id := []byte(host)
	for i, b := range id {
		if !(b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || b == '_' || b == '-' || b == '.') {
			id[i] = '-'
		}
	}
	if len(id) > 64 {
		id = id[:64]
	}
	if id[0] == '.' {
		id[0] = '-'
	}
	return string(id)
}
