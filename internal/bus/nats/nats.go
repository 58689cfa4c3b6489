// Package nats is the bus.Bus of a roomcast cluster: subjects are NATS
// subjects on a shared NATS server (or cluster), so every node that
// subscribes to "chat.ROOM" receives what any node publishes there.
//
// The connection (Connect) reconnects for ever; while it is down,
// publishes are buffered (up to ReconnectBuffer bytes) and sent once it is
// back, and the subscriptions are made again on the new server connection.
// What other nodes published during the outage is not replayed: users of
// the bus that must not miss anything register OnReconnect and catch up
// from their store.
package nats

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/nats-io/nats.go"

	"roomcast/internal/bus"
)

// Connection settings.
const (
	// ReconnectWait is the pause between two attempts to reach a server
	// that dropped the connection (plus up to reconnectJitter).
	ReconnectWait   = 250 * time.Millisecond
	reconnectJitter = 100 * time.Millisecond
	// ReconnectBuffer is how many bytes of publishes are kept while the
	// connection is down; a publish beyond it fails.
	ReconnectBuffer = 8 << 20
	// PingInterval is how often the client checks a quiet connection; two
	// unanswered pings count as a lost server.
	PingInterval = 5 * time.Second
	// connectTimeout bounds the first connection at start-up.
	connectTimeout = 5 * time.Second
	// subscribeFlush bounds the wait for the server to confirm a
	// subscription.
	subscribeFlush = 5 * time.Second
)

// Connect opens a connection to the NATS server at url (nats://HOST:PORT,
// several separated by commas) named name (as the server's monitoring
// shows it). It fails if no server answers now, so that a wrong -nats-url
// is reported at start-up; once connected it reconnects for ever. Losses
// and recoveries of the connection are logged on log. The caller closes
// the connection (Drain or Close) at shutdown.
func Connect(ctx context.Context, rawURL, name string, log *slog.Logger) (*nats.Conn, error) {
	if err := CheckURL(rawURL); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	nc, err := nats.Connect(rawURL,
		nats.Name(name),
		nats.Timeout(connectTimeout),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(ReconnectWait),
		nats.ReconnectJitter(reconnectJitter, reconnectJitter),
		nats.ReconnectBufSize(ReconnectBuffer),
		nats.PingInterval(PingInterval),
		nats.MaxPingsOutstanding(2),
		nats.DisconnectErrHandler(func(nc *nats.Conn, err error) {
			if nc.IsClosed() {
				return // closed on purpose, at shutdown
			}
			log.Warn("nats connection lost; reconnecting (publishes are buffered)", "err", err)
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) {
			log.Info("nats connection restored", "server", nc.ConnectedUrlRedacted())
		}),
		nats.ErrorHandler(func(_ *nats.Conn, sub *nats.Subscription, err error) {
			subject := ""
			if sub != nil {
				subject = sub.Subject
			}
			log.Error("nats error", "subject", subject, "err", err)
		}),
	)
	if err != nil {
		return nil, fmt.Errorf("nats: connect to %s: %w", redact(rawURL), err)
	}
	return nc, nil
}

// CheckURL reports whether s is a usable -nats-url: one or more
// comma-separated nats:// (or tls://) URLs with a host.
func CheckURL(s string) error {
	if s == "" {
		return errors.New("nats: empty URL")
	}
	for one := range strings.SplitSeq(s, ",") {
		one = strings.TrimSpace(one)
		u, err := url.Parse(one)
		if err != nil || (u.Scheme != "nats" && u.Scheme != "tls") || u.Host == "" {
			return fmt.Errorf("nats: %q is not a nats://HOST:PORT URL", redact(one))
		}
	}
	return nil
}

// redact hides a password in a URL for error messages and logs.
func redact(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.User == nil {
		return s
	}
	return u.Redacted()
}

// Bus is a bus.Bus over a NATS connection it does not own. Each
// subscription has its own delivery goroutine (nats.go's), so calls to one
// subscription's fn never overlap and arrive in the order a publisher sent
// them.
type Bus struct {
	nc *nats.Conn
}

var _ bus.Bus = (*Bus)(nil)

// New returns a Bus publishing and subscribing on nc.
func New(nc *nats.Conn) *Bus { return &Bus{nc: nc} }

// Publish sends data to subject. It returns once the message is queued on
// the connection (buffered while reconnecting); it fails with an error
// wrapping bus.ErrClosed once the connection is closed, and when the
// reconnect buffer is full.
func (b *Bus) Publish(ctx context.Context, subject string, data []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := b.nc.Publish(subject, data); err != nil {
		return b.wrap("publish to "+subject, err)
	}
	return nil
}

// Subscribe calls fn with every message published to subject, from any
// node, until unsubscribe is called. When the connection is up it returns
// once the server has the subscription, so that what is published after
// Subscribe returns reaches fn; while it is down the subscription is made
// as soon as the connection is back.
func (b *Bus) Subscribe(subject string, fn func(data []byte)) (func(), error) {
	sub, err := b.nc.Subscribe(subject, func(m *nats.Msg) { fn(m.Data) })
	if err != nil {
		return nil, b.wrap("subscribe to "+subject, err)
	}
	if b.nc.IsConnected() {
		// A failure here means the connection just dropped: the
		// subscription is made again on reconnect.
		_ = b.nc.FlushTimeout(subscribeFlush)
	}
	return func() { _ = sub.Unsubscribe() }, nil
}

// OnReconnect calls fn (in a goroutine of its own, calls never
// overlapping) each time the connection is restored after a loss, once the
// subscriptions are made again: what was published meanwhile did not
// reach them. remove stops the calls and waits for a running one; fn
// must not call it.
func (b *Bus) OnReconnect(fn func()) (remove func()) {
	ch := b.nc.StatusChanged(nats.CONNECTED)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range ch {
			// The subscriptions were sent again before the status
			// changed; a round trip makes sure the server has them.
			_ = b.nc.FlushTimeout(subscribeFlush)
			fn()
		}
	}()
	return func() {
		b.nc.RemoveStatusListener(ch)
		<-done
	}
}

// Connected reports whether the connection is up now.
func (b *Bus) Connected() bool { return b.nc.IsConnected() }

// wrap adds context to a nats.go error and maps a closed connection to
// bus.ErrClosed.
func (b *Bus) wrap(op string, err error) error {
	if errors.Is(err, nats.ErrConnectionClosed) || errors.Is(err, nats.ErrConnectionDraining) {
		return fmt.Errorf("nats: %s: %w: %w", op, bus.ErrClosed, err)
	}
	return fmt.Errorf("nats: %s: %w", op, err)
}
