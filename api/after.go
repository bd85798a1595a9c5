package api

import (
	"time"

	"github.com/gofiber/fiber/v2"

	"xinling/assess"
)

// registerAfterScreening adds what a school does after a screening (issue
// 17): case conferences and parent meetings on a person's record, and
// retake codes for invalid results. Roles, scope and audit are decided in
// assess.Records.
func registerAfterScreening(v1 fiber.Router, auth fiber.Handler, r *assess.Records) {
	h := recordsAPI{r}
	v1.Post("/meetings", auth, h.createMeeting)
	v1.Get("/meetings", auth, h.listMeetings)
	v1.Get("/meetings/:id", auth, h.getMeeting)
	v1.Post("/results/:id/retake", auth, h.retake)
}

type newMeetingRequest struct {
	Kind      string     `json:"kind" validate:"required,oneof=conference parent"`
	PersonID  string     `json:"person_id" validate:"required,max=64"`
	CaseID    string     `json:"case_id" validate:"omitempty,max=64"`
	WarningID string     `json:"warning_id" validate:"omitempty,max=64"`
	UnitID    string     `json:"unit_id" validate:"omitempty,max=64"`
	Date      *time.Time `json:"date"`
	Attendees string     `json:"attendees" validate:"required,max=1000"`
	Decision  string     `json:"decision" validate:"omitempty,oneof=monitor parent_meeting referral other"`
	Agreed    string     `json:"agreed" validate:"max=4000"`
	Notes     string     `json:"notes" validate:"max=4000"`
}

func (h recordsAPI) createMeeting(c *fiber.Ctx) error {
	var req newMeetingRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	in := assess.NewMeeting{Kind: req.Kind, PersonID: req.PersonID, CaseID: req.CaseID, WarningID: req.WarningID, UnitID: req.UnitID,
		Attendees: req.Attendees, Decision: req.Decision, Agreed: req.Agreed, Notes: req.Notes}
	if req.Date != nil {
		in.Date = *req.Date
	}
	v, err := h.records.CreateMeeting(c.UserContext(), principalOf(c), in, c.IP())
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(fiber.Map{"meeting": v})
}

func (h recordsAPI) listMeetings(c *fiber.Ctx) error {
	list, err := h.records.ListMeetings(c.UserContext(), principalOf(c), c.Query("person"), c.Query("kind"), c.IP())
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"meetings": list})
}

func (h recordsAPI) getMeeting(c *fiber.Ctx) error {
	v, err := h.records.Meeting(c.UserContext(), principalOf(c), c.Params("id"), c.IP())
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"meeting": v})
}

func (h recordsAPI) retake(c *fiber.Ctx) error {
	v, err := h.records.IssueRetake(c.UserContext(), principalOf(c), c.Params("id"), c.IP())
	if err != nil {
		return err
	}
	status := fiber.StatusCreated
	if v.Existing {
		status = fiber.StatusOK
	}
	return c.Status(status).JSON(fiber.Map{"retake": v})
}
