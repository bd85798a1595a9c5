package api

import (
	"bytes"
	"fmt"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/xuri/excelize/v2"

	"xinling/assess"
	"xinling/printout"
	"xinling/reportprint"
)

// The group report of a campaign (issue 17): JSON for the console, an
// .xlsx workbook with the same figures and, for staff who may see
// individuals, the appendices; and the reasons of non-participation.

func registerGroupReport(v1 fiber.Router, auth fiber.Handler, c campaignAPI) {
	v1.Get("/campaigns/:id/group-report", auth, c.groupReport)
	v1.Get("/campaigns/:id/group-report.xlsx", auth, c.groupReportXLSX)
	v1.Get("/campaigns/:id/group-report.pdf", auth, c.groupReportPDF)
	v1.Get("/campaigns/:id/individual-reports.pdf", auth, c.individualReportsPDF)
	v1.Put("/campaigns/:id/absences/:person", auth, c.putAbsence)
}

func (c campaignAPI) groupReport(ctx *fiber.Ctx) error {
	rep, err := c.campaigns.GroupReport(ctx.UserContext(), principalOf(ctx), ctx.Params("id"), ctx.Query("unit"), ctx.Query("locale"), ctx.IP())
	if err != nil {
		return err
	}
	return ctx.JSON(fiber.Map{"report": rep})
}

type absenceRequest struct {
	Reason string `json:"reason" validate:"max=800"`
}

func (c campaignAPI) putAbsence(ctx *fiber.Ctx) error {
	var req absenceRequest
	if err := decode(ctx, &req); err != nil {
		return err
	}
	a, err := c.campaigns.SetAbsence(ctx.UserContext(), principalOf(ctx), ctx.Params("id"), ctx.Params("person"), req.Reason, ctx.IP())
	if err != nil {
		return err
	}
	return ctx.JSON(fiber.Map{"absence": fiber.Map{"campaign_id": a.CampaignID, "person_id": a.PersonID, "reason": string(a.Reason), "updated_at": a.UpdatedAt}})
}

// groupReportXLSX lays the report out as a workbook, one sheet per
// section, every heading and label in the report's locale; suppressed
// figures read "<5" or "—". Exporting it is audited; the appendices'
// sheets are there only for staff who may see individuals.
func (c campaignAPI) groupReportXLSX(ctx *fiber.Ctx) error {
	p := principalOf(ctx)
	rep, err := c.campaigns.GroupReport(ctx.UserContext(), p, ctx.Params("id"), ctx.Query("unit"), ctx.Query("locale"), ctx.IP())
	if err != nil {
		return err
	}
	book := reportWorkbook(rep)
	if err := c.campaigns.AuditExport(ctx.UserContext(), p, "campaign_group_report", rep.Campaign.ID, ctx.IP()); err != nil {
		return err
	}
	return book.send(ctx, "group-report-"+rep.Campaign.ID+".xlsx")
}

// groupReportPDF prints the report on A4 (reportprint, printout): the
// same figures as the workbook, with a cover and charts. Exporting it is
// audited like the workbook; a server without its CJK font answers 503.
func (c campaignAPI) groupReportPDF(ctx *fiber.Ctx) error {
	p := principalOf(ctx)
	rep, err := c.campaigns.GroupReport(ctx.UserContext(), p, ctx.Params("id"), ctx.Query("unit"), ctx.Query("locale"), ctx.IP())
	if err != nil {
		return err
	}
	fonts, err := c.fonts()
	if err != nil {
		return &assess.Error{Code: assess.CodeUnavailable, Message: "printing is not available on this server: " + err.Error()}
	}
	var buf bytes.Buffer
	if err := printout.Render(&buf, fonts, reportprint.Group(rep, time.Now())); err != nil {
		return err
	}
	if err := c.campaigns.AuditExport(ctx.UserContext(), p, "campaign_group_report_pdf", rep.Campaign.ID, ctx.IP()); err != nil {
		return err
	}
	ctx.Set(fiber.HeaderContentType, "application/pdf")
	ctx.Set(fiber.HeaderContentDisposition, `attachment; filename="group-report-`+rep.Campaign.ID+`.pdf"`)
	ctx.Set(fiber.HeaderCacheControl, "no-store")
	return ctx.Send(buf.Bytes())
}

