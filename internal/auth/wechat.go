package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"
)

// WeChat defaults and limits.
const (
	// DefaultWeChatBaseURL is the WeChat API used when WeChat.BaseURL is empty.
	DefaultWeChatBaseURL = "https://api.weixin.qq.com"
	// DefaultWeChatTimeout bounds a code2session call when WeChat.HTTP is nil.
	DefaultWeChatTimeout = 10 * time.Second
	// MaxWeChatCodeLen is the longest login code accepted, in bytes.
	MaxWeChatCodeLen = 128
	// maxWeChatBody bounds how much of a code2session response is read.
	maxWeChatBody = 64 << 10
	// maxWeChatErrMsg bounds the errmsg kept in a WeChatError.
	maxWeChatErrMsg = 256
)

// WeChat errcode values of code2session that have their own sentinel.
const (
	// WeChatCodeBusy: system busy, retry later (ErrWeChatBusy).
	WeChatCodeBusy = -1
	// WeChatCodeInvalidCode: invalid js_code (ErrWeChatInvalidCode).
	WeChatCodeInvalidCode = 40029
	// WeChatCodeCodeUsed: js_code already used (ErrWeChatCodeUsed).
	WeChatCodeCodeUsed = 40163
	// WeChatCodeHighRisk: user blocked as high risk (ErrWeChatHighRisk).
	WeChatCodeHighRisk = 40226
	// WeChatCodeRateLimited: too many calls (ErrWeChatRateLimited).
	WeChatCodeRateLimited = 45011
)

// WeChat login errors. A *WeChatError matches ErrWeChat and, for the errcodes
// above, one more specific sentinel.
var (
	// ErrWeChatNotConfigured means WeChat.AppID or WeChat.Secret is empty or
	// WeChat.BaseURL is invalid.
	ErrWeChatNotConfigured = errors.New("auth: wechat login not configured")
	// ErrWeChatInvalidCode means the login code is empty, too long, or
	// rejected by WeChat (errcode 40029). The client should call wx.login again.
	ErrWeChatInvalidCode = errors.New("auth: wechat login code invalid")
	// ErrWeChatCodeUsed means the login code was already used (errcode 40163).
	ErrWeChatCodeUsed = errors.New("auth: wechat login code already used")
	// ErrWeChatRateLimited means WeChat throttled the app (errcode 45011).
	ErrWeChatRateLimited = errors.New("auth: wechat rate limited")
	// ErrWeChatHighRisk means WeChat blocked a high-risk user (errcode 40226).
	ErrWeChatHighRisk = errors.New("auth: wechat user blocked as high risk")
	// ErrWeChatBusy means WeChat reported itself busy (errcode -1); retry later.
	ErrWeChatBusy = errors.New("auth: wechat busy")
	// ErrWeChat is matched by every *WeChatError, whatever its errcode.
	ErrWeChat = errors.New("auth: wechat error")
	// ErrWeChatUnavailable means no usable answer came back: network error,
	// timeout or cancellation (the context error is wrapped too), non-200
	// status, malformed JSON, or a success without openid.
	ErrWeChatUnavailable = errors.New("auth: wechat unavailable")
)

// WeChatError is a non-zero errcode returned by the WeChat API. errors.Is
// matches it against ErrWeChat and, for known codes, the specific sentinel
// (ErrWeChatInvalidCode, ErrWeChatCodeUsed, ErrWeChatRateLimited,
// ErrWeChatHighRisk, ErrWeChatBusy).
type WeChatError struct {
	// Code is WeChat's errcode.
	Code int
	// Message is WeChat's errmsg, truncated to a few hundred bytes.
	Message string
}

// Error implements error.
func (e *WeChatError) Error() string {
	return fmt.Sprintf("auth: wechat code2session: errcode %d: %s", e.Code, e.Message)
}

// Is reports whether target is ErrWeChat or the sentinel for e.Code.
func (e *WeChatError) Is(target error) bool {
	if target == ErrWeChat {
		return true
	}
	switch e.Code {
	case WeChatCodeInvalidCode:
		return target == ErrWeChatInvalidCode
	case WeChatCodeCodeUsed:
		return target == ErrWeChatCodeUsed
	case WeChatCodeRateLimited:
		return target == ErrWeChatRateLimited
	case WeChatCodeHighRisk:
		return target == ErrWeChatHighRisk
	case WeChatCodeBusy:
		return target == ErrWeChatBusy
	}
	return false
}

// WeChatSession is the result of a successful code2session call.
//
// SessionKey is the user's session key for decrypting mini program data
// (encryptedData of wx.getUserInfo and similar). It must never be returned to
// clients or logged: it is excluded from JSON and from String, GoString and
// LogValue.
type WeChatSession struct {
	// OpenID identifies the user within this mini program; never empty.
	OpenID string
	// UnionID identifies the user across the developer's apps; empty unless
	// the mini program is bound to a WeChat Open Platform account.
	UnionID string
	// SessionKey is secret: keep it server-side only.
	SessionKey string `json:"-"`
}

// String describes the session without its SessionKey.
func (s WeChatSession) String() string {
	return fmt.Sprintf("{OpenID:%s UnionID:%s SessionKey:[redacted]}", s.OpenID, s.UnionID)
}

