package api

import (
	"github.com/gofiber/fiber/v2"

	"xinling/assess"
)

// The PIPL routes sit with the records: admin-only, scoped and audited in
// assess.Records.

func (h recordsAPI) exportPerson(c *fiber.Ctx) error {
	doc, err := h.records.Export(c.UserContext(), principalOf(c), c.Params("id"), c.IP())
	if err != nil {
		return err
	}
	// A download, never a page the browser keeps in its cache.
	c.Set(fiber.HeaderCacheControl, "no-store")
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="person-`+doc.Person.ID+`.json"`)
	return c.JSON(doc)
}

type erasureRequest struct {
	Mode    string `json:"mode" validate:"omitempty,oneof=anonymise delete"`
	Reason  string `json:"reason" validate:"required,max=2000"`
	Confirm string `json:"confirm" validate:"required,max=64"`
}

func (h recordsAPI) erasePerson(c *fiber.Ctx) error {
	var req erasureRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	v, err := h.records.Erase(c.UserContext(), principalOf(c), c.Params("id"),
		assess.ErasureRequest{Mode: req.Mode, Reason: req.Reason, Confirm: req.Confirm}, c.IP())
	if err != nil {
		return err
	}
	return c.JSON(v)
}
