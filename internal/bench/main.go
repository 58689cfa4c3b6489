package bench

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"
)

// ErrUsage reports bad command-line arguments; the usage has been printed
// to stderr.
var ErrUsage = errors.New("bench: usage")

const usage = `usage: roomcast bench play --url URL [flags]
       roomcast bench chat --url URL --room ID [flags]   (roomcast bench chat -h)

Opens --viewers viewers of a stream and reports throughput, time to first
frame, latency, viewers that fell behind and, with --pid, the server's CPU
and memory per viewer. The protocol follows from the URL:
  rtmp://host/app/stream          RTMP
  http://host/app/stream.flv      HTTP-FLV
  ws://host/app/stream.flv        WebSocket-FLV
  http://host/app/stream.m3u8     HLS (MPEG-TS segments)

flags:
`

// Main runs the bench command line: args are the arguments after "bench"
// (a subcommand, "play", and its flags). The report goes to stdout, usage
// and flag errors to stderr. It returns flag.ErrHelp after -h, ErrUsage
// after other usage errors (already printed), or the run's error.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "-help" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stderr, usage)
		playFlags(&Config{}, stderr).PrintDefaults()
		if len(args) == 0 {
			return ErrUsage
		}
		return flag.ErrHelp
	}
	if args[0] == "chat" {
		return chatMain(ctx, args[1:], stdout, stderr)
	}
	if args[0] != "play" {
		fmt.Fprintf(stderr, "roomcast bench: unknown subcommand %q (want play or chat)\n", args[0])
		return ErrUsage
	}
	var cfg Config
	fs := playFlags(&cfg, stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, usage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return ErrUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "roomcast bench play: unexpected argument %q\n", fs.Arg(0))
		return ErrUsage
	}
	if cfg.URL == "" {
		fmt.Fprintln(stderr, "roomcast bench play: --url is required")
		return ErrUsage
	}
	cfg.Out = stdout
	_, err := RunPlay(ctx, cfg)
	return err
}

// playFlags defines the flags of "bench play" on cfg.
func playFlags(cfg *Config, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("bench play", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.URL, "url", "", "stream `URL` (loopback only unless --allow-remote)")
	fs.BoolVar(&cfg.Children, "children", false, "count the CPU of --pid's child processes (its ffmpeg transcoders) as the server's")
	fs.StringVar(&cfg.Protocol, "proto", "", "protocol override: flv, ws-flv, hls, rtmp or whep (default: from the URL; …/whep is WHEP)")
	fs.IntVar(&cfg.Viewers, "viewers", 100, "number of viewers")
	fs.DurationVar(&cfg.Duration, "duration", 20*time.Second, "length of the measurement window, after all viewers are set up")
	fs.DurationVar(&cfg.Ramp, "ramp", 0, "spread the viewers' connects over this time")
	fs.IntVar(&cfg.PID, "pid", 0, "server process to measure (CPU, RSS) via /proc")
	fs.DurationVar(&cfg.BehindThreshold, "behind", 0, "end lag over which a viewer counts as behind (default 1s; HLS: 1s + 1.5 target durations)")
	fs.BoolVar(&cfg.JSON, "json", false, "print the report as JSON")
	fs.BoolVar(&cfg.AllowRemote, "allow-remote", false, "allow a target that is not a loopback address")
	fs.BoolVar(&cfg.LowLatency, "ll", false, "HLS: play Low-Latency HLS (blocking playlist reloads and partial segments)")
	fs.StringVar(&cfg.Arrival, "arrival", ArrivalKernel, "arrival clock: kernel (socket receive timestamps; Linux, HTTP-FLV and WebSocket-FLV) or user (when the bench's read returns)")
	return fs
}
