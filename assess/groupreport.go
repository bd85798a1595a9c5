package assess

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"xinling/engine"
	"xinling/store"
)

// The group report of a campaign (issue 17): what a school psychologist
// hands the principal after a whole-school screening (心理普测), for the
// school, a grade or a class. It is one plain struct, so that the console,
// the workbook and a printed report all show the same figures.
//
// What counts where:
//   - A participant is a rostered person (or, without a person, a session).
//     Started: has a session; finished: a submitted session with at least
//     one complete result; valid: finished and no result flagged by its
//     document's validity checks; invalid: finished with a flagged result.
//   - Warning levels count participants by the most urgent warning any of
//     their results raised, flagged results too: a risk answer is never
//     hidden because the answers around it were careless.
//   - Band distributions, means, SDs and norms count valid results only
//     (no validity flag, not incomplete); invalid ones are listed apart.
//   - Suicide items count every result that fired one of the document's
//     suicide rules (engine.Instrument.SuicideRules), flagged or not.
//
// It is computed in one pass over each list, page by page, keeping per
// participant a few fields and per group running sums (Welford), never the
// results themselves: a county's 50,000 results are not held at once.

// CampaignReport is the group report of a campaign for one unit.
type CampaignReport struct {
	Campaign    ReportCampaign `json:"campaign"`
	Unit        ReportUnit     `json:"unit"`
	Locale      string         `json:"locale"`
	GeneratedAt time.Time      `json:"generated_at"`
	// Aggregate is true for teachers and viewers: small counts are
	// suppressed (nil, shown as "<5") and there are no appendices.
	Aggregate     bool            `json:"aggregate"`
	Participation Participation   `json:"participation"`
	Levels        LevelCounts     `json:"levels"`
	Instruments   []InstrumentTab `json:"instruments"`
	// Classes is the class × level table: one row per class (or per unit
	// when the campaign's units have no classes).
	Classes []GroupRow   `json:"classes"`
	ByGrade []GroupRow   `json:"by_grade"`
	BySex   []GroupRow   `json:"by_sex"`
	Suicide []SuicideTab `json:"suicide"`
	// Appendices are for staff who may see individuals (canSeeNames); nil
	// for everyone else.
	Appendices *Appendices `json:"appendices,omitempty"`
}

// ReportCampaign is the campaign a report is of.
type ReportCampaign struct {
	ID       string    `json:"id"`
	Name     string    `json:"name"`
	Mode     string    `json:"mode"`
	State    string    `json:"state"`
	StartsAt time.Time `json:"starts_at"`
	EndsAt   time.Time `json:"ends_at"`
}

// ReportUnit is the unit a report covers.
type ReportUnit struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Kind string `json:"kind"`
}

// Participation counts the unit's participants. Roster is 0 for a campaign
// without a roster (class codes).
type Participation struct {
	Roster   int  `json:"roster"`
	Started  int  `json:"started"`
	Finished int  `json:"finished"`
	Valid    *int `json:"valid"`
	Invalid  *int `json:"invalid"`
	// InvalidReasons counts flagged results by the check that failed.
	InvalidReasons []InvalidReason `json:"invalid_reasons"`
}

// InvalidReason is one validity check of one instrument, with how many
// results it flagged.
type InvalidReason struct {
	Instrument      string `json:"instrument"`
	InstrumentTitle string `json:"instrument_title"`
	Check           string `json:"check"`
	Label           string `json:"label"`
	Count           *int   `json:"count"`
}

// LevelCounts counts participants by their most urgent warning level.
type LevelCounts struct {
	L1   *int `json:"l1"`
	L2   *int `json:"l2"`
	L3   *int `json:"l3"`
	None *int `json:"none"`
}

// InstrumentTab is one instrument's figures over the unit's valid results.
type InstrumentTab struct {
	Instrument string     `json:"instrument"`
	Title      string     `json:"title"`
	Results    int        `json:"results"` // valid results
	Invalid    *int       `json:"invalid"` // flagged results, left out of the figures below
	Scores     []ScoreTab `json:"scores"`
}

// ScoreTab is one score: its band distribution, mean and SD, and its
// standing against the document's norms when it has some.
type ScoreTab struct {
	Score string      `json:"score"`
	Label string      `json:"label"`
	N     int         `json:"n"`
	Mean  *float64    `json:"mean"`
	SD    *float64    `json:"sd"`
	Bands []BandTally `json:"bands"`
	Norms *NormTab    `json:"norms,omitempty"`
}

// BandTally is one band of a score, in the document's order.
type BandTally struct {
	Code  string `json:"code"`
	Label string `json:"label"`
	// Level is the warning level the band raises, 0 for none.
	Level int  `json:"level"`
	Count *int `json:"count"`
}

// NormTab places a group against the document's norms: the mean and SD
// of its T-scores (the reference group is 50 and 10), the mean percentile
// where the norms give percentiles, and how many stand a standard
// deviation or two above the reference mean.
type NormTab struct {
	N              int      `json:"n"`
	Groups         []string `json:"groups"` // reference groups used, labelled
	MeanT          *float64 `json:"mean_t"`
	SDT            *float64 `json:"sd_t"`
	MeanPercentile *float64 `json:"mean_percentile,omitempty"`
	AtLeastT60     *int     `json:"t60"`
	AtLeastT70     *int     `json:"t70"`
}

