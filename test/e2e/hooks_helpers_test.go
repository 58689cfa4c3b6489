package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"roomcast/internal/auth"
	"roomcast/internal/config"
	"roomcast/internal/webhook"
)

// testWebhookSecret is the webhook secret the webhook tests configure.
const testWebhookSecret = "e2e-webhook-secret-5c1f"

// hookRequest is one request a hookReceiver got.
type hookRequest struct {
	At      time.Time
	Method  string
	Path    string
	Header  http.Header
	Body    []byte
	Payload webhook.Payload // decoded Body; zero if it is not JSON
	Answer  int             // the status the receiver answered
}

// String describes the request briefly for failure messages.
func (r hookRequest) String() string {
	return fmt.Sprintf("%s %s → %d: %s", r.Method, r.Path, r.Answer, r.Body)
}

// hookReceiver is a webhook receiver that records every request and
// answers with a status the test sets.
type hookReceiver struct {
	srv    *httptest.Server
	answer atomic.Int32

	mu   sync.Mutex
	reqs []hookRequest
}

// startHookReceiver starts a receiver answering 204 until told otherwise.
// It is closed when the test ends; its requests are printed if the test
// failed.
func startHookReceiver(t *testing.T) *hookReceiver {
	t.Helper()
	h := &hookReceiver{}
	h.answer.Store(http.StatusNoContent)
	h.srv = httptest.NewServer(http.HandlerFunc(h.serve))
	t.Cleanup(func() {
		h.srv.Close()
		if t.Failed() {
			var b strings.Builder
			for _, r := range h.requests() {
				fmt.Fprintf(&b, "  %s %v\n", r.At.Format("15:04:05.000"), r)
			}
			t.Logf("webhook receiver got:\n%s", b.String())
		}
	})
	return h
}

func (h *hookReceiver) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	answer := int(h.answer.Load())
	rec := hookRequest{At: time.Now(), Method: r.Method, Path: r.URL.Path, Header: r.Header.Clone(), Body: body, Answer: answer}
	_ = json.Unmarshal(body, &rec.Payload)
	h.mu.Lock()
	h.reqs = append(h.reqs, rec)
	h.mu.Unlock()
	w.WriteHeader(answer)
}

// url is the URL to configure in the server.
func (h *hookReceiver) url() string { return h.srv.URL + "/hook" }

// setAnswer sets the status of the answers from now on.
func (h *hookReceiver) setAnswer(status int) { h.answer.Store(int32(status)) }

// requests returns a copy of the requests so far.
func (h *hookReceiver) requests() []hookRequest {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]hookRequest(nil), h.reqs...)
}

// poll polls the requests until cond holds or timeout passes, and returns
// the last requests and whether cond held.
func (h *hookReceiver) poll(timeout time.Duration, cond func([]hookRequest) bool) ([]hookRequest, bool) {
	deadline := time.Now().Add(timeout)
	for {
		reqs := h.requests()
		if cond(reqs) {
			return reqs, true
		}
		if time.Now().After(deadline) {
			return reqs, false
		}
		time.Sleep(pollInterval)
	}
}

// wait is poll that fails the test if cond does not hold within timeout,
// describing the wait as what.
func (h *hookReceiver) wait(t *testing.T, what string, timeout time.Duration, cond func([]hookRequest) bool) []hookRequest {
	t.Helper()
	reqs, ok := h.poll(timeout, cond)
	if !ok {
		t.Fatalf("webhook receiver: not %s within %v (%d requests so far)", what, timeout, len(reqs))
	}
	return reqs
}

// sendHooksTo makes a server send its webhooks to h, signed with
// testWebhookSecret.
func sendHooksTo(h *hookReceiver) func(*config.Config) {
	return func(c *config.Config) {
		c.Webhook.URLs = []string{h.url()}
		c.Webhook.Secret = testWebhookSecret
	}
}

// roomEventTypes are the webhook events of one broadcast, in order.
var roomEventTypes = []string{
	webhook.TypeStreamPublished,
	webhook.TypeRoomLive,
	webhook.TypeStreamUnpublished,
	webhook.TypeRoomEnded,
}

