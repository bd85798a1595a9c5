package api

import (
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/helmet"
)

// contentSecurityPolicy is for the web app (Vue/Vite bundles served from
// this origin). Scripts come only from here and never inline, so an
// injected <script> or onclick= cannot run. style-src alone allows
// 'unsafe-inline': Vant and Element Plus position popups, toasts and
// dialogs through style attributes, and a style cannot run code.
// img-src allows data: and blob: for QR codes and chart exports drawn in
// the browser. frame-ancestors 'none' stops clickjacking of the console.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; " +
	"img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; object-src 'none'; " +
	"base-uri 'self'; form-action 'self'; frame-ancestors 'none'"

// hstsValue pins browsers to HTTPS for a year once they have seen it.
const hstsValue = "max-age=31536000; includeSubDomains"

// securityHeaders sets the browser protections on every response,
// errors and 404s included, since it runs before routing.
//
// Referrer-Policy is no-referrer: campaign access codes travel in H5 URLs
// (/m/?code=...), and a link or image from that page must not carry the
// code to another site in the Referer header.
//
// HSTS is sent when the request came over TLS, or always with
// --cookie-secure, which says TLS ends at a proxy the server cannot see.
// On plain HTTP without that flag it would lock a LAN install out.
func securityHeaders(cookieSecure bool) fiber.Handler {
	h := helmet.New(helmet.Config{
		ContentSecurityPolicy: contentSecurityPolicy,
		ReferrerPolicy:        "no-referrer",
		XFrameOptions:         "DENY",
		PermissionPolicy:      "camera=(), microphone=(), geolocation=(), payment=()",
		// HSTS is decided below, not by helmet's own https check.
		HSTSMaxAge: 0,
	})
	return func(c *fiber.Ctx) error {
		if cookieSecure || c.Protocol() == "https" {
			c.Set(fiber.HeaderStrictTransportSecurity, hstsValue)
		}
		err := h(c)
		if strings.HasPrefix(c.Path(), previewPrefix) {
			// The console shows an instrument as respondents see it by
			// framing the H5's read-only preview; only this origin may.
			c.Set(fiber.HeaderContentSecurityPolicy, previewPolicy)
			c.Set(fiber.HeaderXFrameOptions, "SAMEORIGIN")
		}
		return err
	}
}

// previewPrefix is the H5's read-only instrument preview, the one page
// that is framed (by the console, same origin).
const previewPrefix = "/m/preview/"

var previewPolicy = strings.Replace(contentSecurityPolicy, "frame-ancestors 'none'", "frame-ancestors 'self'", 1)

// noStore keeps API answers out of browser and proxy caches: they carry
// scores, names and access codes, and a shared computer in a school
// computer room must not hand them to the next student.
func noStore(c *fiber.Ctx) error {
	c.Set(fiber.HeaderCacheControl, "no-store")
	c.Set(fiber.HeaderPragma, "no-cache")
	err := c.Next()
	// Again afterwards: a handler that sets its own policy (the SSE
	// stream's no-cache) must not loosen it.
	c.Set(fiber.HeaderCacheControl, "no-store")
	return err
}
