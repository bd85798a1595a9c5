package api

import "github.com/gofiber/fiber/v2"

// referralTargets names the units an entry may be referred to, so the
// console can offer them by name (they usually lie outside the caller's
// own subtree, which is all GET /units shows).
func (h recordsAPI) referralTargets(c *fiber.Ctx) error {
	list, err := h.records.ReferralTargets(c.UserContext(), principalOf(c), c.Params("id"))
	if err != nil {
		return err
	}
	views := make([]unitView, len(list))
	for i, u := range list {
		views[i] = viewOfUnit(u)
	}
	return c.JSON(fiber.Map{"units": views})
}
