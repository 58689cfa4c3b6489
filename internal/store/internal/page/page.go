// Package page implements the keyset paging shared by the store
// implementations: opaque cursors and page-size limits.
//
// A cursor names the last row of a page by its sort key (a time, kept to the
// microsecond as the stores do) and its ID, so the next page starts right
// after it whatever was inserted or deleted in between. A cursor also carries
// the kind of listing that issued it, so a cursor from one listing is
// rejected by another instead of silently skipping rows.
package page

import (
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"time"

	"roomcast/internal/store"
)

// maxCursorLen bounds the input Decode looks at; real cursors are well under
// 100 bytes.
const maxCursorLen = 512

// Limit returns the page size to use for a requested limit.
func Limit(n int) int {
	switch {
	case n <= 0:
		return store.DefaultPageSize
	case n > store.MaxPageSize:
		return store.MaxPageSize
	}
	return n
}

// Encode returns the cursor for a row of a listing of the given kind whose
// sort key is at (to the microsecond) and whose ID is id.
func Encode(kind string, at time.Time, id string) string {
	s := kind + "|" + strconv.FormatInt(at.UnixMicro(), 10) + "|" + id
	return base64.RawURLEncoding.EncodeToString([]byte(s))
}

// Decode parses a cursor made by Encode for the same kind and returns the
// sort key in Unix microseconds and the ID. Errors wrap store.ErrInvalidCursor.
func Decode(kind, cursor string) (atMicro int64, id string, err error) {
	bad := func(why string) (int64, string, error) {
		return 0, "", fmt.Errorf("%w: %s", store.ErrInvalidCursor, why)
	}
	if len(cursor) > maxCursorLen {
		return bad("too long")
	}
	b, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil {
		return bad("not base64url")
	}
	k, rest, ok := strings.Cut(string(b), "|")
	if !ok || k != kind {
		return bad("from another listing")
	}
	ts, id, ok := strings.Cut(rest, "|")
	if !ok || id == "" {
		return bad("malformed")
	}
	atMicro, err = strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return bad("malformed time")
	}
	return atMicro, id, nil
}