// GroupRow is one class, grade or sex: its participants by level and its
// valid results' score means.
type GroupRow struct {
	Key      string      `json:"key"` // unit id, or m / f / "" for sex
	Name     string      `json:"name"`
	Finished int         `json:"finished"`
	Levels   LevelCounts `json:"levels"`
	Scores   []GroupMean `json:"scores"`
}

// GroupMean is one score's mean in a group.
type GroupMean struct {
	Instrument string   `json:"instrument"`
	Score      string   `json:"score"`
	N          int      `json:"n"`
	Mean       *float64 `json:"mean"`
	SD         *float64 `json:"sd"`
}

// SuicideTab counts an instrument's positive suicide items on their own.
type SuicideTab struct {
	Instrument string `json:"instrument"`
	Title      string `json:"title"`
	Results    int    `json:"results"`
	// Positive counts results that fired any of the rules.
	Positive *int          `json:"positive"`
	Rules    []SuicideRule `json:"rules"`
}

// SuicideRule is one suicide rule of the document, labelled by the reason
// it gives ("第 9 题阳性：…").
type SuicideRule struct {
	Rule     string `json:"rule"`
	Label    string `json:"label"`
	Positive *int   `json:"positive"`
}

// Appendices list individuals, names masked (张**).
type Appendices struct {
	Focus           []FocusRow          `json:"focus"`
	Invalid         []InvalidRow        `json:"invalid"`
	NonParticipants []NonParticipantRow `json:"non_participants"`
}

// FocusRow is one queue entry of the campaign (重点关注名单).
type FocusRow struct {
	WarningID string             `json:"warning_id"`
	PersonID  string             `json:"person_id,omitempty"`
	Name      string             `json:"name"` // masked
	Class     string             `json:"class"`
	Sex       string             `json:"sex"`
	Level     int                `json:"level"`
	Reasons   []string           `json:"reasons"`
	State     store.WarningState `json:"state"`
	CreatedAt time.Time          `json:"created_at"`
}

// InvalidRow is one result flagged by its validity checks.
type InvalidRow struct {
	ResultID   string    `json:"result_id"`
	PersonID   string    `json:"person_id,omitempty"`
	Name       string    `json:"name"`
	Class      string    `json:"class"`
	Sex        string    `json:"sex"`
	Instrument string    `json:"instrument"`
	Title      string    `json:"title"`
	Checks     []string  `json:"checks"` // labels of the failed checks
	At         time.Time `json:"at"`
}

// NonParticipantRow is a rostered person with no session, and the reason
// the school wrote.
type NonParticipantRow struct {
	PersonID  string    `json:"person_id"`
	Name      string    `json:"name"`
	Class     string    `json:"class"`
	Sex       string    `json:"sex"`
	Reason    string    `json:"reason"`
	UpdatedAt time.Time `json:"updated_at,omitzero"`
}

// ReportLocales are the locales a report is labelled in.
var ReportLocales = []string{"zh-CN", "en"}

// CodeLocaleUnknown refuses a report in a locale instruments are not
// written in.
const CodeLocaleUnknown = "locale_unknown"

// moments is a running mean and variance (Welford), so a group's SD needs
// no list of its values.
type moments struct {
	n        int
	mean, m2 float64
}

func (m *moments) add(v float64) {
	m.n++
	d := v - m.mean
	m.mean += d / float64(m.n)
	m.m2 += d * (v - m.mean)
}

func (m moments) sd() float64 {
	if m.n < 2 {
		return 0
	}
	return math.Sqrt(m.m2 / float64(m.n-1)) // sample SD
}

func round2(v float64) *float64 {
	r := math.Round(v*100) / 100
	return &r
}

func intp(n int) *int { return &n }

// reportPayload is the part of a stored engine result the report reads:
// decoding only it, not the bands' labels and feedback, keeps the pass over
// a county's results cheap.
type reportPayload struct {
	Warnings []struct {
		Level int    `json:"level"`
		Rule  string `json:"rule"`
	} `json:"warnings"`
	Norms []engine.NormResult `json:"norms"`
}

// participant is what the report keeps of one person (or anonymous
// session) while it reads the lists.
type participant struct {
	unitID   string
	sex      string
	personID string
	finished bool
	flagged  bool // a finished result was flagged
	clean    bool // a finished session had no flagged result
	level    int  // most urgent warning level, 0 for none
}

type scoreAcc struct {
	m      moments
	bands  map[string]int
	t      moments
	pct    moments
	t60    int
	t70    int
	groups []string
	normed bool
}

type instAcc struct {
	valid, invalid int
	scores         map[string]*scoreAcc
	suicideN       int
	suicideAny     int
	suicideRule    map[string]int
	checks         map[string]int
}

type groupAcc struct {
	finished int
	levels   [4]int
	scores   map[string]*moments // instrument + "\x00" + score
}

