package assess

import (
	"context"
	"errors"
	"slices"
	"time"

	"xinling/store"
)

// Follow-up screenings (issue 17). From a campaign's focus list (the
// pupils whose results there raised a warning) the psychologist creates a
// follow-up campaign, a month later by default: the same battery and
// classes, personal codes for those pupils only. Each pupil's follow-up
// result is compared with their result in the first campaign by reliable
// change (Jacobson & Truax), from the instrument document's statistics,
// as the person record's trends are.

// DefaultFollowUpAfter is when a follow-up screening opens, counted from
// its creation, unless a date is chosen; DefaultFollowUpWindow is how long
// it stays open.
const (
	DefaultFollowUpAfter  = 30 * 24 * time.Hour
	DefaultFollowUpWindow = 14 * 24 * time.Hour
)

// FollowUpRequest configures a follow-up campaign. Zero times take the
// defaults; PersonIDs, when given, choose some pupils of the focus list.
type FollowUpRequest struct {
	Name      string
	StartsAt  time.Time
	EndsAt    time.Time
	PersonIDs []string
}

// FollowUpCampaign is a created follow-up campaign.
type FollowUpCampaign struct {
	Campaign store.Campaign `json:"campaign"`
	Persons  int            `json:"persons"`
}

// focusList returns the pupils of a campaign whose results raised a queue
// entry, in the order of their first results.
func (sh *shared) focusList(ctx context.Context, cp store.Campaign) ([]string, error) {
	results, err := collect(func(pg store.Page) ([]store.Result, string, error) {
		return sh.store.ListResults(ctx, store.ResultFilter{CampaignID: cp.ID}, pg)
	})
	if err != nil {
		return nil, err
	}
	// Entry by entry of each pupil (not the school's subtree: an overdue
	// entry escalates to the unit above, and its pupil is still on the
	// list).
	ofResult := map[string]bool{}
	var pupils []string
	for _, r := range results {
		if r.PersonID != "" {
			ofResult[r.ID] = true
			if !slices.Contains(pupils, r.PersonID) {
				pupils = append(pupils, r.PersonID)
			}
		}
	}
	var out []string
	for _, person := range pupils {
		ws, err := collect(func(pg store.Page) ([]store.Warning, string, error) {
			return sh.store.ListWarnings(ctx, store.WarningFilter{PersonID: person}, pg)
		})
		if err != nil {
			return nil, err
		}
		if slices.ContainsFunc(ws, func(w store.Warning) bool {
			return slices.ContainsFunc(w.ResultIDs, func(id string) bool { return ofResult[id] })
		}) {
			out = append(out, person)
		}
	}
	return out, nil
}

// CreateFollowUp creates the follow-up campaign of a roster campaign's
// focus list, active from the start of its window, with a personal code
// for each pupil on it.
func (c *Campaigns) CreateFollowUp(ctx context.Context, p *Principal, sourceID string, in FollowUpRequest, ip string) (*FollowUpCampaign, error) {
	if err := canRunCampaigns(p); err != nil {
		return nil, err
	}
	src, err := c.Get(ctx, p, sourceID)
	if err != nil {
		return nil, err
	}
	if src.Mode != "roster" {
		return nil, errorf(CodeValidation, "", "a follow-up needs a roster campaign: an open campaign's results name no pupil")
	}
	focus, err := c.focusList(ctx, src)
	if err != nil {
		return nil, err
	}
	persons := focus
	if len(in.PersonIDs) > 0 {
		for _, id := range in.PersonIDs {
			if !slices.Contains(focus, id) {
				return nil, errorf(CodeValidation, "person_ids", "person %q is not on this campaign's focus list", id)
			}
		}
		persons = slices.Compact(slices.Clone(in.PersonIDs))
	}
	if len(persons) == 0 {
		return nil, errorf(CodeConflict, "", "nobody is on this campaign's focus list: no result raised a warning")
	}
	now := c.now()
	if in.StartsAt.IsZero() {
		in.StartsAt = now.Add(DefaultFollowUpAfter)
	}
	if in.EndsAt.IsZero() {
		in.EndsAt = in.StartsAt.Add(DefaultFollowUpWindow)
	}
	if !in.EndsAt.After(in.StartsAt) {
		return nil, errorf(CodeValidation, "ends_at", "the window must end after it starts")
	}
	if !in.EndsAt.After(now) {
		return nil, errorf(CodeValidation, "ends_at", "a follow-up screening must end in the future")
	}
	if in.Name == "" {
		in.Name = src.Name + "（复测）"
	}
	cp, err := c.store.CreateCampaign(ctx, store.Campaign{ID: store.NewID(), Name: in.Name, UnitID: src.UnitID, UnitIDs: src.UnitIDs,
		Battery: src.Battery, Mode: "roster", Visibility: src.Visibility, StartsAt: in.StartsAt, EndsAt: in.EndsAt,
		CreatedBy: p.StaffID, FollowUpOf: src.ID, CreatedAt: now, UpdatedAt: now})
	if err != nil {
		return nil, err
	}
	var units, ids []string
	for _, id := range persons {
		person, err := c.store.GetPerson(ctx, id)
		if err != nil {
			return nil, err
		}
		if person.Anonymised || person.UnitID == "" {
			continue // erased since: nobody to give a code to
		}
		units, ids = append(units, person.UnitID), append(ids, id)
	}
	if len(ids) > 0 {
		if _, err := c.issue(ctx, cp, units, ids); err != nil {
			return nil, err
		}
	}
	// Active at once: it opens by itself at StartsAt (Open refuses codes
	// before), so nobody has to remember it in a month.
	if cp, err = c.store.SetCampaignState(ctx, cp.ID, store.CampaignActive, now); err != nil {
		return nil, err
	}
	c.auditAction(ctx, auditBy(p, "campaign_follow_up", "campaign", cp.ID, cp.UnitPath, ip, "of "+src.ID))
	return &FollowUpCampaign{Campaign: cp, Persons: len(ids)}, nil
}

