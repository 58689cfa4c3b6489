// Package retention runs the jobs that delete what the retention settings
// no longer allow to keep: chat history beyond -chat-history-max messages
// per room or older than -chat-history-max-age. (Replays have their own
// sweep in internal/record, webhook deliveries in internal/webhook.) Each
// node of a cluster runs them; a prune is idempotent, so nodes racing on
// one database only repeat each other's work.
package retention

import (
	"context"
	"log/slog"
	"time"
)

// DefaultInterval is how often Run prunes when Config.Interval is zero.
const DefaultInterval = 10 * time.Minute

// ChatStore deletes old chat history (the SQLite and Postgres stores).
type ChatStore interface {
	// PruneChatHistory keeps at most keep messages per room (keep <= 0:
	// any number) and none created before before (zero: any age), and
	// returns how many it deleted.
	PruneChatHistory(ctx context.Context, keep int, before time.Time) (int64, error)
}

// Config says what the chat job keeps. Zero limits keep everything.
type Config struct {
	ChatKeep   int           // messages kept per room
	ChatMaxAge time.Duration // age past which messages are deleted
	Interval   time.Duration // between prunes; DefaultInterval when zero
	Now        func() time.Time
	// Pruned, when set, is called with what was pruned ("chat") and how
	// many rows, after each prune that deleted any.
	Pruned func(what string, n int64)
}

// Chat is the chat history retention job.
type Chat struct {
	st  ChatStore
	cfg Config
	log *slog.Logger
}

// NewChat returns the job over st.
func NewChat(st ChatStore, cfg Config, log *slog.Logger) *Chat {
	if cfg.Interval <= 0 {
		cfg.Interval = DefaultInterval
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Chat{st: st, cfg: cfg, log: log}
}

// Enabled reports whether the job has a limit to apply.
func (c *Chat) Enabled() bool { return c.cfg.ChatKeep > 0 || c.cfg.ChatMaxAge > 0 }

// Prune applies the limits once and returns how many messages it deleted.
func (c *Chat) Prune(ctx context.Context) (int64, error) {
	var before time.Time
	if c.cfg.ChatMaxAge > 0 {
		before = c.cfg.Now().Add(-c.cfg.ChatMaxAge)
	}
	n, err := c.st.PruneChatHistory(ctx, c.cfg.ChatKeep, before)
	if n > 0 && c.cfg.Pruned != nil {
		c.cfg.Pruned("chat", n)
	}
	return n, err
}

// Run prunes at once and then every Config.Interval until ctx ends. A
// failed prune is logged and retried at the next interval. Without limits
// it only waits for ctx.
func (c *Chat) Run(ctx context.Context) error {
	if !c.Enabled() {
		<-ctx.Done()
		return nil
	}
	t := time.NewTicker(c.cfg.Interval)
	defer t.Stop()
	for {
		n, err := c.Prune(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			c.log.Warn("chat history prune failed", "err", err)
		case n > 0:
			c.log.Info("chat history pruned", "messages", n)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}