func (g *groupAcc) score(inst, score string) *moments {
	if g.scores == nil {
		g.scores = map[string]*moments{}
	}
	k := inst + "\x00" + score
	if g.scores[k] == nil {
		g.scores[k] = &moments{}
	}
	return g.scores[k]
}

// reportCampaign is the campaign a report names.
func reportCampaign(cp store.Campaign) ReportCampaign {
	return ReportCampaign{ID: cp.ID, Name: cp.Name, Mode: cp.Mode, State: string(cp.State), StartsAt: cp.StartsAt, EndsAt: cp.EndsAt}
}

// reportScope is what a report covers: the campaign, the unit it is of
// (unitID, else the campaign's unit, else a teacher's own class), the
// units under it by id, and the locale it is labelled in.
type reportScope struct {
	campaign store.Campaign
	top      store.Unit
	unitByID map[string]store.Unit
	locale   string
}

// reportScope checks a report's locale, campaign and unit for p.
func (c *Campaigns) reportScope(ctx context.Context, p *Principal, id, unitID, locale string) (reportScope, error) {
	var sc reportScope
	if locale == "" {
		locale = ReportLocales[0]
	}
	if !slices.Contains(ReportLocales, locale) {
		return sc, errorf(CodeLocaleUnknown, "locale", "a report is written in zh-CN or en, not %q", locale)
	}
	cp, err := c.campaignForReport(ctx, p, id)
	if err != nil {
		return sc, err
	}
	if unitID == "" {
		unitID = cp.UnitID
		if !p.InScope(cp.UnitPath) {
			unitID = p.UnitID // a teacher's own class
		}
	}
	top, err := unitIn(ctx, c.store, p, unitID, "unit")
	if err != nil {
		return sc, err
	}
	if !strings.HasPrefix(top.Path, cp.UnitPath) && !strings.HasPrefix(cp.UnitPath, top.Path) {
		return sc, errorf(CodeNotFound, "unit", "the campaign does not cover unit %q", unitID)
	}
	units, err := c.store.ListUnits(ctx, top.Path)
	if err != nil {
		return sc, err
	}
	sc = reportScope{campaign: cp, top: top, unitByID: make(map[string]store.Unit, len(units)), locale: locale}
	for _, u := range units {
		sc.unitByID[u.ID] = u
	}
	return sc, nil
}

