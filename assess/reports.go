package assess

import (
	"context"
	"errors"
	"math"
	"slices"
	"sort"
	"strings"

	"xinling/store"
)

// ClassProgress is how far one class is through a campaign.
type ClassProgress struct {
	UnitID     string `json:"unit_id"`
	Name       string `json:"name"`
	Finished   int    `json:"finished"`
	InProgress int    `json:"in_progress"`
	// NotStarted counts rostered students without a session; open
	// campaigns have no roster, so it is zero there.
	NotStarted int `json:"not_started"`
	// NotStartedNames is for school psychologists and above only.
	NotStartedNames []string `json:"not_started_names,omitempty"`
}

// canSeeNames: who may see students' names in progress lists.
func canSeeNames(p *Principal) bool {
	return p.Role == store.RoleAdmin || p.Role == store.RoleSchoolPsychologist || p.Role == store.RoleCounsellor
}

// campaignForReport loads a campaign that p may report on: one in p's
// subtree, or one of a school above p that screens p's units (a class
// teacher reports on their class of the school's campaign). Reports then
// keep to p's subtree.
func (c *Campaigns) campaignForReport(ctx context.Context, p *Principal, id string) (store.Campaign, error) {
	cp, err := c.store.GetCampaign(ctx, id)
	if err == nil && p.InScope(cp.UnitPath) {
		return cp, nil
	}
	if err == nil {
		ok, err := c.screensUnder(ctx, cp, p, map[string]string{})
		if err != nil {
			return store.Campaign{}, err
		}
		if ok {
			return cp, nil
		}
	}
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return store.Campaign{}, err
	}
	return store.Campaign{}, errorf(CodeNotFound, "", "no campaign %q", id)
}

// reportUnits lists the groups of a campaign that p may see: every class
// under the campaign's units, or a unit itself when it has no classes.
func (c *Campaigns) reportUnits(ctx context.Context, p *Principal, cp store.Campaign) ([]store.Unit, error) {
	var out []store.Unit
	seen := map[string]bool{}
	for _, uid := range cp.UnitIDs {
		u, err := c.store.GetUnit(ctx, uid)
		if err != nil {
			return nil, err
		}
		sub, err := c.store.ListUnits(ctx, u.Path)
		if err != nil {
			return nil, err
		}
		found := false
		for _, cl := range sub {
			if cl.Kind == "class" {
				found = true
				if p.InScope(cl.Path) && !seen[cl.ID] {
					seen[cl.ID] = true
					out = append(out, cl)
				}
			}
		}
		if !found && p.InScope(u.Path) && !seen[u.ID] {
			seen[u.ID] = true
			out = append(out, u)
		}
	}
	return out, nil
}

