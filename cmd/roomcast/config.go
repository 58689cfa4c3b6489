package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"roomcast/internal/config"
)

// runConfig runs "roomcast config example" and "roomcast config check".
func runConfig(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprintf(stderr, "usage: roomcast config example | roomcast config check [serve flags]\n")
		return errUsage
	}
	switch args[0] {
	case "example":
		if len(args) != 1 {
			fmt.Fprintf(stderr, "usage: roomcast config example\n")
			return errUsage
		}
		return config.WriteExample(stdout)
	case "check":
		cfg, err := config.Load("roomcast config check", args[1:], os.Getenv, stderr)
		if err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return err
			}
			return fmt.Errorf("configuration: %w", err)
		}
		warnUnknownEnv(stderr)
		file := cfg.File
		if file == "" {
			file = "no file"
		}
		fmt.Fprintf(stdout, "configuration ok (%s)\n", file)
		return nil
	default:
		fmt.Fprintf(stderr, "unknown config command %q: use example or check\n", args[0])
		return errUsage
	}
}

// warnUnknownEnv warns about each ROOMCAST_* variable that names no
// setting, most likely a typo (serve and config check).
func warnUnknownEnv(stderr io.Writer) {
	for _, name := range config.UnknownEnv(os.Environ()) {
		fmt.Fprintf(stderr, "roomcast: warning: %s names no setting and is ignored (see roomcast config example)\n", name)
	}
}
