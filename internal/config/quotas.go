package config

import (
	"flag"
	"time"
)

// Quotas bound what one user or one room may hold or do, so that one
// account cannot exhaust the server's storage or media capacity. A value of
// 0 means no limit. Refusals answer quota_exceeded and are counted in
// roomcast_quota_refusals_total.
type Quotas struct {
	// RoomsPerUser bounds the rooms a user who is not an admin owns.
	RoomsPerUser int
	// PublishesPerUser bounds the streams one user publishes at once on a
	// node, over RTMP and WHIP together: a room owner's room streams and a
	// co-host's member streams.
	PublishesPerUser int
	// RecordingBytesPerUser bounds the bytes of the replays of the rooms a
	// user owns: past it, new lives of its rooms are not recorded.
	RecordingBytesPerUser int64
	// ChatHistoryCount bounds the chat messages kept per room; older ones
	// are pruned by the retention job.
	ChatHistoryCount int
	// ChatHistoryAge prunes chat messages older than this.
	ChatHistoryAge time.Duration
	// OutboxAge prunes webhook deliveries delivered or abandoned longer
	// ago than this, and then their events.
	OutboxAge time.Duration
}

// defaultQuotas are sane limits for a public server.
func defaultQuotas() Quotas {
	return Quotas{
		RoomsPerUser:          50,
		PublishesPerUser:      5,
		RecordingBytesPerUser: 50 << 30,
		ChatHistoryCount:      10000,
		ChatHistoryAge:        90 * 24 * time.Hour,
		OutboxAge:             7 * 24 * time.Hour,
	}
}

// flags defines the quota flags on fs.
func (q *Quotas) flags(fs *flag.FlagSet) {
	fs.IntVar(&q.RoomsPerUser, "max-rooms-per-user", q.RoomsPerUser, "rooms a user (not an admin) may own (0: no limit)")
	fs.IntVar(&q.PublishesPerUser, "max-publishes-per-user", q.PublishesPerUser, "streams a user publishes at once on this node, RTMP and WHIP together; one more is refused quota_exceeded (0: no limit)")
	fs.Int64Var(&q.RecordingBytesPerUser, "max-recording-bytes-per-user", q.RecordingBytesPerUser, "bytes of replays a user's rooms may hold; past it their lives are not recorded (0: no limit)")
	fs.IntVar(&q.ChatHistoryCount, "chat-history-max", q.ChatHistoryCount, "chat messages kept per room; older ones are deleted (0: no limit)")
	fs.DurationVar(&q.ChatHistoryAge, "chat-history-max-age", q.ChatHistoryAge, "delete chat messages older than this (0: keep)")
	fs.DurationVar(&q.OutboxAge, "webhook-outbox-max-age", q.OutboxAge, "delete webhook deliveries delivered or abandoned longer ago than this, and their events (0: keep)")
}

// validate reports bad quota values through check.
func (q *Quotas) validate(check func(ok bool, key, format string, args ...any)) {
	check(q.RoomsPerUser >= 0, "max-rooms-per-user", "must not be negative")
	check(q.PublishesPerUser >= 0, "max-publishes-per-user", "must not be negative")
	check(q.RecordingBytesPerUser >= 0, "max-recording-bytes-per-user", "must not be negative")
	check(q.ChatHistoryCount >= 0, "chat-history-max", "must not be negative")
	check(q.ChatHistoryAge == 0 || q.ChatHistoryAge >= time.Minute, "chat-history-max-age", "must be 0 or at least 1m")
	check(q.OutboxAge == 0 || q.OutboxAge >= time.Minute, "webhook-outbox-max-age", "must be 0 or at least 1m")
}
