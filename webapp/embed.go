// Package webapp carries the built web app (webapp/dist) inside the binary.
//
// dist is produced by `npm run build` (make does it). A placeholder page is
// committed in dist so that `go build` works on a clone where the web app has
// not been built; Built reports which of the two the binary holds.
package webapp

import (
	"embed"
	"io/fs"
)

//go:embed all:dist
var dist embed.FS

// Files is the built web app, rooted at dist.
func Files() fs.FS {
	sub, err := fs.Sub(dist, "dist")
	if err != nil {
		panic(err) // only if the embed directive above changes
	}
	return sub
}

// Placeholder is the page served in place of the web app when it was not
// built: it says how to build it.
func Placeholder() []byte {
	b, _ := fs.ReadFile(dist, "dist/placeholder.html")
	return b
}

// Built reports whether the binary holds a real build of both pages.
func Built(files fs.FS) bool {
	for _, page := range []string{"m/index.html", "console/index.html"} {
		if _, err := fs.Stat(files, page); err != nil {
			return false
		}
	}
	return true
}
