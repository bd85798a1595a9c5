package api

import (
	"time"

	"github.com/gofiber/fiber/v2"

	"xinling/assess"
	"xinling/store"
)

// registerRecords adds the person-record, case and referral routes; each
// route names auth, the staff-session check, itself. Roles and scope are
// decided in assess.Records.
func registerRecords(v1 fiber.Router, auth fiber.Handler, r *assess.Records) {
	h := recordsAPI{r}
	v1.Get("/persons/:id", auth, h.person)
	v1.Get("/persons/:id/export", auth, h.exportPerson)
	v1.Post("/persons/:id/anonymise", auth, h.erasePerson)
	v1.Post("/cases", auth, h.createCase)
	v1.Get("/cases", auth, h.listCases)
	v1.Get("/cases/:id", auth, h.getCase)
	v1.Put("/cases/:id", auth, h.updateCase)
	v1.Post("/warnings/:id/refer", auth, h.refer)
	v1.Get("/warnings/:id/referral-targets", auth, h.referralTargets)
	v1.Get("/referrals", auth, h.listReferrals)
	v1.Get("/referrals/:id", auth, h.getReferral)
	v1.Post("/referrals/:id/accept", auth, h.setReferral(store.ReferralAccepted))
	v1.Post("/referrals/:id/complete", auth, h.setReferral(store.ReferralCompleted))
}

type recordsAPI struct {
	records *assess.Records
}

func (h recordsAPI) person(c *fiber.Ctx) error {
	rec, err := h.records.Person(c.UserContext(), principalOf(c), c.Params("id"), locale(c), c.IP())
	if err != nil {
		return err
	}
	return c.JSON(rec)
}

// caseFields builds the record form's fields; each free-text field is
// bounded so that a whole form fits the body limit.
func caseFields(selfEval, lifeEvents, other, advice string, notified *bool) assess.CaseFields {
	return assess.CaseFields{SelfEvaluation: selfEval, LifeEvents: lifeEvents, OtherProblems: other, Advice: advice, GroupNotified: *notified}
}

type newCaseRequest struct {
	PersonID       string     `json:"person_id" validate:"required_without_all=WarningID BookingID,max=64"`
	WarningID      string     `json:"warning_id" validate:"omitempty,max=64"`
	BookingID      string     `json:"booking_id" validate:"omitempty,max=64"`
	UnitID         string     `json:"unit_id" validate:"omitempty,max=64"`
	At             *time.Time `json:"at"`
	SelfEvaluation string     `json:"self_evaluation" validate:"max=4000"`
	LifeEvents     string     `json:"life_events" validate:"max=4000"`
	OtherProblems  string     `json:"other_problems" validate:"max=4000"`
	Advice         string     `json:"advice" validate:"max=4000"`
	GroupNotified  *bool      `json:"group_notified" validate:"required"`
}

func (h recordsAPI) createCase(c *fiber.Ctx) error {
	var req newCaseRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	in := assess.NewCase{PersonID: req.PersonID, WarningID: req.WarningID, BookingID: req.BookingID, UnitID: req.UnitID, CaseFields: caseFields(req.SelfEvaluation, req.LifeEvents, req.OtherProblems, req.Advice, req.GroupNotified)}
	if req.At != nil {
		in.At = *req.At
	}
	v, err := h.records.CreateCase(c.UserContext(), principalOf(c), in, c.IP())
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(v)
}

func (h recordsAPI) getCase(c *fiber.Ctx) error {
	v, err := h.records.Case(c.UserContext(), principalOf(c), c.Params("id"), c.IP())
	if err != nil {
		return err
	}
	return c.JSON(v)
}

type updateCaseRequest struct {
	Version        int64  `json:"version" validate:"required,gte=1"`
	Closed         bool   `json:"closed"`
	Outcome        string `json:"outcome" validate:"max=64"`
	SelfEvaluation string `json:"self_evaluation" validate:"max=4000"`
	LifeEvents     string `json:"life_events" validate:"max=4000"`
	OtherProblems  string `json:"other_problems" validate:"max=4000"`
	Advice         string `json:"advice" validate:"max=4000"`
	GroupNotified  *bool  `json:"group_notified" validate:"required"`
}

func (h recordsAPI) updateCase(c *fiber.Ctx) error {
	var req updateCaseRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	v, err := h.records.UpdateCase(c.UserContext(), principalOf(c), c.Params("id"),
		assess.CaseUpdate{Version: req.Version, CaseFields: caseFields(req.SelfEvaluation, req.LifeEvents, req.OtherProblems, req.Advice, req.GroupNotified), Closed: req.Closed, Outcome: req.Outcome}, c.IP())
	if err != nil {
		return err
	}
	return c.JSON(v)
}

func (h recordsAPI) listCases(c *fiber.Ctx) error {
	list, next, err := h.records.ListCases(c.UserContext(), principalOf(c), c.Query("person"), c.Query("warning"), page(c), c.IP())
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"cases": list, "next": next})
}

type referRequest struct {
	ToUnitID string `json:"to_unit_id" validate:"required,max=64"`
	Note     string `json:"note" validate:"required,max=2000"`
}

func (h recordsAPI) refer(c *fiber.Ctx) error {
	var req referRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	v, err := h.records.Refer(c.UserContext(), principalOf(c), c.Params("id"), req.ToUnitID, req.Note, c.IP())
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(fiber.Map{"referral": v})
}

func (h recordsAPI) listReferrals(c *fiber.Ctx) error {
	state := store.ReferralState(c.Query("state"))
	switch state {
	case "", store.ReferralSent, store.ReferralAccepted, store.ReferralCompleted:
	default:
		return &assess.Error{Code: assess.CodeValidation, Field: "state", Message: "state must be sent, accepted or completed"}
	}
	list, next, err := h.records.ListReferrals(c.UserContext(), principalOf(c), c.Query("direction"), state, page(c))
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"referrals": list, "next": next})
}

func (h recordsAPI) getReferral(c *fiber.Ctx) error {
	v, err := h.records.Referral(c.UserContext(), principalOf(c), c.Params("id"), c.IP())
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"referral": v})
}

func (h recordsAPI) setReferral(to store.ReferralState) fiber.Handler {
	return func(c *fiber.Ctx) error {
		v, err := h.records.SetReferralState(c.UserContext(), principalOf(c), c.Params("id"), to, c.IP())
		if err != nil {
			return err
		}
		return c.JSON(fiber.Map{"referral": v})
	}
}
