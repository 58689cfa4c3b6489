package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"time"

	"roomcast/internal/auth"
	"roomcast/internal/media"
)

// runSign implements `roomcast sign`: it prints a Tencent-compatible
// signature for a stream, for operators and OBS users.
func runSign(args []string, now time.Time, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("roomcast sign", flag.ContinueOnError)
	fs.SetOutput(stderr)
	key := fs.String("key", "", "signing key (the push key, or the play key for private rooms)")
	stream := fs.String("stream", "", "stream name")
	expiresIn := fs.Duration("expires-in", 0, "validity from now, e.g. 24h")
	txTime := fs.String("txtime", "", "expiry as hex Unix seconds (instead of --expires-in)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: roomcast sign --key KEY --stream NAME (--expires-in 24h | --txtime HEX)")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	var problems []error
	if *key == "" {
		problems = append(problems, errors.New("--key is required"))
	}
	if !media.ValidName(*stream) {
		problems = append(problems, fmt.Errorf("--stream %q: stream names are 1-128 characters of A-Z a-z 0-9 _ -", *stream))
	}
	switch {
	case (*expiresIn == 0) == (*txTime == ""):
		problems = append(problems, errors.New("give exactly one of --expires-in and --txtime"))
	case *expiresIn < 0:
		problems = append(problems, errors.New("--expires-in must be positive"))
	case *expiresIn > 0:
		*txTime = auth.TxTime(now.Add(*expiresIn))
	default:
		if _, err := strconv.ParseUint(*txTime, 16, 64); err != nil || len(*txTime) > 16 {
			problems = append(problems, fmt.Errorf("--txtime %q is not hex Unix seconds", *txTime))
		}
	}
	if len(problems) > 0 {
		fs.Usage()
		return fmt.Errorf("%w: %w", errUsage, errors.Join(problems...))
	}
	secret := auth.TxSecret(*key, *stream, *txTime)
	fmt.Fprintf(stdout, "txTime=%s\ntxSecret=%s\nquery=%s=%s&%s=%s\n", *txTime, secret,
		auth.ParamTxSecret, secret, auth.ParamTxTime, *txTime)
	return nil
}
