package rtmp

import (
	"fmt"
	"net"
	"net/url"
	"strings"
)

// DefaultPort is the RTMP port used when a URL names none.
const DefaultPort = "1935"

// URL is a parsed rtmp:// URL of the form rtmp://host[:port]/app/stream?query.
type URL struct {
	Host   string // host:port, with DefaultPort filled in
	App    string // first path element
	Stream string // the rest of the path, plus "?query" if there is one
	TCURL  string // rtmp://host:port/app, as sent in connect
}

// ParseURL parses an rtmp:// URL. The application is the first path
// element and the stream name everything after it, with the query kept on
// the stream name, as FFmpeg and OBS send it. The stream name may be empty.
func ParseURL(raw string) (*URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("parse RTMP URL: %w", err)
	}
	if u.Scheme != "rtmp" {
		return nil, fmt.Errorf("parse RTMP URL %q: scheme %q is not rtmp", raw, u.Scheme)
	}
	if u.Hostname() == "" {
		return nil, fmt.Errorf("parse RTMP URL %q: no host", raw)
	}
	port := u.Port()
	if port == "" {
		port = DefaultPort
	}
	host := net.JoinHostPort(u.Hostname(), port)
	path := strings.TrimPrefix(u.EscapedPath(), "/")
	app, stream, _ := strings.Cut(path, "/")
	if app, err = url.PathUnescape(app); err != nil {
		return nil, fmt.Errorf("parse RTMP URL %q: %w", raw, err)
	}
	if stream, err = url.PathUnescape(stream); err != nil {
		return nil, fmt.Errorf("parse RTMP URL %q: %w", raw, err)
	}
	if app == "" {
		return nil, fmt.Errorf("parse RTMP URL %q: no application", raw)
	}
	if u.RawQuery != "" {
		stream += "?" + u.RawQuery
	}
	return &URL{
		Host:   host,
		App:    app,
		Stream: stream,
		TCURL:  "rtmp://" + host + "/" + app,
	}, nil
}
