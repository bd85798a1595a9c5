package assess

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"xinling/store"
)

// Retakes (issue 17). A result that its document's validity checks
// flagged (answered too fast, straight-lining, a lie-scale item) stays in
// the record, marked invalid, and is never hidden. The school
// psychologist may give the pupil a retake: a new personal code in the
// same campaign, once the cooling-off time has passed since the invalid
// sitting (a pupil who rushed through a screening minutes ago answers no
// better now). A result gets at most one retake code; asking again
// returns the same code.

// Retake error codes.
const (
	// CodeRetakeTooEarly: the cooling-off time has not passed (409).
	CodeRetakeTooEarly = "retake_too_early"
	// CodeResultValid: the result is not flagged invalid (409).
	CodeResultValid = "result_valid"
	// CodeRetakeImpossible: the result is not a rostered pupil's result
	// in a campaign that still takes answers (409).
	CodeRetakeImpossible = "retake_not_possible"
)

// DefaultRetakeCoolingOff is the wait before a retake when none is
// configured: a day, so that the retake is on another school day.
const DefaultRetakeCoolingOff = 24 * time.Hour

// Invalid reports whether a result failed one of its document's validity
// checks. An abandoned sitting (FlagIncomplete) is not invalid: it was
// never finished, and its item warnings stand.
func Invalid(flags []string) bool {
	for _, f := range flags {
		if f != FlagIncomplete {
			return true
		}
	}
	return false
}

// RetakeRecord is a retake code issued for an invalid result.
type RetakeRecord struct {
	Code       string    `json:"code"`
	CampaignID string    `json:"campaign_id"`
	PersonID   string    `json:"person_id"`
	UnitID     string    `json:"unit_id"`
	ResultID   string    `json:"result_id"`
	SessionID  string    `json:"session_id,omitempty"` // once the pupil started the retake
	CreatedAt  time.Time `json:"created_at"`
	// Existing is true when the code had been issued before.
	Existing bool `json:"existing"`
}

func retakeRecord(c store.AccessCode, existing bool) RetakeRecord {
	return RetakeRecord{Code: c.Code, CampaignID: c.CampaignID, PersonID: c.PersonID, UnitID: c.UnitID, ResultID: c.RetakeOf,
		SessionID: c.SessionID, CreatedAt: c.CreatedAt, Existing: existing}
}

// IssueRetake gives the pupil of an invalid campaign result a new code in
// the same campaign. The code is personal data on a slip, so the answer
// is audited as an action (the code is stored and traceable).
func (r *Records) IssueRetake(ctx context.Context, p *Principal, resultID, ip string) (*RetakeRecord, error) {
	if err := requireRecords(p); err != nil {
		return nil, err
	}
	res, err := r.store.GetResult(ctx, resultID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, notFound("result", resultID)
	}
	if err != nil {
		return nil, err
	}
	// Only the subtree that ran the screening retakes it.
	if res.PersonID == "" || !p.InScope(res.UnitPath) {
		if res.PersonID == "" && p.InScope(res.UnitPath) {
			return nil, errorf(CodeRetakeImpossible, "", "an anonymous result names no pupil to give a code to")
		}
		return nil, notFound("result", resultID)
	}
	if _, err := r.personAccess(ctx, p, res.PersonID); err != nil {
		return nil, notFound("result", resultID)
	}
	if res.SupersededBy != "" {
		return nil, errorf(CodeRetakeImpossible, "", "this result was rescored; ask for a retake of result %s", res.SupersededBy)
	}
	if !Invalid(res.Flags) {
		return nil, errorf(CodeResultValid, "", "this result passed its instrument's validity checks; a retake is only for an invalid result")
	}
	if res.CampaignID == "" {
		return nil, errorf(CodeRetakeImpossible, "", "this result is a self-test, not part of a campaign; a retake code belongs to a campaign")
	}
	codes, err := r.store.ListPersonAccessCodes(ctx, res.PersonID)
	if err != nil {
		return nil, err
	}
	if i := slices.IndexFunc(codes, func(c store.AccessCode) bool { return c.RetakeOf == res.ID }); i >= 0 {
		v := retakeRecord(codes[i], true)
		return &v, nil
	}
	cp, err := r.store.GetCampaign(ctx, res.CampaignID)
	if err != nil {
		return nil, err
	}
	now := r.now()
	if cp.State != store.CampaignActive || !now.Before(cp.EndsAt) {
		return nil, errorf(CodeRetakeImpossible, "", "campaign %s no longer takes answers; a follow-up campaign can include the pupil", cp.ID)
	}
	if ready := res.CreatedAt.Add(r.retakeAfter()); now.Before(ready) {
		return nil, errorf(CodeRetakeTooEarly, "", "a retake can be issued from %s, %s after the invalid sitting",
			ready.In(chinaTime).Format("2006-01-02 15:04"), r.retakeAfter())
	}
	unit := res.UnitID
	if person, err := r.store.GetPerson(ctx, res.PersonID); err == nil && person.UnitID != "" {
		unit = person.UnitID // the pupil's class today
	}
	for attempt := 0; attempt < 5; attempt++ {
		ac := store.AccessCode{Code: newCode(), CampaignID: cp.ID, PersonID: res.PersonID, UnitID: unit, RetakeOf: res.ID, CreatedAt: now}
		err := r.store.CreateAccessCodes(ctx, []store.AccessCode{ac})
		if errors.Is(err, store.ErrConflict) {
			continue
		}
		if err != nil {
			return nil, err
		}
		r.auditAction(ctx, auditBy(p, "retake_issue", "result", res.ID, res.UnitPath, ip, "person "+res.PersonID+" campaign "+cp.ID))
		v := retakeRecord(ac, false)
		return &v, nil
	}
	return nil, fmt.Errorf("could not draw a unique retake code")
}

func (r *Records) retakeAfter() time.Duration {
	if r.coolingOff > 0 {
		return r.coolingOff
	}
	return DefaultRetakeCoolingOff
}
