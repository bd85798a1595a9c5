package assess

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"time"

	"xinling/engine"
	"xinling/store"
)

// IndividualReport is one pupil's report of a screening: every result in
// words (each score's label, value, standing and what it means, from the
// exact document that scored it), whether it was invalid and why, and the
// most urgent warning level, from which the printed report says the
// school's next step. It names the pupil in full: only staff who may see
// individuals get it, and every print is audited.
type IndividualReport struct {
	Campaign ReportCampaign     `json:"campaign"`
	PersonID string             `json:"person_id"`
	Name     string             `json:"name"`
	Class    string             `json:"class"`
	Sex      string             `json:"sex"`
	Level    int                `json:"level"` // most urgent warning level, 0 for none
	Results  []IndividualResult `json:"results"`
}

// IndividualResult is one result of the pupil's.
type IndividualResult struct {
	Instrument     string         `json:"instrument"`
	Title          string         `json:"title"`
	At             time.Time      `json:"at"`
	Invalid        []string       `json:"invalid,omitempty"` // labels of the validity checks it failed
	Interpretation Interpretation `json:"interpretation"`
}

// MaxIndividualReports bounds one print: a school of up to a thousand
// pupils (about 0.5 s of rendering per 100 here); a larger one prints by
// grade or class.
const MaxIndividualReports = 1000

// IndividualReports builds the individual reports of a campaign's pupils
// in unitID's subtree (a class, usually), or of one person when personID
// is set, labelled in locale, ordered by class and name.
func (c *Campaigns) IndividualReports(ctx context.Context, p *Principal, id, unitID, personID, locale, ip string) ([]IndividualReport, error) {
	if !canSeeNames(p) {
		return nil, errorf(CodeForbidden, "", "individual reports are for staff who may see individuals")
	}
	sc, err := c.reportScope(ctx, p, id, unitID, locale)
	if err != nil {
		return nil, err
	}
	cp, top, unitByID, locale := sc.campaign, sc.top, sc.unitByID, sc.locale
	campaign := reportCampaign(cp)
	reports := map[string]*IndividualReport{}
	var order []string
	docs := map[string]*engine.Instrument{}
	err = eachPage(func(pg store.Page) ([]store.Result, string, error) {
		return c.store.ListResults(ctx, store.ResultFilter{CampaignID: cp.ID, UnitPath: top.Path, PersonID: personID}, pg)
	}, func(r store.Result) {
		if r.PersonID == "" || slices.Contains(r.Flags, FlagIncomplete) {
			return
		}
		rep := reports[r.PersonID]
		if rep == nil {
			rep = &IndividualReport{Campaign: campaign, PersonID: r.PersonID, Class: c.unitName(unitByID, r.UnitID)}
			reports[r.PersonID] = rep
			order = append(order, r.PersonID)
		}
		in := c.instrumentOf(docs, r.Instrument, r.Version)
		res := IndividualResult{Instrument: r.Instrument, Title: instrumentTitle(in, r.Instrument, locale), At: r.CreatedAt}
		for _, f := range r.Flags {
			res.Invalid = append(res.Invalid, checkLabel(in, f, locale))
		}
		if words, err := InterpretStored(c.lib, r, locale); err == nil {
			res.Interpretation = words
		}
		var payload reportPayload
		_ = json.Unmarshal(r.Payload, &payload)
		for _, w := range payload.Warnings {
			if w.Level > 0 && (rep.Level == 0 || w.Level < rep.Level) {
				rep.Level = w.Level
			}
		}
		rep.Results = append(rep.Results, res)
	})
	if err != nil {
		return nil, err
	}
	if len(order) > MaxIndividualReports {
		return nil, errorf(CodeValidation, "unit", "%d pupils are more than one print holds (%d): print class by class", len(order), MaxIndividualReports)
	}
	if personID != "" && len(order) == 0 {
		return nil, errorf(CodeNotFound, "person", "no result of person %q in this campaign", personID)
	}
	out := make([]IndividualReport, 0, len(order))
	for _, pid := range order {
		rep := reports[pid]
		person, err := c.store.GetPerson(ctx, pid)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
		rep.Name, rep.Sex = unseal(person.Name), person.Sex
		if rep.Name == "" {
			rep.Name = "—" // an erased or anonymous person
		}
		sort.SliceStable(rep.Results, func(i, j int) bool { return rep.Results[i].At.Before(rep.Results[j].At) })
		out = append(out, *rep)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Class != out[j].Class {
			return out[i].Class < out[j].Class
		}
		return out[i].Name < out[j].Name
	})
	// One audit row names the campaign and how many pupils were printed;
	// a single pupil's print names the pupil.
	target, what := cp.ID, fmt.Sprintf("individual_reports:%d", len(out))
	if personID != "" {
		target, what = personID, "individual_report"
	}
	if err := c.auditDisclosure(ctx, auditBy(p, "export", what, target, top.Path, ip, cp.ID)); err != nil {
		return nil, err
	}
	return out, nil
}
