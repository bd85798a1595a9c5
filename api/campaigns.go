package api

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"net/url"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"xinling/assess"
	"xinling/printout"
	"xinling/roster"
	"xinling/slips"
	"xinling/store"
)

// campaignAPI serves school screening campaigns to the console.
type campaignAPI struct {
	campaigns *assess.Campaigns
	publicURL string
	font      func() ([]byte, error)
	// fonts are the printed reports' fonts (printout), loaded once.
	fonts func() (*printout.Fonts, error)
}

func registerCampaigns(v1 fiber.Router, auth fiber.Handler, c campaignAPI) {
	v1.Get("/campaigns", auth, c.list)
	v1.Post("/campaigns", auth, c.create)
	v1.Get("/campaigns/:id", auth, c.get)
	v1.Post("/campaigns/:id/activate", auth, c.state(store.CampaignActive))
	v1.Post("/campaigns/:id/close", auth, c.state(store.CampaignClosed))
	v1.Post("/campaigns/:id/class-codes", auth, c.classCodes)
	v1.Post("/campaigns/:id/personal-codes", auth, c.personalCodes)
	v1.Get("/campaigns/:id/progress", auth, c.progress)
	v1.Get("/campaigns/:id/report", auth, c.report)
	v1.Get("/campaigns/:id/progress.xlsx", auth, c.progressXLSX)
	v1.Get("/campaigns/:id/report.xlsx", auth, c.reportXLSX)
	v1.Get("/campaigns/:id/codes.pdf", auth, c.codesPDF)
	v1.Post("/units/:id/roster", auth, c.importRoster)
	registerGroupReport(v1, auth, c)
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
	FollowUpOf string    `json:"follow_up_of,omitempty"`
}