// GoString is String, so %#v does not print the SessionKey either.
func (s WeChatSession) GoString() string { return "auth.WeChatSession" + s.String() }

// LogValue implements slog.LogValuer without the SessionKey.
func (s WeChatSession) LogValue() slog.Value {
	return slog.GroupValue(slog.String("openid", s.OpenID), slog.String("unionid", s.UnionID))
}

// WeChat calls the WeChat mini program login API (code2session). Its methods
// do not modify it, so one WeChat may be shared by any number of goroutines.
type WeChat struct {
	// BaseURL is the API root; empty means DefaultWeChatBaseURL. Tests point
	// it at a fake server.
	BaseURL string
	// AppID is the mini program's app id (wx…).
	AppID string
	// Secret is the mini program's app secret. It is sent to WeChat only and
	// never appears in errors, String, GoString or LogValue.
	Secret string
	// HTTP is the client used; nil means a client with DefaultWeChatTimeout
	// and http.DefaultTransport.
	HTTP *http.Client
}

// String describes the configuration without the Secret.
func (w WeChat) String() string {
	return fmt.Sprintf("{BaseURL:%s AppID:%s Secret:[redacted]}", w.BaseURL, w.AppID)
}

// GoString is String, so %#v does not print the Secret either.
func (w WeChat) GoString() string { return "auth.WeChat" + w.String() }

// LogValue implements slog.LogValuer without the Secret.
func (w WeChat) LogValue() slog.Value {
	return slog.GroupValue(slog.String("base_url", w.BaseURL), slog.String("appid", w.AppID))
}

// code2sessionResponse is the JSON answer of /sns/jscode2session.
type code2sessionResponse struct {
	OpenID     string `json:"openid"`
	SessionKey string `json:"session_key"`
	UnionID    string `json:"unionid"`
	ErrCode    int    `json:"errcode"`
	ErrMsg     string `json:"errmsg"`
}

// Code2Session exchanges a login code from the mini program's wx.login for
// the user's identity, calling GET {BaseURL}/sns/jscode2session. The code is
// checked (non-empty, at most MaxWeChatCodeLen bytes) before any request.
//
// Errors: ErrWeChatNotConfigured, ErrWeChatInvalidCode (bad code, locally or
// errcode 40029), a *WeChatError for any errcode (see its Is), or
// ErrWeChatUnavailable for transport, status and decoding failures; the
// context's error is wrapped as well when ctx ends first.
func (w *WeChat) Code2Session(ctx context.Context, code string) (*WeChatSession, error) {
	if w.AppID == "" || w.Secret == "" {
		return nil, fmt.Errorf("%w: appid and secret are required", ErrWeChatNotConfigured)
	}
	if code == "" {
		return nil, fmt.Errorf("%w: empty code", ErrWeChatInvalidCode)
	}
	if len(code) > MaxWeChatCodeLen {
		return nil, fmt.Errorf("%w: code is %d bytes, more than %d", ErrWeChatInvalidCode, len(code), MaxWeChatCodeLen)
	}
	endpoint, err := w.endpoint(code)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, endpoint, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: code2session request: %w", ErrWeChatNotConfigured, stripURL(err))
	}
	req.Header.Set("Accept", "application/json")

	client := w.HTTP
	if client == nil {
		client = &http.Client{Timeout: DefaultWeChatTimeout}
	}
	resp, err := client.Do(req)
	if err != nil {
		// *url.Error prints the request URL, which holds the secret: drop it.
		return nil, fmt.Errorf("%w: code2session request: %w", ErrWeChatUnavailable, stripURL(err))
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxWeChatBody))
	if err != nil {
		return nil, fmt.Errorf("%w: code2session response: %w", ErrWeChatUnavailable, stripURL(err))
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%w: code2session returned HTTP %d", ErrWeChatUnavailable, resp.StatusCode)
	}
	var r code2sessionResponse
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, fmt.Errorf("%w: code2session response is not valid JSON: %w", ErrWeChatUnavailable, err)
	}
	if r.ErrCode != 0 {
		return nil, &WeChatError{Code: r.ErrCode, Message: truncate(r.ErrMsg, maxWeChatErrMsg)}
	}
	if r.OpenID == "" {
		return nil, fmt.Errorf("%w: code2session response has no openid", ErrWeChatUnavailable)
	}
	return &WeChatSession{OpenID: r.OpenID, UnionID: r.UnionID, SessionKey: r.SessionKey}, nil
}

// endpoint returns the code2session URL for code.
func (w *WeChat) endpoint(code string) (string, error) {
	base := w.BaseURL
	if base == "" {
		base = DefaultWeChatBaseURL
	}
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("%w: BaseURL %q must be an absolute http(s) URL", ErrWeChatNotConfigured, base)
	}
	u.Path = strings.TrimSuffix(u.Path, "/") + "/sns/jscode2session"
	u.RawPath = ""
	u.RawQuery = url.Values{
		"appid":      {w.AppID},
		"secret":     {w.Secret},
		"js_code":    {code},
		"grant_type": {"authorization_code"},
	}.Encode()
	u.Fragment = ""
	return u.String(), nil
}

// stripURL returns the error inside a *url.Error, whose message would
// include the request URL and with it the app secret.
func stripURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// truncate cuts s to at most n bytes at a rune boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
