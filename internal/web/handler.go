package web

import (
	"bytes"
	"errors"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"path"
	"strings"
	"time"
)

// Cache-Control values.
const (
	// cacheImmutable is for the content-hashed files under /assets/.
	cacheImmutable = "public, max-age=31536000, immutable"
	// cacheShort is for other files of the build (favicon and the like).
	cacheShort = "public, max-age=3600"
	// cacheNone is for index.html, which names the current assets.
	cacheNone = "no-cache"
)

// Options configure the handler.
type Options struct {
	// FS is the build output (Dist()); index.html at its root.
	FS fs.FS
	// Reserved are path prefixes the app never answers, e.g. "/api/",
	// "/live/": requests under them that reach this handler (no other
	// route matched) get a JSON 404 instead of the app.
	Reserved []string
	// NotBuilt is extra text shown on the page answered when the app was
	// not built (the server's URLs, say).
	NotBuilt string
	// Log receives read failures; nil discards.
	Log *slog.Logger
}

// Handler serves the web app.
type Handler struct {
	fsys     fs.FS
	reserved []string
	index    []byte // nil when the app is not built
	modTime  time.Time
	notBuilt []byte
	log      *slog.Logger
}

// New reads index.html from o.FS and returns the handler. A missing
// index.html is not an error: the handler then answers the not-built page.
func New(o Options) (*Handler, error) {
	if o.FS == nil {
		return nil, errors.New("web: FS is required")
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	h := &Handler{fsys: o.FS, reserved: o.Reserved, log: o.Log, modTime: time.Now()}
	index, err := fs.ReadFile(o.FS, "index.html")
	switch {
	case err == nil:
		h.index = index
	case errors.Is(err, fs.ErrNotExist):
		var b bytes.Buffer
		page, err := template.New("notbuilt").Parse(notBuiltPage)
		if err != nil {
			return nil, fmt.Errorf("web: not-built page: %w", err)
		}
		if err := page.Execute(&b, o.NotBuilt); err != nil {
			return nil, fmt.Errorf("web: not-built page: %w", err)
		}
		h.notBuilt = b.Bytes()
	default:
		return nil, fmt.Errorf("web: read index.html: %w", err)
	}
	return h, nil
}

// Built reports whether the embedded app has an index.html.
func (h *Handler) Built() bool { return h.index != nil }

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	p := r.URL.Path
	for _, prefix := range h.reserved {
		if strings.HasPrefix(p, prefix) || p+"/" == prefix {
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Cache-Control", "no-store")
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprintf(w, "{\"error\":{\"code\":\"not_found\",\"message\":%q}}\n", "nothing at "+p)
			return
		}
	}
	if h.index == nil {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", cacheNone)
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write(h.notBuilt)
		return
	}
	name := strings.TrimPrefix(path.Clean(p), "/")
	if name != "" && name != "index.html" && h.serveFile(w, r, name) {
		return
	}
	// Files that look like files (an extension) and are missing are 404:
	// a stale page asking for an old asset must not get HTML as script.
	if name == "assets" || strings.HasPrefix(name, "assets/") || (path.Ext(name) != "" && name != "index.html") {
		w.Header().Set("Cache-Control", cacheNone)
		http.Error(w, "not found", http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", cacheNone)
	http.ServeContent(w, r, "index.html", h.modTime, bytes.NewReader(h.index))
}

// serveFile answers a file of the build, if name is one, and reports
// whether it did.
func (h *Handler) serveFile(w http.ResponseWriter, r *http.Request, name string) bool {
	f, err := h.fsys.Open(name)
	if err != nil {
		return false
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil || st.IsDir() || strings.HasPrefix(path.Base(name), ".") {
		return false
	}
	rs, ok := f.(io.ReadSeeker)
	if !ok {
		h.log.Warn("web: embedded file is not seekable", "file", name)
		return false
	}
	if strings.HasPrefix(name, "assets/") {
		w.Header().Set("Cache-Control", cacheImmutable)
	} else {
		w.Header().Set("Cache-Control", cacheShort)
	}
	http.ServeContent(w, r, name, h.modTime, rs)
	return true
}

// notBuiltPage is answered in place of the app before its first build.
const notBuiltPage = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>roomcast — web app not built</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:48rem;margin:3rem auto;padding:0 1rem;color:#222}
pre{background:#f4f4f4;padding:1rem;overflow:auto}code{background:#f4f4f4;padding:0 .2rem}</style></head>
<body><h1>roomcast is running, but the web app was not built</h1>
<p>Run <code>make web</code> (or <code>make run</code>) to build it into the binary. 网页应用尚未构建：请运行 <code>make web</code>。</p>
<p>The server works without it:</p>
<pre>{{.}}</pre>
</body></html>
`
