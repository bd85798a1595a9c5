package api

import (
	"strings"

	"github.com/gofiber/fiber/v2"
)

// bodyLimit holds every body but an upload to the JSON limit. The server
// reads bodies up to the larger upload limit (a 2,000-student roster is
// 71 kB as .xlsx, 120 kB as .csv, over the 64 kB JSON limit; an instrument
// document may be 512 KiB), so this check is what keeps JSON bodies small.
func bodyLimit(limit int) fiber.Handler {
	return func(c *fiber.Ctx) error {
		if len(c.Request().Body()) > limit && !isRosterUpload(c) && !isDocumentUpload(c) {
			return sendError(c, codeBodyTooLarge, "the request body is larger than this server accepts", "")
		}
		return c.Next()
	}
}

// isRosterUpload matches POST /api/v1/units/{id}/roster.
func isRosterUpload(c *fiber.Ctx) bool {
	id, ok := strings.CutPrefix(c.Path(), "/api/v1/units/")
	if !ok || c.Method() != fiber.MethodPost {
		return false
	}
	id, ok = strings.CutSuffix(id, "/roster")
	return ok && id != "" && !strings.Contains(id, "/")
}

// isDocumentUpload matches the routes that carry an instrument document:
// POST /api/v1/custom-instruments, its /check and its /import (a workbook).
// Their handlers hold the document itself to engine.MaxDocumentBytes.
func isDocumentUpload(c *fiber.Ctx) bool {
	p := c.Path()
	return c.Method() == fiber.MethodPost && (p == "/api/v1/custom-instruments" || p == "/api/v1/custom-instruments/check" ||
		p == "/api/v1/custom-instruments/import")
}