// GroupReport builds the group report of campaign id for unitID (the
// campaign's unit, or the teacher's class, when empty), labelled in
// locale. Staff who may see individuals get the appendices, and reading
// them is audited as a disclosure.
func (c *Campaigns) GroupReport(ctx context.Context, p *Principal, id, unitID, locale, ip string) (*CampaignReport, error) {
	sc, err := c.reportScope(ctx, p, id, unitID, locale)
	if err != nil {
		return nil, err
	}
	cp, top, unitByID, locale := sc.campaign, sc.top, sc.unitByID, sc.locale
	rep := &CampaignReport{
		Campaign: reportCampaign(cp),
		Unit:     ReportUnit{ID: top.ID, Name: top.Name, Kind: top.Kind},
		Locale:   locale, GeneratedAt: c.now(), Aggregate: aggregateOnly(p),
	}
	names := canSeeNames(p)

	// Sessions: who started, in which class, of which sex.
	people := map[string]*participant{}
	sessionKey := map[string]string{} // session id → participant key
	err = eachPage(func(pg store.Page) ([]store.Session, string, error) {
		return c.store.ListSessions(ctx, store.SessionFilter{CampaignID: cp.ID, UnitPath: top.Path}, pg)
	}, func(s store.Session) {
		if s.State == store.SessionPurged {
			return
		}
		key := s.PersonID
		if key == "" {
			key = "s:" + s.ID
		}
		sessionKey[s.ID] = key
		pt := people[key]
		if pt == nil {
			pt = &participant{unitID: s.UnitID, sex: s.Sex, personID: s.PersonID}
			people[key] = pt
		}
	})
	if err != nil {
		return nil, err
	}

	// Results: one pass, page by page.
	classes := map[string]*groupAcc{}
	grades := map[string]*groupAcc{}
	sexes := map[string]*groupAcc{}
	insts := map[string]*instAcc{}
	docs := map[string]*engine.Instrument{} // by id and version
	sessionFlagged := map[string]bool{}
	sessionFinished := map[string]bool{}
	var invalidRows []InvalidRow
	err = eachPage(func(pg store.Page) ([]store.Result, string, error) {
		return c.store.ListResults(ctx, store.ResultFilter{CampaignID: cp.ID, UnitPath: top.Path}, pg)
	}, func(r store.Result) {
		key, ok := sessionKey[r.SessionID]
		if !ok {
			return
		}
		pt := people[key]
		in := c.instrumentOf(docs, r.Instrument, r.Version)
		var payload reportPayload
		_ = json.Unmarshal(r.Payload, &payload) // a result without a payload still counts by its scores and bands
		for _, w := range payload.Warnings {
			if w.Level > 0 && (pt.level == 0 || w.Level < pt.level) {
				pt.level = w.Level
			}
		}
		acc := insts[r.Instrument]
		if acc == nil {
			acc = &instAcc{scores: map[string]*scoreAcc{}, suicideRule: map[string]int{}, checks: map[string]int{}}
			insts[r.Instrument] = acc
		}
		if in != nil {
			if rules := in.SuicideRules(); len(rules) > 0 {
				acc.suicideN++
				hit := false
				for _, w := range payload.Warnings {
					if slices.Contains(rules, w.Rule) {
						acc.suicideRule[w.Rule]++
						hit = true
					}
				}
				if hit {
					acc.suicideAny++
				}
			}
		}
		if slices.Contains(r.Flags, FlagIncomplete) {
			return
		}
		sessionFinished[r.SessionID] = true
		pt.finished = true
		var checks []string
		for _, f := range r.Flags {
			checks = append(checks, f)
			acc.checks[f]++
		}
		if len(checks) > 0 {
			acc.invalid++
			sessionFlagged[r.SessionID] = true
			pt.flagged = true
			if names {
				labels := make([]string, len(checks))
				for i, f := range checks {
					labels[i] = checkLabel(in, f, locale)
				}
				invalidRows = append(invalidRows, InvalidRow{ResultID: r.ID, PersonID: r.PersonID, Class: c.unitName(unitByID, r.UnitID),
					Sex: pt.sex, Instrument: r.Instrument, Title: instrumentTitle(in, r.Instrument, locale), Checks: labels, At: r.CreatedAt})
			}
			return
		}
		acc.valid++
		for s, v := range r.Scores {
			sa := acc.scores[s]
			if sa == nil {
				sa = &scoreAcc{bands: map[string]int{}}
				acc.scores[s] = sa
			}
			sa.m.add(v)
			if b, ok := r.Bands[s]; ok {
				sa.bands[b]++
			}
			for _, g := range []*groupAcc{group(classes, pt.unitID), group(grades, c.gradeOf(unitByID, pt.unitID)), group(sexes, pt.sex)} {
				g.score(r.Instrument, s).add(v)
			}
		}
		for _, nr := range payload.Norms {
			sa := acc.scores[nr.Score]
			if sa == nil {
				continue
			}
			sa.normed = true
			sa.t.add(nr.T)
			if nr.T >= 60 {
				sa.t60++
			}
			if nr.T >= 70 {
				sa.t70++
			}
			if nr.Percentile != nil {
				sa.pct.add(*nr.Percentile)
			}
			if g := nr.Group.Get(locale); g != "" && !slices.Contains(sa.groups, g) {
				sa.groups = append(sa.groups, g)
			}
		}
	})
	if err != nil {
		return nil, err
	}
	// A participant is valid when one finished session of theirs had no
	// flagged result (a clean retake counts).
	for sid, key := range sessionKey {
		if sessionFinished[sid] && !sessionFlagged[sid] {
			people[key].clean = true
		}
	}

	// Participants by level, per class, grade and sex; the groups' score
	// means were summed during the pass over the results.
	total := &groupAcc{}
	started, finished, valid, invalid := len(people), 0, 0, 0
	for _, pt := range people {
		if !pt.finished {
			continue
		}
		finished++
		if pt.clean {
			valid++
		} else {
			invalid++
		}
		li := levelIndex(pt.level)
		for _, g := range []*groupAcc{total, group(classes, pt.unitID), group(grades, c.gradeOf(unitByID, pt.unitID)), group(sexes, pt.sex)} {
			g.finished++
			g.levels[li]++
		}
	}

	// Roster: who should have taken part, and who did not.
	var absent []store.Person
	if cp.Mode == "roster" {
		paths, err := c.rosterPaths(ctx, cp, top)
		if err != nil {
			return nil, err
		}
		for _, path := range paths {
			err = eachPage(func(pg store.Page) ([]store.Person, string, error) {
				return c.store.ListPersons(ctx, store.PersonFilter{UnitPath: path}, pg)
			}, func(person store.Person) {
				if person.Anonymised {
					return
				}
				rep.Participation.Roster++
				if people[person.ID] == nil && names {
					absent = append(absent, person)
				}
			})
			if err != nil {
				return nil, err
			}
		}
	}

	// Empty lists are [] in JSON, never null, so every reader can iterate.
	rep.Participation.InvalidReasons, rep.Instruments, rep.Suicide = []InvalidReason{}, []InstrumentTab{}, []SuicideTab{}
	rep.Participation.Started, rep.Participation.Finished = started, finished
	rep.Participation.Valid, rep.Participation.Invalid = intp(valid), intp(invalid)
	rep.Levels = levelCounts(total.levels)

	// Instruments in the campaign's battery order, then any other.
	order := slices.Clone(cp.Battery)
	var extra []string
	for id := range insts {
		if !slices.Contains(order, id) {
			extra = append(extra, id)
		}
	}
	sort.Strings(extra)
	order = append(order, extra...)
	for _, id := range order {
		acc := insts[id]
		if acc == nil {
			continue
		}
		in := c.latestDoc(docs, id)
		title := instrumentTitle(in, id, locale)
		tab := InstrumentTab{Instrument: id, Title: title, Results: acc.valid, Invalid: intp(acc.invalid), Scores: []ScoreTab{}}
		for _, sid := range scoreOrder(in, acc) {
			sa := acc.scores[sid]
			st := ScoreTab{Score: sid, Label: scoreLabel(in, sid, locale), N: sa.m.n, Mean: round2(sa.m.mean), SD: round2(sa.m.sd())}
			st.Bands = bandTallies(in, sid, sa.bands, locale)
			if sa.normed {
				nt := &NormTab{N: sa.t.n, Groups: append([]string{}, sa.groups...), MeanT: round2(sa.t.mean), SDT: round2(sa.t.sd()), AtLeastT60: intp(sa.t60), AtLeastT70: intp(sa.t70)}
				if sa.pct.n > 0 {
					nt.MeanPercentile = round2(sa.pct.mean)
				}
				st.Norms = nt
			}
			tab.Scores = append(tab.Scores, st)
		}
		rep.Instruments = append(rep.Instruments, tab)
		checks := make([]string, 0, len(acc.checks))
		for k := range acc.checks {
			checks = append(checks, k)
		}
		sort.Strings(checks)
		for _, k := range checks {
			rep.Participation.InvalidReasons = append(rep.Participation.InvalidReasons,
				InvalidReason{Instrument: id, InstrumentTitle: title, Check: k, Label: checkLabel(in, k, locale), Count: intp(acc.checks[k])})
		}
		if in != nil && len(in.SuicideRules()) > 0 && acc.suicideN > 0 {
			st := SuicideTab{Instrument: id, Title: title, Results: acc.suicideN, Positive: intp(acc.suicideAny), Rules: []SuicideRule{}}
			for _, rule := range in.SuicideRules() {
				st.Rules = append(st.Rules, SuicideRule{Rule: rule, Label: ruleLabel(in, rule, locale), Positive: intp(acc.suicideRule[rule])})
			}
			rep.Suicide = append(rep.Suicide, st)
		}
	}

	rep.Classes = c.groupRows(classes, unitByID, func(id string) string { return unitByID[id].Path })
	rep.ByGrade = c.groupRows(grades, unitByID, func(id string) string { return unitByID[id].Path })
	rep.BySex = c.groupRows(sexes, nil, func(id string) string {
		return map[string]string{"f": "0", "m": "1"}[id] + id // f, m, then not given
	})
	for i := range rep.BySex {
		rep.BySex[i].Name = ReportLabelsFor(locale).SexLabel(rep.BySex[i].Key)
	}

	if rep.Aggregate {
		protectGroupReport(rep)
		return rep, nil
	}
	if !names {
		return rep, nil
	}
	app, err := c.appendices(ctx, cp, top, unitByID, sessionKey, people, invalidRows, absent, locale)
	if err != nil {
		return nil, err
	}
	rep.Appendices = app
	// The appendices name pupils (masked) and their warnings: a staff read
	// of persons' records, audited before it is returned.
	detail := "focus " + strconv.Itoa(len(app.Focus)) + ", invalid " + strconv.Itoa(len(app.Invalid)) + ", non-participants " + strconv.Itoa(len(app.NonParticipants))
	if err := c.auditDisclosure(ctx, auditBy(p, "read_group_report", "campaign", cp.ID, top.Path, ip, detail)); err != nil {
		return nil, err
	}
	return rep, nil
}

