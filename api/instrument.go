package api

import "github.com/gofiber/fiber/v2"

// instrument serves GET /instruments/{id}: one public instrument's items
// for a read-only preview, with no session created.
func (r respondent) instrument(c *fiber.Ctx) error {
	v, err := r.sessions.Preview(c.Params("id"), locale(c))
	if err != nil {
		return err
	}
	return c.JSON(v)
}
