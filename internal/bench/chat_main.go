package bench

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"
)

const chatUsage = `usage: roomcast bench chat --url URL --room ID [flags]

Joins --clients WebSocket clients to the room's chat (/api/v1/rooms/ID/chat),
then has sender clients send --rate messages per second in total, each text
"bench:<unix-nanos>", and reports delivery rate and latency, clients that
fell behind or were disconnected and, with --pid, the server's CPU per
delivered message and RSS per connection (idle: after all joined, before
sending).

The server limits each user to -chat-rate messages per -chat-rate-window
(default 5 per 10s), so the senders need ceil(rate × window / messages)
distinct users: pass their tokens with --tokens-file or --token. Tokens are
reused round robin for the other clients, at most --conns-per-user each
(the server's per-user cap, 5); the rest join as guests, at most
--guest-cap per source address (the server's per-IP cap, 20; on a
127.x target guests are spread over 127.0.0.x source addresses).

flags:
`

// tokenList is a repeatable --token flag.
type tokenList []string

func (t *tokenList) String() string { return fmt.Sprint(len(*t), " tokens") }
func (t *tokenList) Set(s string) error {
	*t = append(*t, s)
	return nil
}

// chatFlags defines the flags of "bench chat" on cfg.
func chatFlags(cfg *ChatConfig, tokens *tokenList, tokensFile *string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("bench chat", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.URL, "url", "", "server base `URL`, http://host:port (loopback only unless --allow-remote)")
	fs.StringVar(&cfg.SendURL, "send-url", "", "base `URL` the senders connect to instead of --url: another node of a cluster, to measure delivery across nodes")
	fs.StringVar(&cfg.Room, "room", "", "room `id`")
	fs.IntVar(&cfg.Clients, "clients", 100, "number of chat clients, senders included")
	fs.Float64Var(&cfg.Rate, "rate", 10, "messages per second, all senders together (0: join and idle only)")
	fs.DurationVar(&cfg.Duration, "duration", 20*time.Second, "how long to send")
	fs.DurationVar(&cfg.JoinTimeout, "join-timeout", 60*time.Second, "bound on the join phase")
	fs.DurationVar(&cfg.Drain, "drain", 2*time.Second, "how long to keep reading after the last message")
	fs.IntVar(&cfg.PID, "pid", 0, "server process to measure (CPU, RSS) via /proc")
	fs.Var(tokens, "token", "session `token` (repeatable)")
	fs.StringVar(tokensFile, "tokens-file", "", "`file` of session tokens, one per line")
	fs.IntVar(&cfg.RateMessages, "server-rate", DefaultChatRateMessages, "the server's -chat-rate (messages per window per user)")
	fs.DurationVar(&cfg.RateWindow, "server-rate-window", DefaultChatRateWindow, "the server's -chat-rate-window")
	fs.IntVar(&cfg.ConnsPerUser, "conns-per-user", DefaultChatConnsPerUser, "the server's chat connection cap per user")
	fs.IntVar(&cfg.GuestCap, "guest-cap", DefaultChatGuestCap, "the server's guest connection cap per client IP")
	fs.DurationVar(&cfg.BehindThreshold, "behind", time.Second, "last-delivery latency over which a client counts as behind")
	fs.BoolVar(&cfg.JSON, "json", false, "print the report as JSON")
	fs.BoolVar(&cfg.AllowRemote, "allow-remote", false, "allow a target that is not a loopback address")
	fs.StringVar(&cfg.Arrival, "arrival", ArrivalKernel, "receive clock: kernel (socket receive timestamps, Linux) or user")
	return fs
}

// chatMain runs "bench chat" with args (after "chat").
func chatMain(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var cfg ChatConfig
	var tokens tokenList
	var tokensFile string
	fs := chatFlags(&cfg, &tokens, &tokensFile, stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, chatUsage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return ErrUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "roomcast bench chat: unexpected argument %q\n", fs.Arg(0))
		return ErrUsage
	}
	if cfg.URL == "" || cfg.Room == "" {
		fmt.Fprintln(stderr, "roomcast bench chat: --url and --room are required")
		return ErrUsage
	}
	cfg.Tokens = tokens
	if tokensFile != "" {
		t, err := readTokensFile(tokensFile)
		if err != nil {
			return fmt.Errorf("tokens file: %w", err)
		}
		cfg.Tokens = append(cfg.Tokens, t...)
	}
	if n := SendersNeeded(cfg.Rate, cfg.RateMessages, cfg.RateWindow); n > 0 {
		fmt.Fprintf(stderr, "roomcast bench chat: %g msg/s at %d per %v per user need %d sender users (%d distinct tokens given)\n",
			cfg.Rate, cfg.RateMessages, cfg.RateWindow, n, countDistinct(cfg.Tokens))
	}
	cfg.Out = stdout
	_, err := RunChat(ctx, cfg)
	return err
}
