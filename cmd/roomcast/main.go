// Command roomcast is a self-hosted live-streaming and live-room server:
// RTMP in; RTMP, HTTP-FLV, WebSocket-FLV and HLS out.
//
// Usage:
//
//	roomcast [serve] [flags]     run the server (the default command)
//	roomcast config example      print a commented reference configuration
//	roomcast config check …      validate the configuration without starting
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
	"runtime"
	"runtime/debug"
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
	ctx, cancel := context.WithCancel(context.Background())
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go watchSignals(sigs, cancel, os.Exit, os.Stderr)
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	reload := make(chan struct{}, 1)
	go forward(ctx, hup, reload)

	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr, reload)
	signal.Stop(sigs)
	signal.Stop(hup)
	cancel()
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

// exitForced is the exit status after a second SIGTERM/SIGINT cut the
// graceful shutdown short.
const exitForced = 3

// watchSignals cancels the run at the first signal from sigs and calls
// exit(exitForced) at the second: an operator who does not want to wait for
// the grace period presses Ctrl-C again.
func watchSignals(sigs <-chan os.Signal, cancel func(), exit func(int), stderr io.Writer) {
	sig, ok := <-sigs
	if !ok {
		return
	}
	fmt.Fprintf(stderr, "roomcast: %v: shutting down gracefully (send it again to force exit)\n", sig)
	cancel()
	sig, ok = <-sigs
	if !ok {
		return
	}
	fmt.Fprintf(stderr, "roomcast: %v again: forced exit\n", sig)
	exit(exitForced)
}

// forward turns each SIGHUP into a reload request, dropping requests while
// one is pending, until ctx ends.
func forward(ctx context.Context, sigs <-chan os.Signal, reload chan<- struct{}) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-sigs:
			select {
			case reload <- struct{}{}:
			default:
			}
		}
	}
}

var errUsage = errors.New("usage")

const usage = `roomcast — live streaming and live rooms in one binary

Usage:
  roomcast [serve] [flags]   run the server (default); roomcast serve -h lists flags
  roomcast config example    print a commented reference configuration file
  roomcast config check [serve flags]
                             validate the configuration (file, environment,
                             flags) as serve would, without starting
  roomcast version           print version and commit
  roomcast sign --key KEY --stream NAME (--expires-in 24h | --txtime HEX)
                             print a push/play URL signature (txSecret, txTime)
  roomcast user add NAME [--admin] [--password P] [-data DIR]
                             create an account (password from stdin by default)
  roomcast bench play …      load-test a stream; roomcast bench -h for help

Every serve flag can also be set in a YAML file (roomcast serve --config
roomcast.yaml; keys are the flag names) and with a ROOMCAST_* environment
variable, e.g. -http-addr → ROOMCAST_HTTP_ADDR. Flags win over the
environment, which wins over the file. SIGTERM or SIGINT shuts down
gracefully (a second one forces exit); SIGHUP reloads the TLS certificate.
`

// serveGCPercent is the garbage collector's target for the server when
// GOGC is not set: the heap grows by half its live size between
// collections instead of doubling. The server's live heap is small (the GOP
// caches, HLS segments, a few KB per viewer) and allocates little, so this
// costs little CPU and keeps the memory per viewer down (docs/performance.md).
const serveGCPercent = 50

// run runs the command in args. reload receives SIGHUPs (nil: none).
func run(ctx context.Context, args []string, stdout, stderr io.Writer, reload <-chan struct{}) error {
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
		warnUnknownEnv(stderr)
		if os.Getenv("GOGC") == "" {
			debug.SetGCPercent(serveGCPercent)
		}
		return app.Run(ctx, cfg, app.Options{Stdout: stdout, Version: version, Commit: commit, Reload: reload})
	case "config":
		return runConfig(args, stdout, stderr)
	case "version":
		fmt.Fprintf(stdout, "roomcast %s (commit %s, %s)\n", version, commit, runtime.Version())
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