// Comparison is one pupil's follow-up result against their result in the
// first campaign, on the score the document's statistics name.
type Comparison struct {
	PersonID   string `json:"person_id"`
	Instrument string `json:"instrument"`
	Score      string `json:"score,omitempty"`
	// First is the pupil's result in the first campaign: the last valid
	// one (a retake replaces an invalid sitting), or the last one.
	First      string   `json:"first_result"`
	FirstScore *float64 `json:"first_score"`
	FollowUp   string   `json:"follow_up_result"`
	Score2     *float64 `json:"follow_up_score"`
	Delta      float64  `json:"delta"`
	RCI        *float64 `json:"rci"`
	Trend      string   `json:"trend"`
	// FirstInvalid: the baseline itself failed a validity check.
	FirstInvalid bool `json:"first_invalid,omitempty"`
	// StatisticsSource cites the figures the RCI used.
	StatisticsSource string `json:"statistics_source,omitempty"`
}

// baseline picks the result to compare with: the last valid one, else
// the last one.
func baseline(rs []store.Result) store.Result {
	for i := len(rs) - 1; i >= 0; i-- {
		if !Invalid(rs[i].Flags) && !slices.Contains(rs[i].Flags, FlagIncomplete) {
			return rs[i]
		}
	}
	return rs[len(rs)-1]
}

// compare pairs each follow-up result (oldest first) with the person's
// baseline of the same instrument in first; the latest follow-up per
// person and instrument wins.
func (sh *shared) compare(first, follow []store.Result) []Comparison {
	type key struct{ person, inst string }
	base := map[key][]store.Result{}
	for _, r := range first {
		k := key{r.PersonID, r.Instrument}
		base[k] = append(base[k], r)
	}
	latest := map[key]store.Result{}
	var order []key
	for _, r := range follow {
		if slices.Contains(r.Flags, FlagIncomplete) {
			continue
		}
		k := key{r.PersonID, r.Instrument}
		if _, ok := latest[k]; !ok {
			order = append(order, k)
		}
		if prev, ok := latest[k]; !ok || Invalid(prev.Flags) || !Invalid(r.Flags) {
			latest[k] = r
		}
	}
	out := []Comparison{}
	for _, k := range order {
		rs, ok := base[k]
		if !ok {
			continue
		}
		a, b := baseline(rs), latest[k]
		par, _ := statisticsFor(sh.lib, k.inst, b.Version)
		ch := reliableChange(par, a, b)
		c := Comparison{PersonID: k.person, Instrument: k.inst, First: a.ID, FollowUp: b.ID, Delta: ch.Delta, RCI: ch.RCI, Trend: ch.Trend,
			FirstInvalid: Invalid(a.Flags)}
		if par != nil {
			c.Score, c.StatisticsSource = par.Score, par.Source
			if v, ok := a.Scores[par.Score]; ok {
				c.FirstScore = &v
			}
			if v, ok := b.Scores[par.Score]; ok {
				c.Score2 = &v
			}
		}
		out = append(out, c)
	}
	return out
}

// FollowUpComparison compares every pupil's follow-up result in a
// follow-up campaign with their first result: individual results, so only
// the roles that keep records see them, and the read is audited.
func (r *Records) FollowUpComparison(ctx context.Context, p *Principal, campaignID, ip string) ([]Comparison, error) {
	if err := requireRecords(p); err != nil {
		return nil, err
	}
	cp, err := r.store.GetCampaign(ctx, campaignID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !p.InScope(cp.UnitPath)) {
		return nil, notFound("campaign", campaignID)
	}
	if err != nil {
		return nil, err
	}
	if cp.FollowUpOf == "" {
		return nil, errorf(CodeValidation, "", "campaign %s is not a follow-up screening", campaignID)
	}
	list := func(id string) ([]store.Result, error) {
		return collect(func(pg store.Page) ([]store.Result, string, error) {
			return r.store.ListResults(ctx, store.ResultFilter{CampaignID: id}, pg)
		})
	}
	first, err := list(cp.FollowUpOf)
	if err != nil {
		return nil, err
	}
	follow, err := list(cp.ID)
	if err != nil {
		return nil, err
	}
	out := r.compare(first, follow)
	if err := r.auditDisclosure(ctx, auditBy(p, "read_follow_up", "campaign", cp.ID, cp.UnitPath, ip, "")); err != nil {
		return nil, err
	}
	return out, nil
}

// followUpsOf compares the person's follow-up results with their first
// campaign's, from the results the reader may see.
func (r *Records) followUpsOf(ctx context.Context, shown []store.Result) ([]Comparison, error) {
	campaigns := map[string]store.Campaign{}
	byCampaign := map[string][]store.Result{}
	for _, res := range shown {
		if res.CampaignID == "" {
			continue
		}
		byCampaign[res.CampaignID] = append(byCampaign[res.CampaignID], res)
		if _, ok := campaigns[res.CampaignID]; ok {
			continue
		}
		cp, err := r.store.GetCampaign(ctx, res.CampaignID)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		campaigns[cp.ID] = cp
	}
	out := []Comparison{}
	for _, res := range shown {
		cp, ok := campaigns[res.CampaignID]
		if !ok || cp.FollowUpOf == "" || len(byCampaign[cp.ID]) == 0 {
			continue
		}
		out = append(out, r.compare(byCampaign[cp.FollowUpOf], byCampaign[cp.ID])...)
		byCampaign[cp.ID] = nil // once per follow-up campaign
	}
	return out, nil
}
