package chat

import (
	"fmt"
	"testing"

	"roomcast/internal/store"
)

// A store that cannot reach its database gives the client an "unavailable"
// error frame (or 503), not "internal": it is worth retrying.
func TestUnavailableErrorCode(t *testing.T) {
	code, msg := errorCode(fmt.Errorf("chat: send: %w", fmt.Errorf("postgres: x: %w", store.ErrUnavailable)))
	if code != codeUnavailable || msg == "" {
		t.Fatalf("errorCode = %q, %q; want %q", code, msg, codeUnavailable)
	}
}
