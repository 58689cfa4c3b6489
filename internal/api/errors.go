package api

import (
	"errors"
	"math"
	"net/http"
	"strconv"
	"time"

	"roomcast/internal/auth"
	"roomcast/internal/httpx"
	"roomcast/internal/quota"
	"roomcast/internal/room"
	"roomcast/internal/store"
	"roomcast/internal/user"
)

// Error is an API error with an HTTP status and a stable code.
type Error struct {
	Status  int
	Code    string
	Message string
	// RetryAfter, if positive, is sent as a Retry-After header (rounded up
	// to whole seconds).
	RetryAfter time.Duration
	// Err, if set, is the domain error behind this one, for errors.Is.
	Err error
}

// Error implements error.
func (e *Error) Error() string { return e.Code + ": " + e.Message }

// Unwrap returns the domain error behind e, if any.
func (e *Error) Unwrap() error { return e.Err }

// writeError is the one place errors become HTTP responses: API errors are
// written as they are, domain errors are mapped by mapError, and anything
// else is logged and answered with 500 internal.
func (a *API) writeError(w http.ResponseWriter, r *http.Request, err error) {
	e := mapError(err)
	if e == nil {
		a.log.Error("api request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		e = &Error{Status: http.StatusInternalServerError, Code: "internal", Message: "internal server error"}
	} else if e.Status >= 500 {
		a.log.Warn("api request failed", "method", r.Method, "path", r.URL.Path, "code", e.Code, "err", err)
	}
	if e.Status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="roomcast"`)
	}
	if e.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(e.RetryAfter.Seconds()))))
	}
	httpx.WriteError(w, e.Status, e.Code, e.Message)
}

// mapError maps an error to its API error, or returns nil for an error
// that is the server's fault.
func mapError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	var uv *user.ValidationError
	if errors.As(err, &uv) {
		return &Error{Status: http.StatusBadRequest, Code: "validation_failed", Message: uv.Error()}
	}
	var rv *room.ValidationError
	if errors.As(err, &rv) {
		return &Error{Status: http.StatusBadRequest, Code: "validation_failed", Message: rv.Error()}
	}
	var qe *quota.Exceeded
	if errors.As(err, &qe) {
		return &Error{Status: http.StatusForbidden, Code: "quota_exceeded", Message: qe.Error()}
	}
	if we := mapWeChatError(err); we != nil {
		return we
	}
	switch {
	case errors.Is(err, store.ErrUnavailable):
		return errUnavailable
	case errors.Is(err, user.ErrUnauthenticated):
		return &Error{Status: http.StatusUnauthorized, Code: "unauthorized", Message: "not logged in, or the session expired"}
	case errors.Is(err, user.ErrInvalidCredentials):
		return &Error{Status: http.StatusUnauthorized, Code: "invalid_credentials", Message: "wrong user name or password"}
	case errors.Is(err, user.ErrBanned):
		return &Error{Status: http.StatusForbidden, Code: "banned", Message: "this account is banned"}
	case errors.Is(err, user.ErrNameTaken):
		return &Error{Status: http.StatusConflict, Code: "name_taken", Message: "this user name is taken"}
	case errors.Is(err, user.ErrLastAdmin):
		return &Error{Status: http.StatusConflict, Code: "conflict", Message: "cannot ban the last admin"}
	case errors.Is(err, room.ErrForbidden):
		return &Error{Status: http.StatusForbidden, Code: "forbidden", Message: "only the room's owner or an admin may do this"}
	case errors.Is(err, store.ErrInvalidCursor):
		return &Error{Status: http.StatusBadRequest, Code: "invalid_request", Message: "invalid cursor: pass the next_cursor of the previous page unchanged"}
	case errors.Is(err, store.ErrNotFound):
		return &Error{Status: http.StatusNotFound, Code: "not_found", Message: "not found"}
	case errors.Is(err, store.ErrConflict):
		return &Error{Status: http.StatusConflict, Code: "conflict", Message: "conflicts with existing data; retry"}
	}
	return nil
}

// errUnavailable answers a request that needed the database while it could
// not be reached (store.ErrUnavailable): the client retries; the store
// reconnects on its own.
var errUnavailable = &Error{Status: http.StatusServiceUnavailable, Code: "unavailable",
	Message: "the database is unavailable; retry in a few seconds", RetryAfter: unavailableRetry}

// unavailableRetry is the Retry-After of 503 unavailable.
const unavailableRetry = 5 * time.Second

// mapWeChatError maps the errors of a WeChat login, or returns nil.
func mapWeChatError(err error) *Error {
	switch {
	case errors.Is(err, auth.ErrWeChatInvalidCode):
		return &Error{Status: http.StatusBadRequest, Code: "wechat_invalid_code", Message: "the WeChat login code is invalid; call wx.login again"}
	case errors.Is(err, auth.ErrWeChatCodeUsed):
		return &Error{Status: http.StatusBadRequest, Code: "wechat_code_used", Message: "the WeChat login code was already used; call wx.login again"}
	case errors.Is(err, auth.ErrWeChatRateLimited):
		return &Error{Status: http.StatusTooManyRequests, Code: "wechat_rate_limited", Message: "WeChat is rate limiting logins; retry in a minute", RetryAfter: time.Minute}
	case errors.Is(err, auth.ErrWeChatHighRisk):
		return &Error{Status: http.StatusForbidden, Code: "wechat_high_risk", Message: "WeChat blocked this login as high risk"}
	case errors.Is(err, auth.ErrWeChatBusy):
		return &Error{Status: http.StatusServiceUnavailable, Code: "wechat_busy", Message: "WeChat is busy; retry in a few seconds", RetryAfter: 5 * time.Second}
	case errors.Is(err, auth.ErrWeChatNotConfigured):
		return &Error{Status: http.StatusNotImplemented, Code: "wechat_not_configured", Message: "WeChat login is not configured on this server"}
	case errors.Is(err, auth.ErrWeChat):
		var we *auth.WeChatError
		msg := "WeChat login failed"
		if errors.As(err, &we) {
			msg += " (errcode " + strconv.Itoa(we.Code) + ")"
		}
		return &Error{Status: http.StatusBadGateway, Code: "wechat_unavailable", Message: msg}
	case errors.Is(err, auth.ErrWeChatUnavailable):
		return &Error{Status: http.StatusBadGateway, Code: "wechat_unavailable", Message: "WeChat could not be reached; retry later"}
	}
	return nil
}

// WriteAccessError answers a media request (HTTP-FLV, WebSocket-FLV, HLS)
// that room.Service.AuthorizePlay refused, with the API's JSON error: 404
// stream_not_found for an invalid stream name or a stream without a room,
// 403 invalid_signature for a missing, malformed, expired or wrong
// signature, 503 unavailable when the database cannot be reached, and 500
// internal for any other error (a failing store).
func WriteAccessError(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, store.ErrUnavailable):
		w.Header().Set("Retry-After", strconv.Itoa(int(unavailableRetry.Seconds())))
		httpx.WriteError(w, errUnavailable.Status, errUnavailable.Code, errUnavailable.Message)
	case errors.Is(err, room.ErrNoRoom), errors.Is(err, room.ErrInvalidStream):
		httpx.WriteError(w, http.StatusNotFound, "stream_not_found", "no such stream")
	case errors.Is(err, room.ErrDenied):
		httpx.WriteError(w, http.StatusForbidden, "invalid_signature", err.Error())
	default:
		httpx.WriteError(w, http.StatusInternalServerError, "internal", "internal server error")
	}
}
