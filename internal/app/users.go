package app

import (
	"context"
	"fmt"
	"io"
	"log/slog"

	"roomcast/internal/auth"
	"roomcast/internal/config"
	"roomcast/internal/store"
	"roomcast/internal/user"
)

// AddUser creates an account in the configured data directory, for
// `roomcast user add`. It works while the server runs (the store allows a
// second process).
func AddUser(ctx context.Context, cfg config.Config, name, password string, admin bool) (*store.User, error) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	db, err := openStore(ctx, cfg, log)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	users, err := user.New(db, user.Config{Hasher: auth.PasswordHasher{Cost: cfg.Auth.PasswordCost}})
	if err != nil {
		return nil, err
	}
	role := store.RoleUser
	if admin {
		role = store.RoleAdmin
	}
	u, err := users.Create(ctx, name, password, role)
	if err != nil {
		return nil, fmt.Errorf("add user %q: %w", name, err)
	}
	return u, nil
}
