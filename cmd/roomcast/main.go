// Command roomcast is a self-hosted live-streaming and live-room server:
// RTMP in; RTMP, HTTP-FLV, WebSocket-FLV and HLS out.
//
// Usage:
//
//	roomcast [serve] [flags]     run the server (the default command)
//	roomcast version             print the version
//	roomcast bench play …        load-test a stream (see roomcast bench -h)
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"roomcast/internal/app"
	"roomcast/internal/bench"
	"roomcast/internal/config"
)

// Set at build time with -ldflags "-X main.version=… -X main.commit=…".
var (
	version = "dev"
	commit  = "unknown"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	switch {
	case errors.Is(err, flag.ErrHelp):
		os.Exit(0)
	case errors.Is(err, errUsage), errors.Is(err, bench.ErrUsage):
		os.Exit(2)
	case err != nil:
		fmt.Fprintln(os.Stderr, "roomcast:", err)
		os.Exit(1)
	}
}

var errUsage = errors.New("usage")

const usage = `roomcast — live streaming and live rooms in one binary

Usage:
  roomcast [serve] [flags]   run the server (default); roomcast serve -h lists flags
  roomcast version           print version and commit
  roomcast sign --key KEY --stream NAME (--expires-in 24h | --txtime HEX)
                             print a push/play URL signature (txSecret, txTime)
  roomcast user add NAME [--admin] [--password P] [-data DIR]
                             create an account (password from stdin by default)
  roomcast bench play …      load-test a stream; roomcast bench -h for help

Every serve flag can also be set with a ROOMCAST_* environment variable,
e.g. -http-addr → ROOMCAST_HTTP_ADDR. Flags win over the environment.
`

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cmd := "serve"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		cfg, err := config.Load("roomcast serve", args, os.Getenv, stderr)
		if err != nil {
			if !errors.Is(err, flag.ErrHelp) {
				err = fmt.Errorf("configuration: %w", err)
			}
			return err
		}
		return app.Run(ctx, cfg, app.Options{Stdout: stdout, Version: version})
	case "version":
		fmt.Fprintf(stdout, "roomcast %s (commit %s)\n", version, commit)
		return nil
	case "bench":
		return bench.Main(ctx, args, stdout, stderr)
	case "sign":
		return runSign(args, time.Now(), stdout, stderr)
	case "user":
		return runUser(ctx, args, os.Stdin, stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		fmt.Fprintf(stderr, "unknown command %q\n\n%s", cmd, usage)
		return errUsage
	}
}