// individualReportsPDF prints pupils' individual reports, one after
// another in one PDF: a class's (?unit=) or one pupil's (?person=).
// Audited in assess; for staff who may see individuals only.
func (c campaignAPI) individualReportsPDF(ctx *fiber.Ctx) error {
	locale := ctx.Query("locale")
	reps, err := c.campaigns.IndividualReports(ctx.UserContext(), principalOf(ctx), ctx.Params("id"), ctx.Query("unit"), ctx.Query("person"), locale, ctx.IP())
	if err != nil {
		return err
	}
	if len(reps) == 0 {
		return &assess.Error{Code: assess.CodeNotFound, Field: "unit", Message: "no pupil of this unit has a result in this campaign yet"}
	}
	fonts, err := c.fonts()
	if err != nil {
		return &assess.Error{Code: assess.CodeUnavailable, Message: "printing is not available on this server: " + err.Error()}
	}
	now := time.Now()
	docs := make([]*printout.Document, len(reps))
	for i, r := range reps {
		docs[i] = reportprint.Individual(r, locale, now)
	}
	var buf bytes.Buffer
	if err := printout.Render(&buf, fonts, docs...); err != nil {
		return err
	}
	ctx.Set(fiber.HeaderContentType, "application/pdf")
	ctx.Set(fiber.HeaderContentDisposition, `attachment; filename="individual-reports-`+ctx.Params("id")+`.pdf"`)
	ctx.Set(fiber.HeaderCacheControl, "no-store")
	return ctx.Send(buf.Bytes())
}

// sheets is a workbook of several table sheets.
type sheets []sheet

type sheet struct {
	name  string
	title string
	rows  [][]any // the first is the header
}

func (b sheets) send(c *fiber.Ctx, filename string) error {
	f := excelize.NewFile()
	defer f.Close()
	for i, s := range b {
		if i == 0 {
			if err := f.SetSheetName("Sheet1", s.name); err != nil {
				return err
			}
		} else if _, err := f.NewSheet(s.name); err != nil {
			return err
		}
		if err := f.SetCellValue(s.name, "A1", s.title); err != nil {
			return err
		}
		for j, row := range s.rows {
			if err := f.SetSheetRow(s.name, fmt.Sprintf("A%d", j+2), &row); err != nil {
				return err
			}
		}
	}
	buf, err := f.WriteToBuffer()
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
	c.Set(fiber.HeaderContentDisposition, fmt.Sprintf(`attachment; filename="%s"`, filename))
	return c.Send(buf.Bytes())
}

func numCell(v *float64) any {
	if v == nil {
		return "—"
	}
	return *v
}

