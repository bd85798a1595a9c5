package api

import (
	"time"

	"github.com/gofiber/fiber/v2"

	"xinling/assess"
	"xinling/store"
)

// campaignAPI serves school screening campaigns to the console.
type campaignAPI struct {
	campaigns *assess.Campaigns
}

func registerCampaigns(v1 fiber.Router, auth fiber.Handler, c campaignAPI) {
	v1.Get("/campaigns", auth, c.list)
	v1.Post("/campaigns", auth, c.create)
	v1.Get("/campaigns/:id", auth, c.get)
	v1.Post("/campaigns/:id/activate", auth, c.state(store.CampaignActive))
	v1.Post("/campaigns/:id/close", auth, c.state(store.CampaignClosed))
	v1.Post("/campaigns/:id/class-codes", auth, c.classCodes)
}

type campaignView struct {
	ID         string    `json:"id"`
	Name       string    `json:"name"`
	UnitID     string    `json:"unit_id"`
	UnitIDs    []string  `json:"unit_ids"`
	Battery    []string  `json:"battery"`
	Mode       string    `json:"mode"`
	Visibility string    `json:"visibility"`
	State      string    `json:"state"`
	StartsAt   time.Time `json:"starts_at"`
	EndsAt     time.Time `json:"ends_at"`
}

func viewOfCampaign(c store.Campaign) campaignView {
	return campaignView{ID: c.ID, Name: c.Name, UnitID: c.UnitID, UnitIDs: c.UnitIDs, Battery: c.Battery, Mode: c.Mode,
		Visibility: c.Visibility, State: string(c.State), StartsAt: c.StartsAt, EndsAt: c.EndsAt}
}

type newCampaignRequest struct {
	Name       string    `json:"name" validate:"required,max=128"`
	UnitID     string    `json:"unit_id" validate:"required,max=64"`
	UnitIDs    []string  `json:"unit_ids" validate:"required,min=1,max=500,dive,required,max=64"`
	Battery    []string  `json:"battery" validate:"required,min=1,max=8,dive,required,max=64"`
	Mode       string    `json:"mode" validate:"required,oneof=roster open"`
	Visibility string    `json:"visibility" validate:"omitempty,oneof=nothing thanks bands"`
	StartsAt   time.Time `json:"starts_at" validate:"required"`
	EndsAt     time.Time `json:"ends_at" validate:"required"`
}

func (c campaignAPI) create(ctx *fiber.Ctx) error {
	var req newCampaignRequest
	if err := decode(ctx, &req); err != nil {
		return err
	}
	cp, err := c.campaigns.Create(ctx.UserContext(), principalOf(ctx), assess.NewCampaign{Name: req.Name, UnitID: req.UnitID,
		UnitIDs: req.UnitIDs, Battery: req.Battery, Mode: req.Mode, Visibility: req.Visibility, StartsAt: req.StartsAt, EndsAt: req.EndsAt})
	if err != nil {
		return err
	}
	return ctx.Status(fiber.StatusCreated).JSON(fiber.Map{"campaign": viewOfCampaign(cp)})
}

func (c campaignAPI) list(ctx *fiber.Ctx) error {
	list, next, err := c.campaigns.List(ctx.UserContext(), principalOf(ctx), page(ctx))
	if err != nil {
		return err
	}
	views := make([]campaignView, len(list))
	for i, cp := range list {
		views[i] = viewOfCampaign(cp)
	}
	return ctx.JSON(fiber.Map{"campaigns": views, "next": next})
}

func (c campaignAPI) get(ctx *fiber.Ctx) error {
	cp, err := c.campaigns.Get(ctx.UserContext(), principalOf(ctx), ctx.Params("id"))
	if err != nil {
		return err
	}
	return ctx.JSON(fiber.Map{"campaign": viewOfCampaign(cp)})
}

func (c campaignAPI) state(to store.CampaignState) fiber.Handler {
	return func(ctx *fiber.Ctx) error {
		cp, err := c.campaigns.SetState(ctx.UserContext(), principalOf(ctx), ctx.Params("id"), to)
		if err != nil {
			return err
		}
		return ctx.JSON(fiber.Map{"campaign": viewOfCampaign(cp)})
	}
}

func (c campaignAPI) classCodes(ctx *fiber.Ctx) error {
	codes, err := c.campaigns.IssueClassCodes(ctx.UserContext(), principalOf(ctx), ctx.Params("id"))
	if err != nil {
		return err
	}
	out := make([]fiber.Map, len(codes))
	for i, ac := range codes {
		out[i] = fiber.Map{"code": ac.Code, "unit_id": ac.UnitID}
	}
	return ctx.JSON(fiber.Map{"codes": out})
}
