package bench

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"net"
	"net/url"
	"os"
	"strings"
	"time"
)

// Chat bench defaults: the chat server's own defaults (docs/chat.md), which
// the bench must respect to avoid being refused.
const (
	// DefaultChatRateMessages and DefaultChatRateWindow are the server's
	// per-user send limit (roomcast -chat-rate, -chat-rate-window).
	DefaultChatRateMessages = 5
	DefaultChatRateWindow   = 10 * time.Second
	// DefaultChatConnsPerUser is chat.Config.MaxConnsPerUser.
	DefaultChatConnsPerUser = 5
	// DefaultChatGuestCap is chat.Config.MaxGuestConnsPerIP.
	DefaultChatGuestCap = 20
	// MaxChatRate bounds ChatConfig.Rate (messages per second).
	MaxChatRate = 10_000
	// MaxChatDuration bounds ChatConfig.Duration.
	MaxChatDuration = time.Hour
)

// ChatConfig is one chat load test: Clients WebSocket clients join room
// Room's chat; once all have joined (or JoinTimeout passed), the server's
// idle RSS is taken, then sender clients send Rate messages per second in
// total for Duration, and every client measures the delivery latency of
// every message it receives.
type ChatConfig struct {
	// URL is the server's base URL (http://host:port or ws://host:port);
	// the chat path /api/v1/rooms/{Room}/chat is appended to its path.
	URL string
	// SendURL, when set, is the base URL the sender clients connect to
	// instead of URL: another node of a cluster, to measure delivery
	// across nodes (the other clients stay on URL).
	SendURL string
	// Room is the room id.
	Room string
	// Clients is the number of clients (1…MaxViewers), senders included.
	Clients int
	// Rate is the total number of messages per second the senders send.
	// 0: no sending (a join and idle-memory test).
	Rate float64
	// Duration is the length of the sending window.
	Duration time.Duration
	// JoinTimeout bounds the join phase. Default 60s.
	JoinTimeout time.Duration
	// Drain is how long the clients keep reading after the last message
	// was sent. Default 2s.
	Drain time.Duration
	// PID, when not 0, is the server process measured via /proc.
	PID int
	// Tokens are session tokens; the first ones are the senders' (one
	// distinct token, hence user, per sender), then they are reused round
	// robin, at most ConnsPerUser connections each. Clients left without a
	// token join as guests.
	Tokens []string
	// RateMessages per RateWindow is the server's per-user send limit;
	// the bench refuses a Rate that needs more distinct senders than it
	// has tokens. Defaults 5 and 10s.
	RateMessages int
	RateWindow   time.Duration
	// ConnsPerUser is the server's cap on one user's chat connections.
	// Default 5.
	ConnsPerUser int
	// GuestCap is the server's cap on guest connections per client IP.
	// Default 20. On an IPv4 loopback target, guests are spread over as
	// many source addresses 127.0.0.x as the cap requires.
	GuestCap int
	// BehindThreshold is the delivery latency of a client's last message
	// over which it counts as behind. Default 1s.
	BehindThreshold time.Duration
	// AllowRemote permits targets that are not loopback addresses.
	AllowRemote bool
	// Arrival is the receive clock: ArrivalKernel (default) or ArrivalUser.
	Arrival string
	// Out, when not nil, receives the report; as JSON if JSON is set.
	Out  io.Writer
	JSON bool
}

// chatTarget is a validated ChatConfig's parsed target.
type chatTarget struct {
	u        *url.URL // the chat endpoint
	hostport string
	loop4    bool        // the host is an IPv4 loopback address
	send     *chatTarget // the senders' endpoint (SendURL); nil: this one
}

// SendersNeeded returns how many distinct sender users a total rate of
// rate messages per second needs under a server limit of msgs per window
// per user: ceil(rate · window / msgs).
func SendersNeeded(rate float64, msgs int, window time.Duration) int {
	if rate <= 0 {
		return 0
	}
	return int(math.Ceil(rate*window.Seconds()/float64(msgs) - 1e-9))
}

func (c *ChatConfig) setDefaults() {
	if c.JoinTimeout <= 0 {
		c.JoinTimeout = 60 * time.Second
	}
	if c.Drain <= 0 {
		c.Drain = 2 * time.Second
	}
	if c.RateMessages <= 0 {
		c.RateMessages = DefaultChatRateMessages
	}
	if c.RateWindow <= 0 {
		c.RateWindow = DefaultChatRateWindow
	}
	if c.ConnsPerUser <= 0 {
		c.ConnsPerUser = DefaultChatConnsPerUser
	}
	if c.GuestCap <= 0 {
		c.GuestCap = DefaultChatGuestCap
	}
	if c.BehindThreshold <= 0 {
		c.BehindThreshold = time.Second
	}
	if c.Arrival == "" {
		c.Arrival = ArrivalKernel
	}
}