func reportWorkbook(rep *assess.CampaignReport) sheets {
	l := assess.ReportLabelsFor(rep.Locale)
	levels := func(lc assess.LevelCounts) []any {
		return []any{countCell(lc.L1), countCell(lc.L2), countCell(lc.L3), countCell(lc.None)}
	}
	levelHeads := []any{l.Level1, l.Level2, l.Level3, l.NoWarning}
	title := rep.Campaign.Name + " · " + rep.Unit.Name

	pa := rep.Participation
	overview := sheet{name: l.SheetOverview, title: title + " · " + l.Participation, rows: [][]any{
		{l.Roster, l.Started, l.Finished, l.Valid, l.Invalid},
		{pa.Roster, pa.Started, pa.Finished, countCell(pa.Valid), countCell(pa.Invalid)},
		{},
		{l.Instrument, l.InvalidReason, l.Count},
	}}
	for _, r := range pa.InvalidReasons {
		overview.rows = append(overview.rows, []any{r.InstrumentTitle, r.Label, countCell(r.Count)})
	}
	overview.rows = append(overview.rows, []any{}, append([]any{l.WarningLevels}, levelHeads...), append([]any{rep.Unit.Name}, levels(rep.Levels)...))
	overview.rows = append(overview.rows, []any{}, []any{l.Instrument, l.SuicideItem, l.Results, l.Positive})
	for _, s := range rep.Suicide {
		overview.rows = append(overview.rows, []any{s.Title, l.AnySuicideItem, s.Results, countCell(s.Positive)})
		for _, r := range s.Rules {
			overview.rows = append(overview.rows, []any{s.Title, r.Label, s.Results, countCell(r.Positive)})
		}
	}
	overview.rows = append(overview.rows, []any{}, []any{l.Disclaimer})

	bands := sheet{name: l.SheetBands, title: title + " · " + l.Bands, rows: [][]any{{l.Instrument, l.Score, l.Band, l.Count, l.N, l.Mean, l.SD}}}
	norms := sheet{name: l.SheetNorms, title: title + " · " + l.Norms, rows: [][]any{{l.Instrument, l.Score, l.N, l.NormGroups, l.MeanT, l.SDT, l.MeanPercentile, l.T60, l.T70}}}
	for _, in := range rep.Instruments {
		for _, s := range in.Scores {
			for _, b := range s.Bands {
				bands.rows = append(bands.rows, []any{in.Title, s.Label, b.Label, countCell(b.Count), s.N, numCell(s.Mean), numCell(s.SD)})
			}
			if len(s.Bands) == 0 {
				bands.rows = append(bands.rows, []any{in.Title, s.Label, "—", "—", s.N, numCell(s.Mean), numCell(s.SD)})
			}
			if n := s.Norms; n != nil {
				norms.rows = append(norms.rows, []any{in.Title, s.Label, n.N, strings.Join(n.Groups, "、"), numCell(n.MeanT), numCell(n.SDT),
					numCell(n.MeanPercentile), countCell(n.AtLeastT60), countCell(n.AtLeastT70)})
			}
		}
	}

	scoreNames := map[string]string{}
	for _, in := range rep.Instruments {
		for _, s := range in.Scores {
			scoreNames[in.Instrument+"\x00"+s.Score] = in.Title + " · " + s.Label
		}
	}
	groupSheet := func(name, head string, rows []assess.GroupRow, label func(assess.GroupRow) string) sheet {
		sh := sheet{name: name, title: title + " · " + name, rows: [][]any{append([]any{head, l.Finished}, levelHeads...)}}
		for _, r := range rows {
			sh.rows = append(sh.rows, append([]any{label(r), r.Finished}, levels(r.Levels)...))
		}
		sh.rows = append(sh.rows, []any{}, []any{head, l.Score, l.N, l.Mean, l.SD})
		for _, r := range rows {
			for _, m := range r.Scores {
				if n, ok := scoreNames[m.Instrument+"\x00"+m.Score]; ok {
					sh.rows = append(sh.rows, []any{label(r), n, m.N, numCell(m.Mean), numCell(m.SD)})
				}
			}
		}
		return sh
	}
	byName := func(r assess.GroupRow) string { return r.Name }
	book := sheets{overview, bands,
		groupSheet(l.SheetClasses, l.Class, rep.Classes, byName),
		groupSheet(l.SheetGrades, l.Grade, rep.ByGrade, byName),
		groupSheet(l.SheetSexes, l.Sex, rep.BySex, func(r assess.GroupRow) string { return l.SexLabel(r.Key) }),
		norms}
	if app := rep.Appendices; app != nil {
		focus := sheet{name: l.SheetFocus, title: title + " · " + l.SheetFocus, rows: [][]any{{l.Name, l.Class, l.Sex, l.LevelHead, l.Reasons, l.State}}}
		for _, f := range app.Focus {
			focus.rows = append(focus.rows, []any{f.Name, f.Class, l.SexLabel(f.Sex), l.LevelLabel(f.Level), strings.Join(f.Reasons, "；"), l.StateLabel(string(f.State))})
		}
		invalid := sheet{name: l.SheetInvalid, title: title + " · " + l.SheetInvalid, rows: [][]any{{l.Name, l.Class, l.Sex, l.Instrument, l.InvalidReason}}}
		for _, r := range app.Invalid {
			invalid.rows = append(invalid.rows, []any{r.Name, r.Class, l.SexLabel(r.Sex), r.Title, strings.Join(r.Checks, "；")})
		}
		absent := sheet{name: l.SheetAbsent, title: title + " · " + l.SheetAbsent, rows: [][]any{{l.Name, l.Class, l.Sex, l.AbsenceReason}}}
		for _, r := range app.NonParticipants {
			absent.rows = append(absent.rows, []any{r.Name, r.Class, l.SexLabel(r.Sex), r.Reason})
		}
		book = append(book, focus, invalid, absent)
	}
	return book
}
