package api

import (
	"github.com/gofiber/fiber/v2"

	"xinling/assess"
)

// respondent serves the public, token-holding side of the API.
type respondent struct {
	sessions *assess.Sessions
}

type createSessionRequest struct {
	Instrument string   `json:"instrument" validate:"omitempty,max=64"`
	Battery    []string `json:"battery" validate:"omitempty,min=1,max=8,dive,required,max=64"`
	Sex        string   `json:"sex" validate:"omitempty,oneof=f m"`
	Age        int      `json:"age" validate:"gte=0,lte=150"`
	Consent    bool     `json:"consent"`
	Locale     string   `json:"locale" validate:"omitempty,oneof=zh-CN en"`
	FollowUpOf string   `json:"follow_up_of" validate:"omitempty,max=64"`
	// Code is a campaign access code, typed or from a QR link.
	Code string `json:"code" validate:"omitempty,max=32"`
}

type answerRequest struct {
	Value *float64 `json:"value" validate:"required"`
	Seq   *int64   `json:"seq" validate:"required,gte=1"`
}

type batchAnswer struct {
	Item  string   `json:"item" validate:"required,max=160"`
	Value *float64 `json:"value" validate:"required"`
	Seq   *int64   `json:"seq" validate:"required,gte=1"`
}

type batchRequest struct {
	Answers []batchAnswer `json:"answers" validate:"required,min=1,max=300,dive"`
}

func (r respondent) catalogue(c *fiber.Ctx) error {
	return c.JSON(fiber.Map{"instruments": r.sessions.Catalogue(locale(c))})
}

func (r respondent) create(c *fiber.Ctx) error {
	var req createSessionRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	given := 0
	for _, set := range []bool{req.Instrument != "", len(req.Battery) > 0, req.Code != ""} {
		if set {
			given++
		}
	}
	if given != 1 {
		return &assess.Error{Code: assess.CodeValidation, Field: "instrument", Message: "give exactly one of instrument, battery and code"}
	}
	instruments := req.Battery
	if req.Instrument != "" {
		instruments = []string{req.Instrument}
	}
	loc := req.Locale
	if loc == "" {
		loc = locale(c)
	}
	// A signed-in resident's self-test joins their earlier ones; a cookie
	// that no longer works leaves the test anonymous rather than refused.
	var person string
	if tok := c.Cookies(respondentCookie); tok != "" {
		person, _ = r.sessions.Respondent(c.UserContext(), tok)
	}
	v, err := r.sessions.Create(c.UserContext(), assess.CreateRequest{
		Instruments: instruments, Sex: req.Sex, Age: req.Age, Consent: req.Consent, Locale: loc,
		FollowUpOf: req.FollowUpOf, FollowUpToken: bearer(c), Code: req.Code, PersonID: person,
	}, loc)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(v)
}

func (r respondent) get(c *fiber.Ctx) error {
	v, err := r.sessions.Get(c.UserContext(), c.Params("id"), bearer(c), locale(c))
	if err != nil {
		return err
	}
	return c.JSON(v)
}

func (r respondent) answer(c *fiber.Ctx) error {
	var req answerRequest
	if err := decodeAnswer(c, &req); err != nil {
		return err
	}
	v, err := r.sessions.SaveAnswer(c.UserContext(), c.Params("id"), bearer(c),
		assess.AnswerInput{Item: c.Params("item"), Value: *req.Value, Seq: *req.Seq})
	if err != nil {
		return err
	}
	return answerJSON(c, v)
}

func (r respondent) answers(c *fiber.Ctx) error {
	var req batchRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	in := make([]assess.AnswerInput, len(req.Answers))
	for i, a := range req.Answers {
		in[i] = assess.AnswerInput{Item: a.Item, Value: *a.Value, Seq: *a.Seq}
	}
	v, err := r.sessions.SaveAnswers(c.UserContext(), c.Params("id"), bearer(c), in)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"answers": v})
}

func (r respondent) submit(c *fiber.Ctx) error {
	v, err := r.sessions.Submit(c.UserContext(), c.Params("id"), bearer(c), locale(c))
	if err != nil {
		return err
	}
	return c.JSON(v)
}
