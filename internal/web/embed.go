// Package web serves the browser app built from web/ (Vite + TypeScript)
// into dist/ by scripts/build-web.sh and embedded in the binary.
//
// The app is a single page: index.html answers every client-side route
// (/room/ID, /studio, /admin, /login, …) that is not a file of the build,
// while the server's own prefixes (/api/, the media application, /vod/,
// /debug/) are never shadowed. Hashed assets under /assets/ are cached for
// a year; index.html is revalidated on every load. Before the first web
// build (a fresh clone, go test) dist holds only a placeholder and the
// handler answers a page that says how to build the app.
package web

import (
	"embed"
	"io/fs"
)

// dist is the embedded build output. A package-level variable is how
// go:embed works; it is read-only and only Dist reads it.
//
//go:embed all:dist
var dist embed.FS

// Dist returns the embedded build output, rooted at dist/.
func Dist() fs.FS {
	sub, err := fs.Sub(dist, "dist")
	if err != nil {
		// fs.Sub fails only for an invalid path; "dist" is valid.
		panic(err)
	}
	return sub
}
