// Package quota names roomcast's per-user and per-room quotas and the error
// that refuses a request past one. The services that enforce a quota (room,
// the publish authorizer, record) return an *Exceeded; the API maps it to
// 403 with code quota_exceeded, and the app counts each refusal in
// roomcast_quota_refusals_total{quota=…}.
package quota

import (
	"errors"
	"fmt"
)

// Names of the quotas, as they appear in errors and in the metric's label.
const (
	RoomsPerUser          = "rooms_per_user"
	RecordingBytesPerUser = "recording_bytes_per_user"
	// CohostsPerRoom is -max-cohosts: its refusals keep their own answer
	// (409 too_many_cohosts, or the chat's error frame) and are counted
	// under this name.
	CohostsPerRoom = "cohosts_per_room"
)

// ErrExceeded is matched (errors.Is) by every *Exceeded.
var ErrExceeded = errors.New("quota exceeded")

// Exceeded refuses a request that would go past a quota.
type Exceeded struct {
	// Quota is one of the names above.
	Quota string
	// Limit is the quota's value.
	Limit int
}

// Error says which quota and its limit.
func (e *Exceeded) Error() string {
	return fmt.Sprintf("quota %s exceeded: the limit is %d", e.Quota, e.Limit)
}

// Is makes errors.Is(err, ErrExceeded) true.
func (e *Exceeded) Is(target error) bool { return target == ErrExceeded }
