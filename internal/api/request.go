package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"roomcast/internal/httpx"
	"roomcast/internal/store"
	"roomcast/internal/user"
)

// TokenFromRequest returns the session token of a request: from the header
// "Authorization: Bearer TOKEN", or, for a WebSocket upgrade only (browsers
// cannot set headers on one), from the query parameter "token". It returns
// "" when there is none.
func TokenFromRequest(r *http.Request) string {
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, token, ok := strings.Cut(h, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") {
			return ""
		}
		return strings.TrimSpace(token)
	}
	if isWebSocket(r) {
		return r.URL.Query().Get("token")
	}
	return ""
}

// isWebSocket reports whether r asks for a WebSocket upgrade.
func isWebSocket(r *http.Request) bool {
	if !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
		return false
	}
	for _, v := range strings.Split(r.Header.Get("Connection"), ",") {
		if strings.EqualFold(strings.TrimSpace(v), "upgrade") {
			return true
		}
	}
	return false
}

// Authenticate returns the user whose session token r carries (see
// TokenFromRequest), or nil, nil when it carries none. A malformed
// Authorization header or a token that is unknown or expired fails with an
// error wrapping user.ErrUnauthenticated, the token of a banned user with
// one wrapping user.ErrBanned. Other handlers (the chat WebSocket) use it
// to authenticate the same way as the API.
func (a *API) Authenticate(r *http.Request) (*store.User, error) {
	if h := r.Header.Get("Authorization"); h != "" && TokenFromRequest(r) == "" {
		return nil, &Error{Status: http.StatusUnauthorized, Code: "unauthorized", Message: `the Authorization header must be "Bearer TOKEN"`,
			Err: user.ErrUnauthenticated}
	}
	token := TokenFromRequest(r)
	if token == "" {
		return nil, nil
	}
	return a.users.Authenticate(r.Context(), token)
}

// authenticate returns the caller; with required set, an anonymous caller
// fails with 401.
func (a *API) authenticate(r *http.Request, required bool) (*store.User, error) {
	u, err := a.Authenticate(r)
	if err != nil {
		return nil, err
	}
	if u == nil && required {
		return nil, &Error{Status: http.StatusUnauthorized, Code: "unauthorized", Message: "log in first: send Authorization: Bearer TOKEN",
			Err: user.ErrUnauthenticated}
	}
	return u, nil
}

// clientIP returns the client's IP address for rate limits.
func (a *API) clientIP(r *http.Request) string { return httpx.ClientIP(r, a.proxy) }

// badRequest returns a 400 invalid_request error.
func badRequest(format string, args ...any) *Error {
	return &Error{Status: http.StatusBadRequest, Code: "invalid_request", Message: fmt.Sprintf(format, args...)}
}

// decodeJSON reads the request body, at most maxBody bytes of one JSON
// object with no unknown fields, into v.
func (a *API) decodeJSON(w http.ResponseWriter, r *http.Request, v any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || mt != "application/json" {
			return &Error{Status: http.StatusUnsupportedMediaType, Code: "unsupported_media_type", Message: "the request body must be application/json"}
		}
	}
	tooLarge := &Error{Status: http.StatusRequestEntityTooLarge, Code: "body_too_large",
		Message: "the request body is larger than " + strconv.FormatInt(a.maxBody, 10) + " bytes"}
	if r.ContentLength > a.maxBody {
		return tooLarge
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, a.maxBody))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil {
		// Exactly one value: anything but the end after it is an error.
		if _, err2 := dec.Token(); err2 != io.EOF {
			err = errTrailing
			var mbe *http.MaxBytesError
			if errors.As(err2, &mbe) {
				err = err2
			}
		}
	}
	if err == nil {
		return nil
	}
	var (
		mbe    *http.MaxBytesError
		syntax *json.SyntaxError
		typ    *json.UnmarshalTypeError
	)
	switch {
	case errors.As(err, &mbe):
		return tooLarge
	case errors.Is(err, io.EOF):
		return badRequest("the request body is empty; send a JSON object")
	case errors.Is(err, errTrailing):
		return badRequest("the request body must hold one JSON object and nothing after it")
	case errors.As(err, &syntax), errors.Is(err, io.ErrUnexpectedEOF):
		return badRequest("the request body is not valid JSON")
	case errors.As(err, &typ):
		if typ.Field == "" {
			return badRequest("the request body must be a JSON object")
		}
		return badRequest("field %q must be a JSON %s", typ.Field, jsonType(typ.Type.Kind().String()))
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return badRequest("unknown field %s", strings.TrimPrefix(err.Error(), "json: unknown field "))
	}
	return badRequest("the request body is not valid: %v", err)
}

var errTrailing = errors.New("trailing data")

// jsonType names the JSON type of a Go kind for error messages.
func jsonType(kind string) string {
	switch kind {
	case "string":
		return "string"
	case "bool":
		return "boolean"
	case "ptr":
		return "value of the right type"
	case "struct", "map":
		return "object"
	case "slice", "array":
		return "array"
	}
	return "number"
}

// pageParams parses the cursor and limit query parameters: limit is 1 to
// maxPage, defaultPage when absent.
func pageParams(r *http.Request) (cursor string, limit int, err error) {
	q := r.URL.Query()
	cursor = q.Get("cursor")
	limit = defaultPage
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > maxPage {
			return "", 0, &Error{Status: http.StatusBadRequest, Code: "validation_failed",
				Message: fmt.Sprintf("limit: must be a whole number from 1 to %d", maxPage)}
		}
		limit = n
	}
	return cursor, limit, nil
}

// Page sizes of listings.
const (
	defaultPage = 20
	maxPage     = 100
)
