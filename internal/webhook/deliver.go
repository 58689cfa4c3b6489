package webhook

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"roomcast/internal/auth"
	"roomcast/internal/store"
)

const (
	// excerptLen bounds the part of a failed answer's body quoted in the
	// delivery's error.
	excerptLen = 200
	// drainLen is how much more of an answer's body is read so that the
	// connection can be reused; a longer body closes it.
	drainLen = 4 << 10
)

// attempt sends p once and records the outcome: delivered, failed (due again
// after a backoff) or abandoned. When ctx ends during the request, it records
// nothing: the delivery stays due.
func (d *Dispatcher) attempt(ctx context.Context, p store.PendingDelivery) result {
	r := result{key: key{p.EventID, p.URL}}
	status, body, err := d.post(ctx, p)
	if err != nil && ctx.Err() != nil {
		return r
	}
	now := d.cfg.Now()
	if err != nil {
		r.netErr = d.errText(err)
		r.next, r.storeErr = d.recordFailure(ctx, p, p.Attempts+1, r.netErr, true, now)
		return r
	}
	r.reached = true
	if status < 200 || status > 299 {
		r.next, r.storeErr = d.recordFailure(ctx, p, p.Attempts+1, statusText(status, body), true, now)
		return r
	}
	mctx, cancel := markContext(ctx)
	defer cancel()
	log := d.deliveryLog(p)
	if err := d.st.MarkDelivered(mctx, p.EventID, p.URL, now); err != nil {
		log.Error("webhook delivered but not recorded: it will be sent again", "err", err)
		r.storeErr = err
		return r
	}
	d.delivered.Add(1)
	log.Debug("webhook delivered", "attempt", p.Attempts+1, "status", status)
	return r
}

// post sends p's request and returns the answer's status and the start of
// its body.
func (d *Dispatcher) post(ctx context.Context, p store.PendingDelivery) (status int, body []byte, err error) {
	ctx, cancel := context.WithTimeout(ctx, d.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.URL, bytes.NewReader(p.Payload))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", UserAgent)
	req.Header.Set(HeaderEvent, p.Type)
	req.Header.Set(HeaderDelivery, p.EventID)
	if len(d.secret) > 0 {
		req.Header.Set(HeaderSignature, auth.SignBody(d.secret, p.Payload))
	}
	resp, err := d.http.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	body = make([]byte, excerptLen)
	n, _ := io.ReadFull(resp.Body, body)
	_, _ = io.CopyN(io.Discard, resp.Body, drainLen)
	return resp.StatusCode, body[:n], nil
}

// recordFailure records a failed attempt of p, the attempts-th, because of
// why: the delivery is due again after a backoff, or abandoned once it has
// had MaxAttempts attempts. sent tells a request from a delivery failed
// without one. It returns when the delivery is due again (zero if
// abandoned) and the store's error.
func (d *Dispatcher) recordFailure(ctx context.Context, p store.PendingDelivery, attempts int, why string, sent bool, now time.Time) (time.Time, error) {
	if attempts >= d.cfg.MaxAttempts {
		return time.Time{}, d.abandon(ctx, p, attempts, why, true, now)
	}
	mctx, cancel := markContext(ctx)
	defer cancel()
	log := d.deliveryLog(p)
	next := now.Add(d.backoff(attempts))
	err := d.st.MarkFailed(mctx, p.EventID, p.URL, attempts, next, why)
	d.failed.Add(1) // after the store: a test that sees the count sees the row
	if err != nil {
		log.Error("webhook delivery failure not recorded", "err", err)
		return time.Time{}, err
	}
	level := slog.LevelInfo
	if !sent {
		level = slog.LevelDebug
	}
	log.Log(ctx, level, "webhook delivery failed; will retry", "attempt", attempts, "retry_in", next.Sub(now).Round(time.Millisecond), "err", why)
	return next, nil
}

// abandon gives up on p after attempts attempts because of why; failed
// tells whether the last attempt is one that just failed.
func (d *Dispatcher) abandon(ctx context.Context, p store.PendingDelivery, attempts int, why string, failed bool, now time.Time) error {
	mctx, cancel := markContext(ctx)
	defer cancel()
	log := d.deliveryLog(p)
	err := d.st.MarkAbandoned(mctx, p.EventID, p.URL, attempts, now, why)
	if failed {
		d.failed.Add(1)
	}
	if err != nil {
		log.Error("webhook delivery abandonment not recorded", "err", err)
		return err
	}
	d.abandoned.Add(1)
	log.Warn("webhook delivery abandoned", "attempts", attempts, "err", why)
	return nil
}

// markContext returns the context for recording an attempt's outcome: it
// outlives ctx, so that the outcome of a request that completed is recorded
// even when Run is stopping, but not for long.
func markContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), markTimeout)
}

// deliveryLog returns the logger for messages about p.
func (d *Dispatcher) deliveryLog(p store.PendingDelivery) *slog.Logger {
	return d.log.With("event", p.EventID, "type", p.Type, "url", redact(p.URL))
}

// backoff returns how long to wait after the failures-th consecutive
// failure (1 or more): a random duration in [b/2, b] where b doubles from
// 2*MinBackoff with each failure up to MaxBackoff, and never below
// MinBackoff.
func (d *Dispatcher) backoff(failures int) time.Duration {
	lo, hi := d.cfg.MinBackoff, d.cfg.MaxBackoff
	b := lo
	for range max(failures, 1) {
		if b > hi/2 {
			b = hi
			break
		}
		b *= 2
	}
	b = min(b, hi)
	low := max(lo, b/2)
	return low + rand.N(b-low+1)
}

// errText describes a request that got no answer.
func (d *Dispatcher) errText(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err // without the URL, which may hold a credential
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Sprintf("no answer within %s", d.cfg.Timeout)
	}
	return err.Error()
}

// statusText describes a non-2xx answer: its status and the start of its
// body on one line.
func statusText(status int, body []byte) string {
	s := fmt.Sprintf("HTTP %d", status)
	if t := http.StatusText(status); t != "" {
		s += " " + t
	}
	if e := excerpt(body); e != "" {
		s += ": " + e
	}
	return s
}

// excerpt returns b as printable text on one line: runs of spaces and
// control characters become one space, invalid UTF-8 becomes U+FFFD, and b
// of excerptLen bytes, probably cut, ends with "…".
func excerpt(b []byte) string {
	cut := len(b) >= excerptLen
	if cut {
		// Drop a rune split by the cut rather than show it as U+FFFD.
		for n := 1; n <= utf8.UTFMax && n <= len(b); n++ {
			if utf8.RuneStart(b[len(b)-n]) {
				if !utf8.FullRune(b[len(b)-n:]) {
					b = b[:len(b)-n]
				}
				break
			}
		}
	}
	var sb strings.Builder
	space := false
	for _, r := range strings.ToValidUTF8(string(b), "\uFFFD") {
		if unicode.IsSpace(r) || unicode.IsControl(r) {
			space = true
			continue
		}
		if space && sb.Len() > 0 {
			sb.WriteByte(' ')
		}
		space = false
		sb.WriteRune(r)
	}
	if cut && sb.Len() > 0 {
		sb.WriteString("…")
	}
	return sb.String()
}

// redact returns u for logs: without user info, query and fragment, which
// may hold credentials.
func redact(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return "(invalid URL)"
	}
	p.User, p.RawQuery, p.ForceQuery, p.Fragment, p.RawFragment = nil, "", false, "", ""
	return p.String()
}