// Progress counts, per class of the campaign within p's subtree, who has
// finished, who is part way and who has not started.
func (c *Campaigns) Progress(ctx context.Context, p *Principal, id, ip string) ([]ClassProgress, error) {
	cp, err := c.campaignForReport(ctx, p, id)
	if err != nil {
		return nil, err
	}
	sessions, err := collect(func(pg store.Page) ([]store.Session, string, error) {
		return c.store.ListSessions(ctx, store.SessionFilter{CampaignID: cp.ID}, pg)
	})
	if err != nil {
		return nil, err
	}
	classes, err := c.reportUnits(ctx, p, cp)
	if err != nil {
		return nil, err
	}
	out := []ClassProgress{}
	for _, cl := range classes {
		pr := ClassProgress{UnitID: cl.ID, Name: cl.Name}
		started := map[string]bool{}
		for _, s := range sessions {
			if s.UnitID != cl.ID {
				continue
			}
			if s.State == store.SessionOpen {
				pr.InProgress++
			} else {
				pr.Finished++
			}
			started[s.PersonID] = true
		}
		if cp.Mode == "roster" {
			people, err := collect(func(pg store.Page) ([]store.Person, string, error) {
				return c.store.ListPersons(ctx, store.PersonFilter{UnitPath: cl.Path}, pg)
			})
			if err != nil {
				return nil, err
			}
			for _, person := range people {
				if person.Anonymised || started[person.ID] {
					continue
				}
				pr.NotStarted++
				if canSeeNames(p) {
					pr.NotStartedNames = append(pr.NotStartedNames, unseal(person.Name))
				}
			}
			sort.Strings(pr.NotStartedNames)
		}
		out = append(out, pr)
	}
	if canSeeNames(p) && cp.Mode == "roster" {
		// Names of pupils are personal data: reading them is audited.
		if err := c.auditDisclosure(ctx, auditBy(p, "read_progress", "campaign", cp.ID, cp.UnitPath, ip, "")); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// ScoreStats describes one score across a group.
type ScoreStats struct {
	Score string  `json:"score"`
	N     int     `json:"n"`
	Mean  float64 `json:"mean"`
	SD    float64 `json:"sd"`
	// Bands counts results per band code; nil counts are suppressed.
	Bands map[string]*int `json:"bands,omitempty"`
	// Suppressed: too few results for an aggregate-only role to see the
	// mean and SD, which would be one pupil's score.
	Suppressed bool `json:"suppressed,omitempty"`
}

// GroupReport is one unit's results for one instrument.
type GroupReport struct {
	UnitID     string       `json:"unit_id"`
	Name       string       `json:"name"`
	Instrument string       `json:"instrument"`
	Results    int          `json:"results"`
	Scores     []ScoreStats `json:"scores"`
	// Warnings counts the unit's queue entries from this campaign by level.
	Warnings map[string]*int `json:"warnings"`
}

// Report gives, for the unit and each unit below it that the campaign
// covers, every instrument's band distribution, mean and SD per score and
// warnings by level, so classes can be compared. Teachers and viewers get
// small counts suppressed, as in Summary; no report names anyone.
func (c *Campaigns) Report(ctx context.Context, p *Principal, id, unitID string) ([]GroupReport, error) {
	sc, err := c.reportScope(ctx, p, id, unitID, "")
	if err != nil {
		return nil, err
	}
	cp, top := sc.campaign, sc.top
	results, err := collect(func(pg store.Page) ([]store.Result, string, error) {
		return c.store.ListResults(ctx, store.ResultFilter{CampaignID: cp.ID, UnitPath: top.Path}, pg)
	})
	if err != nil {
		return nil, err
	}
	warnings, err := collect(func(pg store.Page) ([]store.Warning, string, error) {
		return c.store.ListWarnings(ctx, store.WarningFilter{UnitPath: top.Path}, pg)
	})
	if err != nil {
		return nil, err
	}
	campaignSessions := map[string]bool{}
	for _, r := range results {
		campaignSessions[r.SessionID] = true
	}
	units, err := c.store.ListUnits(ctx, top.Path)
	if err != nil {
		return nil, err
	}
	var out []GroupReport
	var raw []reportRow
	for _, u := range units {
		if u.ID != top.ID && u.Kind != "class" && u.Kind != "grade" {
			continue
		}
		byInst := map[string][]store.Result{}
		for _, r := range results {
			if strings.HasPrefix(r.UnitPath, u.Path) && !slices.Contains(r.Flags, FlagIncomplete) {
				byInst[r.Instrument] = append(byInst[r.Instrument], r)
			}
		}
		levels := map[string]int{"1": 0, "2": 0, "3": 0}
		for _, w := range warnings {
			if strings.HasPrefix(w.UnitPath, u.Path) && campaignSessions[w.SessionID] {
				levels[string(rune('0'+w.Level))]++
			}
		}
		insts := make([]string, 0, len(byInst))
		for inst := range byInst {
			insts = append(insts, inst)
		}
		sort.Strings(insts)
		for _, inst := range insts {
			g := GroupReport{UnitID: u.ID, Name: u.Name, Instrument: inst, Results: len(byInst[inst]), Warnings: visibleCounts(levels)}
			var bands map[string]map[string]int
			g.Scores, bands = scoreStats(byInst[inst])
			out = append(out, g)
			raw = append(raw, reportRow{path: u.Path, bands: bands, warnings: levels})
		}
	}
	if aggregateOnly(p) {
		protectReport(out, raw)
	}
	return out, nil
}

// scoreStats describes each score of a group, with every count visible,
// and returns the band counts for protectReport.
func scoreStats(rs []store.Result) ([]ScoreStats, map[string]map[string]int) {
	values := map[string][]float64{}
	bands := map[string]map[string]int{}
	for _, r := range rs {
		for s, v := range r.Scores {
			values[s] = append(values[s], v)
		}
		for s, b := range r.Bands {
			if bands[s] == nil {
				bands[s] = map[string]int{}
			}
			bands[s][b]++
		}
	}
	names := make([]string, 0, len(values))
	for s := range values {
		names = append(names, s)
	}
	sort.Strings(names)
	out := make([]ScoreStats, 0, len(names))
	for _, s := range names {
		vs := values[s]
		st := ScoreStats{Score: s, N: len(vs)}
		for _, v := range vs {
			st.Mean += v
		}
		st.Mean /= float64(len(vs))
		if len(vs) > 1 {
			var ss float64
			for _, v := range vs {
				ss += (v - st.Mean) * (v - st.Mean)
			}
			st.SD = math.Sqrt(ss / float64(len(vs)-1)) // sample SD
		}
		if b := bands[s]; b != nil {
			st.Bands = visibleCounts(b)
		}
		out = append(out, st)
	}
	return out, bands
}

// AuditExport records that p is exporting one of the campaign's tables. An
// error means the table must not be sent (see AuditDisclosure).
func (c *Campaigns) AuditExport(ctx context.Context, p *Principal, what, campaignID, ip string) error {
	return c.auditExport(ctx, p, what, campaignID, ip)
}