// rosterPaths are the subtrees whose pupils are on the campaign's roster
// within top: each of the campaign's units inside top, or top itself when
// it lies inside one of them (a class of a grade-wide campaign).
func (c *Campaigns) rosterPaths(ctx context.Context, cp store.Campaign, top store.Unit) ([]string, error) {
	var out []string
	for _, id := range cp.UnitIDs {
		u, err := c.store.GetUnit(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		switch {
		case strings.HasPrefix(top.Path, u.Path):
			return []string{top.Path}, nil
		case strings.HasPrefix(u.Path, top.Path) && !slices.ContainsFunc(out, func(p string) bool { return strings.HasPrefix(u.Path, p) }):
			out = append(out, u.Path)
		}
	}
	// A unit listed with one of its ancestors is read once, under it.
	all := slices.Clone(out)
	return slices.DeleteFunc(out, func(p string) bool {
		return slices.ContainsFunc(all, func(q string) bool { return q != p && strings.HasPrefix(p, q) })
	}), nil
}

// appendices lists the focus list, the invalid results and the
// non-participants with their reasons, names masked.
func (c *Campaigns) appendices(ctx context.Context, cp store.Campaign, top store.Unit, unitByID map[string]store.Unit,
	sessionKey map[string]string, people map[string]*participant, invalid []InvalidRow, absent []store.Person, locale string) (*Appendices, error) {
	app := &Appendices{Focus: []FocusRow{}, Invalid: []InvalidRow{}, NonParticipants: []NonParticipantRow{}}
	persons := map[string]store.Person{}
	person := func(id string) (store.Person, error) {
		if id == "" {
			return store.Person{}, nil
		}
		if p, ok := persons[id]; ok {
			return p, nil
		}
		p, err := c.store.GetPerson(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			err = nil
		}
		persons[id] = p
		return p, err
	}
	err := eachPage(func(pg store.Page) ([]store.Warning, string, error) {
		return c.store.ListWarnings(ctx, store.WarningFilter{UnitPath: top.Path}, pg)
	}, func(w store.Warning) {
		key, ok := sessionKey[w.SessionID]
		if !ok {
			return
		}
		row := FocusRow{WarningID: w.ID, PersonID: w.PersonID, Class: c.unitName(unitByID, w.UnitID), Sex: people[key].sex,
			Level: w.Level, State: w.State, CreatedAt: w.CreatedAt, Reasons: []string{}}
		for _, r := range w.Reasons {
			t := r.Text[locale]
			if t == "" {
				t = r.Text[ReportLocales[0]]
			}
			if t != "" && !slices.Contains(row.Reasons, t) {
				row.Reasons = append(row.Reasons, t)
			}
		}
		app.Focus = append(app.Focus, row)
	})
	if err != nil {
		return nil, err
	}
	for i := range app.Focus {
		p, err := person(app.Focus[i].PersonID)
		if err != nil {
			return nil, err
		}
		app.Focus[i].Name = MaskName(unseal(p.Name))
	}
	sort.SliceStable(app.Focus, func(i, j int) bool {
		a, b := app.Focus[i], app.Focus[j]
		if a.Level != b.Level {
			return a.Level < b.Level
		}
		return a.Class < b.Class
	})
	for _, row := range invalid {
		p, err := person(row.PersonID)
		if err != nil {
			return nil, err
		}
		row.Name = MaskName(unseal(p.Name))
		app.Invalid = append(app.Invalid, row)
	}
	reasons, err := c.store.ListAbsences(ctx, store.AbsenceFilter{CampaignID: cp.ID, UnitPath: top.Path})
	if err != nil {
		return nil, err
	}
	why := make(map[string]store.Absence, len(reasons))
	for _, a := range reasons {
		why[a.PersonID] = a
	}
	for _, p := range absent {
		row := NonParticipantRow{PersonID: p.ID, Name: MaskName(unseal(p.Name)), Class: c.unitName(unitByID, p.UnitID), Sex: p.Sex}
		if a, ok := why[p.ID]; ok {
			row.Reason, row.UpdatedAt = unseal(a.Reason), a.UpdatedAt
		}
		app.NonParticipants = append(app.NonParticipants, row)
	}
	sort.SliceStable(app.NonParticipants, func(i, j int) bool { return app.NonParticipants[i].Class < app.NonParticipants[j].Class })
	return app, nil
}

// MaskName keeps a name's first character and masks the rest (张** for
// 张小明), as lists handed round a school print them.
func MaskName(name string) string {
	n := utf8.RuneCountInString(name)
	if n == 0 {
		return "—"
	}
	r, _ := utf8.DecodeRuneInString(name)
	if n == 1 {
		return "*"
	}
	return string(r) + strings.Repeat("*", n-1)
}

// eachPage pages through a store list, handing each item to fn, so only a
// page is held at a time.
func eachPage[T any](list func(store.Page) ([]T, string, error), fn func(T)) error {
	pg := store.Page{Limit: store.MaxLimit}
	for {
		items, next, err := list(pg)
		if err != nil {
			return err
		}
		for _, it := range items {
			fn(it)
		}
		if next == "" || len(items) == 0 {
			return nil
		}
		pg.After = next
	}
}

func group(m map[string]*groupAcc, key string) *groupAcc {
	g := m[key]
	if g == nil {
		g = &groupAcc{}
		m[key] = g
	}
	return g
}

// levelIndex: 0..2 for levels 1..3, 3 for no warning.
func levelIndex(level int) int {
	if level >= 1 && level <= 3 {
		return level - 1
	}
	return 3
}

func levelCounts(l [4]int) LevelCounts {
	return LevelCounts{L1: intp(l[0]), L2: intp(l[1]), L3: intp(l[2]), None: intp(l[3])}
}

func (c *Campaigns) unitName(units map[string]store.Unit, id string) string {
	if u, ok := units[id]; ok {
		return u.Name
	}
	return ""
}

// gradeOf is the grade a class belongs to: its parent when that is a
// grade, else the class itself (a school without grade units).
func (c *Campaigns) gradeOf(units map[string]store.Unit, classID string) string {
	u, ok := units[classID]
	if !ok {
		return classID
	}
	if u.Kind == "grade" {
		return u.ID
	}
	if parent, ok := units[u.ParentID]; ok && parent.Kind == "grade" {
		return parent.ID
	}
	return ""
}

// groupRows turns group accumulators into rows ordered by sortKey.
func (c *Campaigns) groupRows(groups map[string]*groupAcc, units map[string]store.Unit, sortKey func(string) string) []GroupRow {
	keys := make([]string, 0, len(groups))
	for k, g := range groups {
		if g.finished > 0 || len(g.scores) > 0 {
			keys = append(keys, k)
		}
	}
	if units != nil {
		// A group with no unit (a school without grades) has no row.
		keys = slices.DeleteFunc(keys, func(k string) bool { _, ok := units[k]; return !ok })
	}
	sort.Slice(keys, func(i, j int) bool { return sortKey(keys[i]) < sortKey(keys[j]) })
	rows := make([]GroupRow, 0, len(keys))
	for _, k := range keys {
		g := groups[k]
		row := GroupRow{Key: k, Finished: g.finished, Levels: levelCounts(g.levels), Scores: []GroupMean{}}
		if units != nil {
			row.Name = units[k].Name
		}
		sk := make([]string, 0, len(g.scores))
		for s := range g.scores {
			sk = append(sk, s)
		}
		sort.Strings(sk)
		for _, s := range sk {
			inst, score, _ := strings.Cut(s, "\x00")
			m := g.scores[s]
			row.Scores = append(row.Scores, GroupMean{Instrument: inst, Score: score, N: m.n, Mean: round2(m.mean), SD: round2(m.sd())})
		}
		rows = append(rows, row)
	}
	return rows
}

// instrumentOf returns the document of a result's version, or nil when
// this server has no such version (its labels then fall back).
func (c *Campaigns) instrumentOf(cache map[string]*engine.Instrument, id, version string) *engine.Instrument {
	k := id + "@" + version
	if in, ok := cache[k]; ok {
		return in
	}
	in, ok := c.lib.Get(id, version)
	if !ok {
		in, _ = c.lib.Get(id, "")
	}
	cache[k] = in
	return in
}

func (c *Campaigns) latestDoc(cache map[string]*engine.Instrument, id string) *engine.Instrument {
	return c.instrumentOf(cache, id, "")
}

// instrumentTitle is the document's title (its short title if it has no
// title in the locale);
// without the document, the id is all there is, so a placeholder text
// says the instrument is unknown rather than showing the id.
func instrumentTitle(in *engine.Instrument, id, locale string) string {
	if in == nil {
		if locale == "en" {
			return "Instrument no longer on this server"
		}
		return "本服务器已无此量表"
	}
	if t := in.Doc.Title.Get(locale); t != "" {
		return t
	}
	return in.Doc.ShortTitle.Get(locale)
}

// scoreLabel is the score's label; a score without one is named after the
// instrument (its only score) or numbered after it, never by its id.
func scoreLabel(in *engine.Instrument, score, locale string) string {
	if in == nil {
		return instrumentTitle(in, "", locale)
	}
	for i, s := range in.Doc.Scoring.Scores {
		if s.ID != score {
			continue
		}
		if l := s.Label.Get(locale); l != "" {
			return l
		}
		name := in.Doc.ShortTitle.Get(locale)
		if name == "" {
			name = in.Doc.Title.Get(locale)
		}
		if len(in.Doc.Scoring.Scores) == 1 {
			return name
		}
		return name + " · " + strconv.Itoa(i+1)
	}
	return instrumentTitle(nil, "", locale)
}

// scoreOrder lists a tab's scores in the document's order.
func scoreOrder(in *engine.Instrument, acc *instAcc) []string {
	var out []string
	if in != nil {
		for _, s := range in.Doc.Scoring.Scores {
			if acc.scores[s.ID] != nil {
				out = append(out, s.ID)
			}
		}
	}
	var rest []string
	for s := range acc.scores {
		if !slices.Contains(out, s) {
			rest = append(rest, s)
		}
	}
	sort.Strings(rest)
	return append(out, rest...)
}

// bandCounts lists a score's bands in the document's order, each counted.
func bandTallies(in *engine.Instrument, score string, counts map[string]int, locale string) []BandTally {
	out := []BandTally{}
	if in == nil {
		return out
	}
	for _, b := range in.Doc.Scoring.Bands[score] {
		bc := BandTally{Code: b.Code, Label: b.Label.Get(locale), Count: intp(counts[b.Code])}
		if b.Warning != nil {
			bc.Level = b.Warning.Level
		}
		out = append(out, bc)
	}
	return out
}

func checkLabel(in *engine.Instrument, check, locale string) string {
	if in != nil {
		for _, v := range in.Doc.Scoring.Validity {
			if v.ID == check {
				return v.Message.Get(locale)
			}
		}
	}
	if locale == "en" {
		return "A response-quality check of the instrument"
	}
	return "作答质量检查未通过"
}

func ruleLabel(in *engine.Instrument, rule, locale string) string {
	for _, r := range in.Doc.Scoring.Warnings {
		if r.ID == rule {
			return r.Reason.Get(locale)
		}
	}
	return instrumentTitle(in, "", locale)
}

// protectGroupReport suppresses, for a teacher or viewer, every count that
// could point at a pupil: cells below MinCell, enough further cells that a
// suppressed one cannot be recovered from its row's total, and in every
// total any level that a class, grade or sex row suppressed (otherwise
// "total minus the other rows" would give it back). Means and SDs of
// groups under MinCell go too.
func protectGroupReport(rep *CampaignReport) {
	forced := map[string]bool{}
	protectRows := func(rows []GroupRow) {
		for i := range rows {
			r := &rows[i]
			prot := protectGroup(levelMap(r.Levels), r.Finished, nil)
			r.Levels = levelsFrom(prot)
			for k, v := range prot {
				if v == nil {
					forced[k] = true
				}
			}
			for j := range r.Scores {
				if r.Scores[j].N < MinCell {
					r.Scores[j].Mean, r.Scores[j].SD = nil, nil
				}
			}
		}
	}
	protectRows(rep.Classes)
	protectRows(rep.BySex)
	// A grade's cell is forced when one of its classes' is (the same
	// levels): simplest and safe is to force it from the union.
	for i := range rep.ByGrade {
		r := &rep.ByGrade[i]
		r.Levels = levelsFrom(protectGroup(levelMap(r.Levels), r.Finished, forced))
		for j := range r.Scores {
			if r.Scores[j].N < MinCell {
				r.Scores[j].Mean, r.Scores[j].SD = nil, nil
			}
		}
	}
	rep.Levels = levelsFrom(protectGroup(levelMap(rep.Levels), rep.Participation.Finished, forced))

	pv := protectGroup(map[string]int{"valid": *rep.Participation.Valid, "invalid": *rep.Participation.Invalid}, rep.Participation.Finished, nil)
	rep.Participation.Valid, rep.Participation.Invalid = pv["valid"], pv["invalid"]
	for i := range rep.Participation.InvalidReasons {
		r := &rep.Participation.InvalidReasons[i]
		if r.Count != nil && *r.Count > 0 && (*r.Count < MinCell || rep.Participation.Invalid == nil) {
			r.Count = nil
		}
	}
	for i := range rep.Instruments {
		if n := *rep.Instruments[i].Invalid; n > 0 && n < MinCell {
			rep.Instruments[i].Invalid = nil
		}
		for j := range rep.Instruments[i].Scores {
			s := &rep.Instruments[i].Scores[j]
			counts := map[string]int{}
			for _, b := range s.Bands {
				counts[b.Code] = *b.Count
			}
			prot := protectGroup(counts, s.N, nil)
			for k := range s.Bands {
				s.Bands[k].Count = prot[s.Bands[k].Code]
			}
			if s.N < MinCell {
				s.Mean, s.SD = nil, nil
			}
			if n := s.Norms; n != nil {
				if n.N < MinCell {
					n.MeanT, n.SDT, n.MeanPercentile = nil, nil, nil
				}
				p := protectGroup(map[string]int{"t70": *n.AtLeastT70, "t60": *n.AtLeastT60 - *n.AtLeastT70, "rest": n.N - *n.AtLeastT60}, n.N, nil)
				if p["t70"] == nil {
					n.AtLeastT70 = nil
				}
				if p["t60"] == nil || p["t70"] == nil {
					n.AtLeastT60 = nil
				}
			}
		}
	}
	for i := range rep.Suicide {
		s := &rep.Suicide[i]
		p := protectGroup(map[string]int{"pos": *s.Positive, "neg": s.Results - *s.Positive}, s.Results, nil)
		s.Positive = p["pos"]
		for j := range s.Rules {
			if n := *s.Rules[j].Positive; n > 0 && (n < MinCell || s.Results-n < MinCell) {
				s.Rules[j].Positive = nil
			}
		}
	}
}

func levelMap(l LevelCounts) map[string]int {
	v := func(p *int) int {
		if p == nil {
			return 0
		}
		return *p
	}
	return map[string]int{"1": v(l.L1), "2": v(l.L2), "3": v(l.L3), "none": v(l.None)}
}

func levelsFrom(m map[string]*int) LevelCounts {
	return LevelCounts{L1: m["1"], L2: m["2"], L3: m["3"], None: m["none"]}
}

// SetAbsence records why a rostered pupil took no part in a campaign (an
// empty reason clears it). Staff who may see the appendices write it; the
// write is audited as an action.
func (c *Campaigns) SetAbsence(ctx context.Context, p *Principal, campaignID, personID, reason, ip string) (store.Absence, error) {
	if !canSeeNames(p) {
		return store.Absence{}, errorf(CodeForbidden, "", "only psychologists, counsellors and administrators write why a pupil took no part")
	}
	cp, err := c.campaignForReport(ctx, p, campaignID)
	if err != nil {
		return store.Absence{}, err
	}
	reason = strings.TrimSpace(reason)
	if store.ReasonTooLong(reason) {
		return store.Absence{}, errorf(CodeValidation, "reason", "a reason is at most %d characters", store.MaxAbsenceReasonRunes)
	}
	person, err := c.store.GetPerson(ctx, personID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && (!p.InScope(person.UnitPath) || !strings.HasPrefix(person.UnitPath, cp.UnitPath))) {
		return store.Absence{}, errorf(CodeNotFound, "person", "no pupil %q on this campaign's roster", personID)
	}
	if err != nil {
		return store.Absence{}, err
	}
	a, err := c.store.PutAbsence(ctx, store.Absence{CampaignID: cp.ID, PersonID: person.ID, Reason: store.Sealed(reason), UpdatedBy: p.StaffID, UpdatedAt: c.now()})
	if err != nil {
		return a, err
	}
	action := "set_absence_reason"
	if reason == "" {
		action = "clear_absence_reason"
	}
	// The reason itself may name an illness: it stays out of the audit line.
	c.auditAction(ctx, auditBy(p, action, "person", person.ID, person.UnitPath, ip, "campaign "+cp.ID))
	return a, nil
}
