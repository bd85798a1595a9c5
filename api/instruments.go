package api

import (
	"errors"
	"fmt"

	"github.com/gofiber/fiber/v2"

	"xinling/assess"
	"xinling/engine"
	"xinling/instrumentbook"
)

// instrumentAPI serves the custom instrument lifecycle to staff:
// check, save a draft, try, publish, retire and (root administrators)
// put into the public catalogue. assess decides who may.
type instrumentAPI struct {
	catalog *assess.Catalog
}

func registerInstruments(v1 fiber.Router, auth fiber.Handler, a instrumentAPI) {
	v1.Get("/custom-instruments", auth, a.list)
	v1.Post("/custom-instruments/check", auth, a.check)
	v1.Post("/custom-instruments", auth, a.saveDraft)
	v1.Get("/custom-instruments/builtin/:id", auth, a.builtinSource)
	v1.Post("/custom-instruments/import", auth, a.importWorkbook)
	v1.Get("/custom-instruments/:id/:version/template.xlsx", auth, a.template)
	v1.Get("/custom-instruments/:id/:version", auth, a.get)
	v1.Post("/custom-instruments/:id/:version/publish", auth, a.publish)
	v1.Post("/custom-instruments/:id/:version/retire", auth, a.retire)
	v1.Put("/custom-instruments/:id/:version/public", auth, a.setPublic)
	v1.Post("/custom-instruments/:id/:version/try", auth, a.try)
	v1.Post("/custom-instruments/:id/:version/rescore", auth, a.rescore)
}

type documentRequest struct {
	Source string `json:"source" validate:"required"`
	UnitID string `json:"unit_id" validate:"omitempty,max=64"`
}

// decodeDocument decodes a document body and holds the document to the
// engine's size limit with a clear error, before any parsing.
func decodeDocument(c *fiber.Ctx) (documentRequest, error) {
	var req documentRequest
	if err := decode(c, &req); err != nil {
		return req, err
	}
	if len(req.Source) > engine.MaxDocumentBytes {
		return req, &assess.Error{Code: codeBodyTooLarge, Field: "source",
			Message: fmt.Sprintf("the document is %d bytes; the limit is %d", len(req.Source), engine.MaxDocumentBytes)}
	}
	return req, nil
}

func (a instrumentAPI) list(c *fiber.Ctx) error {
	list, err := a.catalog.List(c.UserContext(), principalOf(c))
	if err != nil {
		return err
	}
	if list == nil {
		list = []assess.InstrumentVersion{}
	}
	return c.JSON(fiber.Map{"instruments": list})
}

func (a instrumentAPI) check(c *fiber.Ctx) error {
	req, err := decodeDocument(c)
	if err != nil {
		return err
	}
	report, err := a.catalog.Check(c.UserContext(), principalOf(c), req.UnitID, []byte(req.Source), locale(c))
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"report": report})
}

func (a instrumentAPI) saveDraft(c *fiber.Ctx) error {
	req, err := decodeDocument(c)
	if err != nil {
		return err
	}
	v, err := a.catalog.SaveDraft(c.UserContext(), principalOf(c), req.UnitID, []byte(req.Source), locale(c), c.IP())
	if err != nil {
		return withReport(c, err, v.Report)
	}
	return c.Status(fiber.StatusCreated).JSON(fiber.Map{"instrument": v})
}

// withReport answers a refused document with its error and, so that the
// editor can mark every problem, the checker's report beside it.
func withReport(c *fiber.Ctx, err error, report *assess.CheckReport) error {
	var ae *assess.Error
	if report == nil || !errors.As(err, &ae) {
		return err
	}
	status, ok := statusOf[ae.Code]
	if !ok {
		status = fiber.StatusBadRequest
	}
	return c.Status(status).JSON(fiber.Map{
		"error":  errorDetail{Code: ae.Code, Message: ae.Message, Field: ae.Field, RequestID: requestIDOf(c)},
		"report": report,
	})
}

func (a instrumentAPI) builtinSource(c *fiber.Ctx) error {
	v, err := a.catalog.BuiltinSource(c.Params("id"))
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"instrument": v})
}

