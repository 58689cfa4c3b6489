package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"roomcast/internal/app"
	"roomcast/internal/config"
)

// runUser implements `roomcast user add NAME [--admin] [--password P]`: the
// password is read from standard input unless given.
func runUser(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) < 2 || args[0] != "add" || strings.HasPrefix(args[1], "-") {
		fmt.Fprintln(stderr, "usage: roomcast user add NAME [--admin] [--password PASSWORD] [serve flags such as -data DIR]\n(the password is read from standard input when --password is not given)")
		return errUsage
	}
	name := args[1]
	var admin bool
	var password string
	cfg, err := config.LoadWith("roomcast user add", args[2:], os.Getenv, stderr, func(fs *flag.FlagSet) {
		fs.BoolVar(&admin, "admin", false, "give the user the admin role")
		fs.StringVar(&password, "password", "", "password (default: read from standard input)")
	})
	if err != nil {
		return err
	}
	if password == "" {
		line, err := bufio.NewReader(stdin).ReadString('\n')
		if err != nil && line == "" {
			return fmt.Errorf("read password from standard input: %w", err)
		}
		password = strings.TrimRight(line, "\r\n")
	}
	u, err := app.AddUser(ctx, cfg, name, password, admin)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "created %s %s (id %s)\n", u.Role, u.Name, u.ID)
	return nil
}
