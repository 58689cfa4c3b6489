// Package webhook sends roomcast's events to the operator's systems: each
// configured URL receives an HTTP POST with a JSON body for every event.
//
// # Delivery
//
// Emit stores the event in the store's outbox, with one delivery per URL, in
// one transaction, and wakes the Dispatcher's worker (Run), which POSTs it.
// An event that Emit accepted is delivered even if the process stops or
// crashes first: the next Run finds it in the outbox.
//
// A delivery succeeds when the receiver answers 2xx (redirects are not
// followed). Any other answer, a network error or a timeout (Config.Timeout
// per request) is retried with exponential backoff and jitter between
// Config.MinBackoff and Config.MaxBackoff; after Config.MaxAttempts attempts
// the delivery is abandoned (15 to 40 minutes after the event with the
// defaults). Each URL is independent: at most one request to a URL is in
// flight at a time, a few URLs are served at once, and while a URL is
// unreachable (no HTTP answer) its other deliveries fail without a request
// until its own backoff expires, so one dead receiver does not hold back the
// others. Deliveries to a URL that is no longer configured are abandoned.
// Delivered and abandoned deliveries are pruned after a week.
//
// # Several nodes
//
// Nodes of a cluster share the outbox (store/postgres), each running a
// Dispatcher. A Dispatcher sends only the deliveries it claimed
// (ClaimDeliveries: FOR UPDATE SKIP LOCKED, with a lease of Config.Lease
// that it renews while it works on them), so each event is sent by one node.
// A Dispatcher that stops releases its claims; one whose node dies loses them
// when the lease ends (25 s by default), and another node sends them then.
//
// Delivery is at least once: a receiver may see the same event more than
// once (after a timeout, or a restart during a request), and events may
// arrive out of order after retries. Receivers deduplicate by the event id
// and order by its time.
//
// # Wire format
//
// Every request is
//
//	POST <url>
//	Content-Type: application/json
//	User-Agent: roomcast-webhook
//	X-Roomcast-Event: stream.unpublished
//	X-Roomcast-Delivery: evt_5jq2m7x4c3ngdzrj7ykr6n2fvi
//	X-Roomcast-Signature: sha256=9f2c…
//
//	{"id":"evt_5jq2m7x4c3ngdzrj7ykr6n2fvi","type":"stream.unpublished",
//	 "time":"2026-03-01T08:30:00.123Z","room":"room_k2l4…","stream":"k2l4…",
//	 "data":{"bytes":73400320,"duration_ms":1834250,"reason":"closed"}}
//
// (one line on the wire). The fields are:
//
//   - id: the event's unique id, "evt_" and 26 characters; the same in
//     every retry and for every URL, and also sent as X-Roomcast-Delivery.
//   - type: the event type, also sent as X-Roomcast-Event: one of
//     stream.published, stream.unpublished, room.live, room.ended (more types
//     are added over time; receivers ignore types they do not know).
//   - time: when the event happened, RFC 3339 in UTC with up to millisecond
//     precision.
//   - room: the id of the room the stream belongs to; "" for a stream that
//     has no room.
//   - stream: the stream name.
//   - data: type-specific fields, always an object (possibly {}); e.g.
//     duration_ms and bytes for stream.unpublished and room.ended. Receivers
//     ignore fields they do not know.
//
// X-Roomcast-Signature is "sha256=" and the lower-case hex HMAC-SHA256 of the
// exact request body under the webhook secret (see auth.SignBody). A receiver
// computes the HMAC of the raw body it read, before parsing it, and compares
// in constant time (auth.VerifyBody does this). The header is left out when
// no secret is configured.
package webhook