func (a instrumentAPI) get(c *fiber.Ctx) error {
	v, err := a.catalog.Get(c.UserContext(), principalOf(c), c.Params("id"), c.Params("version"), locale(c))
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"instrument": v})
}

func (a instrumentAPI) publish(c *fiber.Ctx) error {
	v, err := a.catalog.Publish(c.UserContext(), principalOf(c), c.Params("id"), c.Params("version"), c.IP())
	if err != nil {
		return withReport(c, err, v.Report)
	}
	return c.JSON(fiber.Map{"instrument": v})
}

func (a instrumentAPI) retire(c *fiber.Ctx) error {
	v, err := a.catalog.Retire(c.UserContext(), principalOf(c), c.Params("id"), c.Params("version"), c.IP())
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"instrument": v})
}

type publicRequest struct {
	Public *bool `json:"public" validate:"required"`
}

func (a instrumentAPI) setPublic(c *fiber.Ctx) error {
	var req publicRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	v, err := a.catalog.SetPublic(c.UserContext(), principalOf(c), c.Params("id"), c.Params("version"), *req.Public, c.IP())
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"instrument": v})
}

type tryRequest struct {
	Answers map[string]float64 `json:"answers" validate:"max=1000"`
	Sex     string             `json:"sex" validate:"omitempty,oneof=m f"`
	Age     float64            `json:"age" validate:"gte=0,lte=150"`
}

func (a instrumentAPI) try(c *fiber.Ctx) error {
	var req tryRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	res, err := a.catalog.Try(c.UserContext(), principalOf(c), c.Params("id"), c.Params("version"),
		engine.Input{Answers: req.Answers, Sex: req.Sex, Age: req.Age})
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"result": res})
}

type rescoreRequest struct {
	CampaignID string `json:"campaign_id" validate:"omitempty,max=64"`
	// Apply writes the rescored results; false (the default) is a dry run.
	Apply bool `json:"apply"`
}

func (a instrumentAPI) rescore(c *fiber.Ctx) error {
	var req rescoreRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	rep, err := a.catalog.Rescore(c.UserContext(), principalOf(c), assess.RescoreRequest{Instrument: c.Params("id"),
		Version: c.Params("version"), CampaignID: req.CampaignID, Apply: req.Apply}, c.IP())
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"rescore": rep})
}

func (a instrumentAPI) template(c *fiber.Ctx) error {
	data, err := a.catalog.Template(c.UserContext(), principalOf(c), c.Params("id"), c.Params("version"))
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
	c.Set(fiber.HeaderContentDisposition, fmt.Sprintf(`attachment; filename="%s-%s.xlsx"`, c.Params("id"), c.Params("version")))
	return c.Send(data)
}

// importWorkbook reads a filled template (multipart field "file") into a
// new draft. Problems in cells come back as a 422 listing sheet and cell.
func (a instrumentAPI) importWorkbook(c *fiber.Ctx) error {
	fh, err := c.FormFile("file")
	if err != nil {
		return &assess.Error{Code: assess.CodeValidation, Field: "file", Message: "upload the filled template as the multipart field \"file\" (.xlsx)"}
	}
	f, err := fh.Open()
	if err != nil {
		return err
	}
	defer f.Close()
	data, err := instrumentbook.ReadAll(f)
	if err != nil {
		return &assess.Error{Code: codeBodyTooLarge, Field: "file", Message: err.Error()}
	}
	v, err := a.catalog.ImportDraft(c.UserContext(), principalOf(c), c.FormValue("unit_id"), data, locale(c), c.IP())
	var we *assess.WorkbookError
	if errors.As(err, &we) {
		return c.Status(fiber.StatusUnprocessableEntity).JSON(fiber.Map{
			"error":    errorDetail{Code: assess.CodeWorkbookInvalid, Message: "the workbook has cells that cannot be read", RequestID: requestIDOf(c)},
			"problems": we.Problems})
	}
	if err != nil {
		return withReport(c, err, v.Report)
	}
	return c.Status(fiber.StatusCreated).JSON(fiber.Map{"instrument": v})
}
