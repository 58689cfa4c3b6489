package app

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"

	"roomcast/internal/api"
	"roomcast/internal/chat"
	"roomcast/internal/config"
	"roomcast/internal/record"
	"roomcast/internal/retention"
	"roomcast/internal/room"
	"roomcast/internal/server/vod"
	"roomcast/internal/store/postgres"
	"roomcast/internal/store/sqlite"
	"roomcast/internal/user"
	"roomcast/internal/webhook"
)

// Store is what the app needs of its store: the interfaces its components
// declare, a health check and Close.
type Store interface {
	user.Store
	room.Store
	webhook.Store
	chat.Store
	record.Store
	record.RetentionStore
	vod.Store
	api.Replays
	retention.ChatStore
	RecordingBytesOfOwner(ctx context.Context, ownerID string) (int64, error)
	coverDB
	Ping(ctx context.Context) error
	Close() error
}

var (
	_ Store = (*sqlite.DB)(nil)
	_ Store = (*postgres.DB)(nil)
)

// storeKind names the store cfg selects: "postgres" with -database-url, else
// "sqlite".
func storeKind(cfg config.Config) string {
	if cfg.DatabaseURL != "" {
		return "postgres"
	}
	return "sqlite"
}

// openStore opens the store cfg selects: Postgres at -database-url (a
// cluster's shared database), else SQLite in the data directory.
func openStore(ctx context.Context, cfg config.Config, log *slog.Logger) (Store, error) {
	log = log.With("component", "store")
	if cfg.DatabaseURL != "" {
		db, err := postgres.Open(ctx, cfg.DatabaseURL, log)
		if err != nil {
			return nil, fmt.Errorf("store: %w", err)
		}
		log.Info("store: postgres", "url", db.Addr())
		return db, nil
	}
	path := filepath.Join(cfg.DataDir, sqlite.FileName)
	db, err := sqlite.Open(ctx, path, log)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	log.Info("store: sqlite", "path", path)
	return db, nil
}

// webhookClaimer names this node's claims on the webhook outbox. On SQLite
// one process owns the outbox, so the name is fixed: after a crash, the next
// start sends at once what the crashed process had claimed, as a single node
// always did. On Postgres every process has a name of its own (the
// Dispatcher's random default): a dead node's claims pass to the others when
// their lease ends.
func webhookClaimer(cfg config.Config) string {
	if cfg.DatabaseURL == "" {
		return "local"
	}
	return ""
}