// hookEvents groups the requests about stream whose answer passes keep by
// event type, and within a type by event id, in order of arrival.
func hookEvents(reqs []hookRequest, stream string, keep func(answer int) bool) map[string]map[string][]hookRequest {
	out := map[string]map[string][]hookRequest{}
	for _, r := range reqs {
		if r.Payload.Stream != stream || !keep(r.Answer) {
			continue
		}
		byID := out[r.Payload.Type]
		if byID == nil {
			byID = map[string][]hookRequest{}
			out[r.Payload.Type] = byID
		}
		byID[r.Payload.ID] = append(byID[r.Payload.ID], r)
	}
	return out
}

// delivered and refused select requests by the receiver's answer.
func delivered(answer int) bool { return answer >= 200 && answer < 300 }
func refused(answer int) bool   { return !delivered(answer) }

// hasTypes reports whether events has at least n events of each type.
func hasTypes(events map[string]map[string][]hookRequest, n int, types ...string) bool {
	for _, typ := range types {
		if len(events[typ]) < n {
			return false
		}
	}
	return true
}

// checkHookRequest checks the wire format of one webhook request (see the
// webhook package): method, headers, signature, and the envelope fields
// against the room.
func checkHookRequest(t *testing.T, r hookRequest, rm roomJSON, notBefore time.Time) {
	t.Helper()
	p := r.Payload
	if r.Method != http.MethodPost || r.Path != "/hook" {
		t.Errorf("webhook %s: request %s %s, want POST /hook", p.ID, r.Method, r.Path)
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("webhook %s: Content-Type %q, want application/json", p.ID, ct)
	}
	if ua := r.Header.Get("User-Agent"); ua != webhook.UserAgent {
		t.Errorf("webhook %s: User-Agent %q, want %q", p.ID, ua, webhook.UserAgent)
	}
	sig := r.Header.Get(webhook.HeaderSignature)
	if !auth.VerifyBody([]byte(testWebhookSecret), r.Body, sig) {
		t.Errorf("webhook %s: %s %q does not verify under the configured secret; body %s", p.ID, webhook.HeaderSignature, sig, r.Body)
	}
	if auth.VerifyBody([]byte(testWebhookSecret+"x"), r.Body, sig) {
		t.Errorf("webhook %s: signature verifies under a different secret", p.ID)
	}
	if got := r.Header.Get(webhook.HeaderEvent); got != p.Type || p.Type == "" {
		t.Errorf("webhook %s: %s %q, body type %q", p.ID, webhook.HeaderEvent, got, p.Type)
	}
	if got := r.Header.Get(webhook.HeaderDelivery); got != p.ID {
		t.Errorf("webhook %s: %s %q differs from the body's id", p.ID, webhook.HeaderDelivery, got)
	}
	if !strings.HasPrefix(p.ID, "evt_") || len(p.ID) != len("evt_")+26 {
		t.Errorf("webhook id %q: want evt_ and 26 characters", p.ID)
	}
	if p.Room != rm.ID || p.Stream != rm.Stream {
		t.Errorf("webhook %s (%s): room %q stream %q, want %q and %q", p.ID, p.Type, p.Room, p.Stream, rm.ID, rm.Stream)
	}
	if p.Time.Location() != time.UTC && p.Time.Location().String() != "UTC" {
		t.Errorf("webhook %s: time %v is not UTC", p.ID, p.Time)
	}
	if p.Time.Before(notBefore.Add(-time.Second)) || p.Time.After(r.At.Add(time.Second)) {
		t.Errorf("webhook %s (%s): time %v outside [%v, %v]", p.ID, p.Type, p.Time, notBefore, r.At)
	}
	if p.Data == nil {
		t.Errorf("webhook %s (%s): no data object: %s", p.ID, p.Type, r.Body)
	}
}

// number returns the numeric field key of a webhook's data, or fails the
// test.
func number(t *testing.T, p webhook.Payload, key string) float64 {
	t.Helper()
	v, ok := p.Data[key].(float64)
	if !ok {
		t.Errorf("webhook %s (%s): data.%s = %#v, want a number", p.ID, p.Type, key, p.Data[key])
	}
	return v
}