func viewOfCampaign(c store.Campaign) campaignView {
	return campaignView{ID: c.ID, Name: c.Name, UnitID: c.UnitID, UnitIDs: c.UnitIDs, Battery: c.Battery, Mode: c.Mode,
		Visibility: c.Visibility, State: string(c.State), StartsAt: c.StartsAt, EndsAt: c.EndsAt, FollowUpOf: c.FollowUpOf}
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
	cp, err := c.campaigns.View(ctx.UserContext(), principalOf(ctx), ctx.Params("id"))
	if err != nil {
		return err
	}
	names, err := c.campaigns.UnitNames(ctx.UserContext(), cp)
	if err != nil {
		return err
	}
	return ctx.JSON(fiber.Map{"campaign": viewOfCampaign(cp), "unit_names": names})
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

// importRoster takes a multipart upload (file, skip_bad_rows).
func (c campaignAPI) importRoster(ctx *fiber.Ctx) error {
	fh, err := ctx.FormFile("file")
	if err != nil {
		return &assess.Error{Code: assess.CodeValidation, Field: "file", Message: "upload the roster as the multipart field \"file\" (.xlsx or .csv)"}
	}
	f, err := fh.Open()
	if err != nil {
		return err
	}
	defer f.Close()
	res, err := c.campaigns.ImportRoster(ctx.UserContext(), principalOf(ctx), ctx.Params("id"), fh.Filename, f, ctx.FormValue("skip_bad_rows") == "true", ctx.IP())
	var re *assess.RosterError
	if errors.As(err, &re) {
		return ctx.Status(fiber.StatusUnprocessableEntity).JSON(fiber.Map{
			"error":    errorDetail{Code: re.Code, Message: re.Message, Field: re.Field},
			"problems": problemViews(re.Problems)})
	}
	if err != nil {
		return err
	}
	return ctx.JSON(fiber.Map{"created": res.Created, "updated": res.Updated, "problems": problemViews(res.Problems), "notices": res.Notices})
}

func problemViews(ps []roster.Problem) []fiber.Map {
	out := make([]fiber.Map, len(ps))
	for i, p := range ps {
		out[i] = fiber.Map{"row": p.Line, "column": p.Column, "kind": string(p.Kind), "message": p.Message}
	}
	return out
}

func (c campaignAPI) personalCodes(ctx *fiber.Ctx) error {
	codes, err := c.campaigns.IssuePersonalCodes(ctx.UserContext(), principalOf(ctx), ctx.Params("id"))
	if err != nil {
		return err
	}
	out := make([]fiber.Map, len(codes))
	for i, ac := range codes {
		out[i] = fiber.Map{"code": ac.Code, "person_id": ac.PersonID, "unit_id": ac.UnitID}
	}
	return ctx.JSON(fiber.Map{"codes": out})
}

func (c campaignAPI) progress(ctx *fiber.Ctx) error {
	pr, err := c.campaigns.Progress(ctx.UserContext(), principalOf(ctx), ctx.Params("id"), ctx.IP())
	if err != nil {
		return err
	}
	return ctx.JSON(fiber.Map{"classes": pr})
}

func (c campaignAPI) report(ctx *fiber.Ctx) error {
	rep, err := c.campaigns.Report(ctx.UserContext(), principalOf(ctx), ctx.Params("id"), ctx.Query("unit"))
	if err != nil {
		return err
	}
	return ctx.JSON(fiber.Map{"groups": rep})
}

func (c campaignAPI) progressXLSX(ctx *fiber.Ctx) error {
	p := principalOf(ctx)
	pr, err := c.campaigns.Progress(ctx.UserContext(), p, ctx.Params("id"), ctx.IP())
	if err != nil {
		return err
	}
	w := workbook{filename: "progress-" + ctx.Params("id") + ".xlsx", sheet: "完成情况", title: "测评完成情况",
		header: []string{"班级", "已完成", "进行中", "未开始", "未开始名单"}}
	for _, cl := range pr {
		w.rows = append(w.rows, []any{cl.Name, cl.Finished, cl.InProgress, cl.NotStarted, strings.Join(cl.NotStartedNames, "、")})
	}
	if err := c.campaigns.AuditExport(ctx.UserContext(), p, "campaign_progress", ctx.Params("id"), ctx.IP()); err != nil {
		return err
	}
	return w.send(ctx)
}

// reportXLSX lays the group report out one row per unit, instrument and
// score, with a column per band; suppressed figures read "<5" or "—".
func (c campaignAPI) reportXLSX(ctx *fiber.Ctx) error {
	p := principalOf(ctx)
	rep, err := c.campaigns.Report(ctx.UserContext(), p, ctx.Params("id"), ctx.Query("unit"))
	if err != nil {
		return err
	}
	var bands []string
	for _, g := range rep {
		for _, s := range g.Scores {
			for b := range s.Bands {
				if !slices.Contains(bands, b) {
					bands = append(bands, b)
				}
			}
		}
	}
	sort.Strings(bands)
	header := append([]string{"单位", "量表", "结果数", "分数", "均值", "标准差"}, bands...)
	w := workbook{filename: "report-" + ctx.Params("id") + ".xlsx", sheet: "团体报告", title: "团体测评报告",
		header: append(header, "一级预警", "二级预警", "三级预警")}
	for _, g := range rep {
		for _, s := range g.Scores {
			row := []any{g.Name, g.Instrument, g.Results, s.Score, "—", "—"}
			if !s.Suppressed {
				row[4], row[5] = math.Round(s.Mean*100)/100, math.Round(s.SD*100)/100
			}
			for _, b := range bands {
				n, ok := s.Bands[b]
				if !ok {
					row = append(row, 0)
					continue
				}
				row = append(row, countCell(n))
			}
			w.rows = append(w.rows, append(row, countCell(g.Warnings["1"]), countCell(g.Warnings["2"]), countCell(g.Warnings["3"])))
		}
	}
	if err := c.campaigns.AuditExport(ctx.UserContext(), p, "campaign_report", ctx.Params("id"), ctx.IP()); err != nil {
		return err
	}
	return w.send(ctx)
}

// codesPDF prints the campaign's code slips, class by class.
func (c campaignAPI) codesPDF(ctx *fiber.Ctx) error {
	cp, data, err := c.campaigns.CodesForSlips(ctx.UserContext(), principalOf(ctx), ctx.Params("id"), ctx.Query("unit"), ctx.IP())
	if err != nil {
		return err
	}
	font, err := c.font()
	if err != nil {
		return &assess.Error{Code: assess.CodeUnavailable, Message: err.Error()}
	}
	list := make([]slips.Slip, len(data))
	for i, d := range data {
		list[i] = slips.Slip{Title: cp.Name, Name: d.Name, Class: d.Class, Code: d.Code,
			URL: strings.TrimRight(c.publicURL, "/") + "/m/?code=" + url.QueryEscape(d.Code)}
	}
	var buf bytes.Buffer
	if err := slips.Render(&buf, font, list); err != nil {
		return err
	}
	ctx.Set(fiber.HeaderContentType, "application/pdf")
	ctx.Set(fiber.HeaderContentDisposition, fmt.Sprintf(`attachment; filename="codes-%s.pdf"`, cp.ID))
	return ctx.Send(buf.Bytes())
}
