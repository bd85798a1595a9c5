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

// registerFollowUps adds the follow-up screening of a campaign's focus
// list and its comparison with the first results.
func registerFollowUps(v1 fiber.Router, auth fiber.Handler, h followUpAPI) {
	v1.Post("/campaigns/:id/follow-up", auth, h.create)
	v1.Get("/campaigns/:id/comparison", auth, h.comparison)
}

type followUpAPI struct {
	campaigns *assess.Campaigns
	records   *assess.Records
}

type followUpRequest struct {
	Name      string     `json:"name" validate:"max=128"`
	StartsAt  *time.Time `json:"starts_at"`
	EndsAt    *time.Time `json:"ends_at"`
	PersonIDs []string   `json:"person_ids" validate:"max=5000,dive,required,max=64"`
}

func (h followUpAPI) create(c *fiber.Ctx) error {
	var req followUpRequest
	if len(c.Body()) > 0 {
		if err := decode(c, &req); err != nil {
			return err
		}
	}
	in := assess.FollowUpRequest{Name: req.Name, PersonIDs: req.PersonIDs}
	if req.StartsAt != nil {
		in.StartsAt = *req.StartsAt
	}
	if req.EndsAt != nil {
		in.EndsAt = *req.EndsAt
	}
	out, err := h.campaigns.CreateFollowUp(c.UserContext(), principalOf(c), c.Params("id"), in, c.IP())
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(fiber.Map{"campaign": viewOfCampaign(out.Campaign), "persons": out.Persons})
}

func (h followUpAPI) comparison(c *fiber.Ctx) error {
	list, err := h.records.FollowUpComparison(c.UserContext(), principalOf(c), c.Params("id"), c.IP())
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"comparisons": list})
}
