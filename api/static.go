package api

import (
	"io/fs"
	"mime"
	"path"
	"strings"

	"github.com/gofiber/fiber/v2"

	"xinling/webapp"
)

// registerWebApp serves the two pages of the web app from files (normally
// the embedded webapp/dist). Each page is a single-page app with history
// routing, so an unknown path under /m/ or /console/ that does not look like
// a file gets the page's index.html; a missing file is a plain 404 rather
// than HTML that a script tag would choke on.
func registerWebApp(app *fiber.App, files fs.FS) {
	built := webapp.Built(files)
	app.Get("/", func(c *fiber.Ctx) error { return c.Redirect("/m/", fiber.StatusFound) })
	app.Get("/assets/*", func(c *fiber.Ctx) error {
		// Vite puts a content hash in every asset name, so they never change.
		return sendStatic(c, files, "assets/"+c.Params("*"), "public, max-age=31536000, immutable")
	})
	for _, page := range []string{"m", "console"} {
		index := page + "/index.html"
		handler := func(c *fiber.Ctx) error {
			if !built {
				c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
				return c.Status(fiber.StatusServiceUnavailable).Send(webapp.Placeholder())
			}
			rest := c.Params("*")
			if rest != "" && path.Ext(rest) != "" {
				return sendStatic(c, files, page+"/"+rest, "no-cache")
			}
			return sendStatic(c, files, index, "no-cache")
		}
		// Without strict routing "/m" also answers "/m/"; "/m/*" needs a
		// non-empty rest.
		app.Get("/"+page, handler)
		app.Get("/"+page+"/*", handler)
	}
}

// sendStatic writes one file of files. name comes from the URL: fs.FS
// refuses anything that is not a clean relative path, so "..", absolute
// paths and backslash tricks fail as not found instead of escaping dist.
func sendStatic(c *fiber.Ctx, files fs.FS, name, cacheControl string) error {
	if !fs.ValidPath(name) || strings.Contains(name, "\\") {
		return sendError(c, codeNotFound, "no such file", "")
	}
	b, err := fs.ReadFile(files, name)
	if err != nil {
		return sendError(c, codeNotFound, "no such file", "")
	}
	ctype := mime.TypeByExtension(path.Ext(name))
	if ctype == "" {
		ctype = fiber.MIMEOctetStream
	}
	c.Set(fiber.HeaderContentType, ctype)
	c.Set(fiber.HeaderCacheControl, cacheControl)
	return c.Send(b)
}
