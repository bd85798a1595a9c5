package api

import (
	_ "embed"

	"github.com/gofiber/fiber/v2"
)

// openAPI is written by hand next to the routes; a test checks that every
// registered route appears in it.
//
//go:embed openapi.json
var openAPI []byte

func serveOpenAPI(c *fiber.Ctx) error {
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSONCharsetUTF8)
	return c.Send(openAPI)
}