// validate checks c (after setDefaults) and parses its URL.
func (c *ChatConfig) validate() (*chatTarget, error) {
	if c.Clients < 1 || c.Clients > MaxViewers {
		return nil, fmt.Errorf("clients %d not in 1…%d: %w", c.Clients, MaxViewers, ErrConfig)
	}
	if c.Duration <= 0 || c.Duration > MaxChatDuration {
		return nil, fmt.Errorf("duration %v not in (0, %v]: %w", c.Duration, MaxChatDuration, ErrConfig)
	}
	if c.Rate < 0 || c.Rate > MaxChatRate || math.IsNaN(c.Rate) {
		return nil, fmt.Errorf("rate %v not in 0…%d: %w", c.Rate, MaxChatRate, ErrConfig)
	}
	if c.PID < 0 {
		return nil, fmt.Errorf("negative pid: %w", ErrConfig)
	}
	if c.Arrival != ArrivalKernel && c.Arrival != ArrivalUser {
		return nil, fmt.Errorf("arrival %q (want %s or %s): %w", c.Arrival, ArrivalKernel, ArrivalUser, ErrConfig)
	}
	if c.Room == "" || strings.ContainsAny(c.Room, "/?#% ") {
		return nil, fmt.Errorf("room %q: %w", c.Room, ErrConfig)
	}
	for i, t := range c.Tokens {
		if t == "" || strings.ContainsAny(t, "\r\n") {
			return nil, fmt.Errorf("token %d is empty or has a line break: %w", i+1, ErrConfig)
		}
	}
	senders := SendersNeeded(c.Rate, c.RateMessages, c.RateWindow)
	if senders > 0 {
		distinct := countDistinct(c.Tokens)
		if distinct < senders {
			return nil, fmt.Errorf("%v messages/s at the server's limit of %d per %v per user need %d sender users, hence %d distinct tokens; got %d (pass more with --tokens-file or --token, or raise the server's -chat-rate): %w",
				c.Rate, c.RateMessages, c.RateWindow, senders, senders, distinct, ErrConfig)
		}
		if senders > c.Clients {
			return nil, fmt.Errorf("%d senders needed but only %d clients: %w", senders, c.Clients, ErrConfig)
		}
	}
	t, err := c.target(c.URL)
	if err != nil {
		return nil, err
	}
	if c.SendURL != "" {
		if t.send, err = c.target(c.SendURL); err != nil {
			return nil, fmt.Errorf("send-%w", err)
		}
	}
	return t, nil
}

// target parses a server base URL into the room's chat endpoint.
func (c *ChatConfig) target(raw string) (*chatTarget, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("url: %v: %w", err, ErrConfig)
	}
	switch u.Scheme {
	case "http", "ws":
	default:
		return nil, fmt.Errorf("url %q: want http:// or ws:// (no TLS): %w", raw, ErrConfig)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("url %q has no host: %w", raw, ErrConfig)
	}
	host, port := u.Hostname(), u.Port()
	if port == "" {
		port = "80"
	}
	if !c.AllowRemote && !isLoopback(host) {
		return nil, fmt.Errorf("host %q: %w", host, ErrRemoteHost)
	}
	cu := *u
	cu.Path = strings.TrimSuffix(u.Path, "/") + "/api/v1/rooms/" + c.Room + "/chat"
	cu.RawPath, cu.RawQuery, cu.Fragment = "", "", ""
	t := &chatTarget{u: &cu, hostport: net.JoinHostPort(host, port)}
	if ip := net.ParseIP(host).To4(); ip != nil && ip[0] == 127 {
		t.loop4 = true
	}
	return t, nil
}

// countDistinct returns the number of distinct strings in s.
func countDistinct(s []string) int {
	m := make(map[string]struct{}, len(s))
	for _, v := range s {
		m[v] = struct{}{}
	}
	return len(m)
}

// ReadTokens reads session tokens from r, one per line; blank lines and
// lines starting with '#' are skipped.
func ReadTokens(r io.Reader) ([]string, error) {
	var out []string
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		t := strings.TrimSpace(sc.Text())
		if t == "" || strings.HasPrefix(t, "#") {
			continue
		}
		out = append(out, t)
	}
	return out, sc.Err()
}

// readTokensFile reads tokens from the file at path.
func readTokensFile(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	toks, err := ReadTokens(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return toks, nil
}
