package config

import (
	"flag"
	"time"
)

// Co-host mix layouts.
const (
	LayoutPIP  = "pip"
	LayoutGrid = "grid"
)

// Cohost configures rooms with several members (连麦): how many co-hosts a
// room may have, how long a chat request to join waits for an answer, and
// the programme's mix.
type Cohost struct {
	// Max is how many co-hosts a room may have besides its host (0: none).
	Max int
	// RequestTTL is how long a chat cohost_request waits for the host's
	// answer before it expires.
	RequestTTL time.Duration
	// Mix turns the programme's mix on: while co-hosts are live, the
	// room's play URLs carry the host with the co-hosts (an ffmpeg per
	// room). Off, the programme is always the host alone.
	Mix bool
	// Layout is how the mix places the co-hosts: LayoutPIP (small tiles
	// over the host's full picture) or LayoutGrid (equal tiles).
	Layout string
}

// defaultCohost are the defaults of Cohost.
func defaultCohost() Cohost {
	return Cohost{Max: 3, RequestTTL: time.Minute, Mix: true, Layout: LayoutPIP}
}

// flags defines the co-host flags on fs.
func (c *Cohost) flags(fs *flag.FlagSet) {
	fs.IntVar(&c.Max, "max-cohosts", c.Max, "co-hosts a room may have besides its host (0: none)")
	fs.DurationVar(&c.RequestTTL, "cohost-request-ttl", c.RequestTTL, "how long a chat request to co-host waits for the host's answer")
	fs.BoolVar(&c.Mix, "cohost-mix", c.Mix, "mix live co-hosts into the room's programme with ffmpeg (off: the programme is the host alone)")
	fs.StringVar(&c.Layout, "cohost-layout", c.Layout, "layout of the mix: pip (co-hosts in small tiles over the host) or grid")
}

// validate reports bad co-host values through check.
func (c *Cohost) validate(check func(ok bool, key, format string, args ...any)) {
	check(c.Max >= 0 && c.Max <= 8, "max-cohosts", "%d is outside 0..8", c.Max)
	check(c.RequestTTL >= time.Second && c.RequestTTL <= time.Hour, "cohost-request-ttl", "%v is outside 1s..1h", c.RequestTTL)
	check(c.Layout == LayoutPIP || c.Layout == LayoutGrid, "cohost-layout", "%q is not pip or grid", c.Layout)
}
