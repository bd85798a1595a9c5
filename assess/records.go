package assess

import (
	"context"
	"errors"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"xinling/engine"
	"xinling/store"
)

// Records serves person records (心理档案), case records (心理辅导个案记录)
// and referrals. Every call takes the signed-in principal and decides here,
// not in a handler, what it may see:
//
//   - only admin, counsellor and school_psychologist read individual
//     records; teacher and viewer are refused (403) on every call, since
//     they see anonymous aggregates only;
//   - a person is open to a principal when the person's unit, one of the
//     person's queue entries, a referral of the person into the
//     principal's subtree, or a booking of the person at a unit in it lies
//     in scope; anything else is not found (404),
//     so ids cannot be probed;
//   - within an open record a principal sees what happened in their own
//     subtree, plus the subtrees that referred the person to them.
//
// Every read of a person's data is audited as a disclosure, and every
// write as an action (see AuditDisclosure).
type Records struct {
	*shared
	// coolingOff is the wait before an invalid result may be retaken
	// (Options.RetakeCoolingOff).
	coolingOff time.Duration
}

// recordRoles may read and write individual records.
var recordRoles = []store.Role{store.RoleAdmin, store.RoleCounsellor, store.RoleSchoolPsychologist}

func requireRecords(p *Principal) error {
	if !slices.Contains(recordRoles, p.Role) {
		return errorf(CodeForbidden, "", "your role may not open individual records")
	}
	return nil
}

// seal and unseal convert between text and store.Sealed. Above the store a
// Sealed value is plain UTF-8: the sealing store (store/sealed), which
// `xinling serve` always puts between assess and the backend, encrypts it
// on the way down and decrypts it on the way up.
func seal(s string) store.Sealed {
	if s == "" {
		return nil
	}
	return store.Sealed(s)
}

func unseal(s store.Sealed) string { return string(s) }

// collect pages through a store list to its end. Per person the lists are
// short (results over years, a few entries and cases).
func collect[T any](list func(store.Page) ([]T, string, error)) ([]T, error) {
	var out []T
	pg := store.Page{Limit: store.MaxLimit}
	for {
		items, next, err := list(pg)
		if err != nil {
			return nil, err
		}
		out = append(out, items...)
		if next == "" || len(items) == 0 {
			return out, nil
		}
		pg.After = next
	}
}

// access is what one principal may see of one person.
type access struct {
	person store.Person
	// paths are subtrees whose records of the person are visible: the
	// principal's own, and the senders of referrals into it.
	paths []string
	// home: the person's own unit is in scope, which also shows records
	// tied to no unit (an anonymous link's session).
	home bool
}

func (a *access) visible(path string) bool {
	if path == "" {
		return a.home
	}
	for _, p := range a.paths {
		if strings.HasPrefix(path, p) {
			return true
		}
	}
	return false
}

func notFound(kind, id string) error {
	return errorf(CodeNotFound, "", "no %s %q", kind, id)
}

// personAccess opens a person for p, or answers not found.
func (r *Records) personAccess(ctx context.Context, p *Principal, id string) (*access, error) {
	person, err := r.store.GetPerson(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, notFound("person", id)
	}
	if err != nil {
		return nil, err
	}
	a := &access{person: person, paths: []string{p.UnitPath}}
	a.home = p.InScope(person.UnitPath)
	open := a.home
	refs, _, err := r.store.ListReferrals(ctx, store.ReferralFilter{PersonID: id, ToUnitPath: p.UnitPath}, store.Page{Limit: store.MaxLimit})
	if err != nil {
		return nil, err
	}
	for _, ref := range refs {
		open = true
		if !slices.Contains(a.paths, ref.FromUnitPath) {
			a.paths = append(a.paths, ref.FromUnitPath)
		}
	}
	if !open {
		// A resident who took a self-test through a unit's link belongs
		// to no unit; the unit's queue entry opens the record.
		ws, _, err := r.store.ListWarnings(ctx, store.WarningFilter{PersonID: id, UnitPath: p.UnitPath}, store.Page{Limit: 1})
		if err != nil {
			return nil, err
		}
		open = len(ws) > 0
	}
	if !open {
		if open, err = r.bookedHere(ctx, p, id); err != nil {
			return nil, err
		}
	}
	if !open {
		return nil, notFound("person", id)
	}
	return a, nil
}

// PersonBasics are a person's non-identifying facts. Identifiers are
// sealed; the record says only which ones are on file.
type PersonBasics struct {
	ID          string          `json:"id"`
	UnitID      string          `json:"unit_id,omitempty"`
	Sex         string          `json:"sex,omitempty"`
	BirthMonth  string          `json:"birth_month,omitempty"`
	Age         int             `json:"age,omitempty"`
	Anonymised  bool            `json:"anonymised"`
	Identifiers map[string]Flag `json:"identifiers"`
}

// Flag marks a sealed identifier that is on file.
type Flag struct {
	Sealed bool `json:"sealed"`
}

func (r *Records) basics(p store.Person) PersonBasics {
	b := PersonBasics{ID: p.ID, UnitID: p.UnitID, Sex: p.Sex, BirthMonth: p.BirthMonth, Age: p.Age, Anonymised: p.Anonymised,
		Identifiers: map[string]Flag{}}
	if b.Age == 0 && p.BirthMonth != "" {
		b.Age = ageAt(p.BirthMonth, r.now())
	}
	for name, v := range map[string]store.Sealed{"name": p.Name, "phone": p.Phone, "student_no": p.StudentNo} {
		if len(v) > 0 {
			b.Identifiers[name] = Flag{Sealed: true}
		}
	}
	return b
}

// ageAt gives the age in whole years of someone born in month ("2010-05").
func ageAt(month string, now time.Time) int {
	t, err := time.Parse("2006-01", month)
	if err != nil {
		return 0
	}
	age := now.Year() - t.Year()
	if now.Month() < t.Month() {
		age--
	}
	return max(age, 0)
}

// ResultRecord is one result in a person's record.
type ResultRecord struct {
	ID         string             `json:"id"`
	SessionID  string             `json:"session_id"`
	CampaignID string             `json:"campaign_id,omitempty"`
	UnitID     string             `json:"unit_id,omitempty"`
	Instrument string             `json:"instrument"`
	Version    string             `json:"version"`
	At         time.Time          `json:"at"`
	Scores     map[string]float64 `json:"scores"`
	Bands      map[string]string  `json:"bands"`
	Flags      []string           `json:"flags"`
	// Invalid: a validity check of the document failed (see Invalid).
	// The result stays in the record, marked, never hidden.
	Invalid bool `json:"invalid"`
}

// WarningRecord is a queue entry in a person's record.
type WarningRecord struct {
	ID         string         `json:"id"`
	Level      int            `json:"level"`
	State      string         `json:"state"`
	UnitID     string         `json:"unit_id"`
	AssigneeID string         `json:"assignee_id,omitempty"`
	Outcome    string         `json:"outcome,omitempty"`
	ResultIDs  []string       `json:"result_ids"`
	Reasons    []ReasonRecord `json:"reasons"`
	CreatedAt  time.Time      `json:"created_at"`
	DueAt      time.Time      `json:"due_at"`
}

// ReasonRecord is one fired warning rule.
type ReasonRecord struct {
	ResultID   string            `json:"result_id"`
	Instrument string            `json:"instrument"`
	Rule       string            `json:"rule"`
	Level      int               `json:"level"`
	Text       map[string]string `json:"text"`
}

func warningRecord(w store.Warning) WarningRecord {
	v := WarningRecord{ID: w.ID, Level: w.Level, State: string(w.State), UnitID: w.UnitID, AssigneeID: w.AssigneeID,
		Outcome: w.Outcome, ResultIDs: w.ResultIDs, Reasons: []ReasonRecord{}, CreatedAt: w.CreatedAt, DueAt: w.DueAt}
	if v.ResultIDs == nil {
		v.ResultIDs = []string{}
	}
	for _, rs := range w.Reasons {
		v.Reasons = append(v.Reasons, ReasonRecord{ResultID: rs.ResultID, Instrument: rs.Instrument, Rule: rs.Rule, Level: rs.Level, Text: rs.Text})
	}
	return v
}

// PersonRecord is the 心理档案: a person's basics and everything recorded
// about them that the reader may see, oldest first.
type PersonRecord struct {
	Person    PersonBasics     `json:"person"`
	Results   []ResultRecord   `json:"results"`
	Trends    []Trend          `json:"trends"`
	Warnings  []WarningRecord  `json:"warnings"`
	Cases     []CaseRecord     `json:"cases"`
	Referrals []ReferralRecord `json:"referrals"`
	Callbacks []CallbackRecord `json:"callbacks"`
	Bookings  []BookingRecord  `json:"bookings"`
	// Meetings are the case conferences and parent meetings (issue 17).
	Meetings []MeetingRecord `json:"meetings"`
	// Retakes are the retake codes issued for invalid results.
	Retakes []RetakeRecord `json:"retakes"`
	// FollowUps compare follow-up screening results with the first
	// campaign's (see Comparison).
	FollowUps []Comparison `json:"follow_ups"`
	// Timeline is the whole path, oldest first (see TimelineEvent).
	Timeline []TimelineEvent `json:"timeline"`
	// Labels are the instrument documents' words for the results, in the
	// requested locale, by instrument id.
	Labels map[string]InstrumentLabels `json:"labels"`
}

// Person returns a person's record, with its labels in locale, and writes
// the read to the audit log.
func (r *Records) Person(ctx context.Context, p *Principal, id, locale, ip string) (*PersonRecord, error) {
	if err := requireRecords(p); err != nil {
		return nil, err
	}
	a, err := r.personAccess(ctx, p, id)
	if err != nil {
		return nil, err
	}
	results, err := collect(func(pg store.Page) ([]store.Result, string, error) {
		return r.store.ListResults(ctx, store.ResultFilter{PersonID: id}, pg)
	})
	if err != nil {
		return nil, err
	}
	warnings, err := collect(func(pg store.Page) ([]store.Warning, string, error) {
		return r.store.ListWarnings(ctx, store.WarningFilter{PersonID: id}, pg)
	})
	if err != nil {
		return nil, err
	}
	cases, err := collect(func(pg store.Page) ([]store.Case, string, error) {
		return r.store.ListCases(ctx, store.CaseFilter{PersonID: id}, pg)
	})
	if err != nil {
		return nil, err
	}
	refs, err := collect(func(pg store.Page) ([]store.Referral, string, error) {
		return r.store.ListReferrals(ctx, store.ReferralFilter{PersonID: id}, pg)
	})
	if err != nil {
		return nil, err
	}
	rec := &PersonRecord{Person: r.basics(a.person), Results: []ResultRecord{}, Warnings: []WarningRecord{},
		Cases: []CaseRecord{}, Referrals: []ReferralRecord{}}
	var shown []store.Result
	for _, res := range results {
		if !a.visible(res.UnitPath) {
			continue
		}
		shown = append(shown, res)
		flags := res.Flags
		if flags == nil {
			flags = []string{}
		}
		rec.Results = append(rec.Results, ResultRecord{ID: res.ID, SessionID: res.SessionID, CampaignID: res.CampaignID, UnitID: res.UnitID,
			Instrument: res.Instrument, Version: res.Version, At: res.CreatedAt, Scores: res.Scores, Bands: res.Bands, Flags: flags,
			Invalid: Invalid(res.Flags)})
	}
	rec.Trends = trends(r.lib, shown)
	// Queue entries come ordered by level; a record reads by time.
	slices.SortStableFunc(warnings, func(x, y store.Warning) int { return x.CreatedAt.Compare(y.CreatedAt) })
	for _, w := range warnings {
		if a.visible(w.UnitPath) {
			rec.Warnings = append(rec.Warnings, warningRecord(w))
		}
	}
	for _, c := range cases {
		if a.visible(c.UnitPath) {
			rec.Cases = append(rec.Cases, caseRecord(c))
		}
	}
	for _, ref := range refs {
		if a.visible(ref.ToUnitPath) || a.visible(ref.FromUnitPath) {
			rec.Referrals = append(rec.Referrals, referralRecord(ref))
		}
	}
	if rec.Callbacks, rec.Bookings, err = r.handoffOf(ctx, a, id); err != nil {
		return nil, err
	}
	if rec.Meetings, err = r.meetingsOf(ctx, a, id, ""); err != nil {
		return nil, err
	}
	if rec.Retakes, err = r.retakesOf(ctx, a, id, shown); err != nil {
		return nil, err
	}
	if rec.FollowUps, err = r.followUpsOf(ctx, shown); err != nil {
		return nil, err
	}
	rec.Timeline = timeline(rec)
	rec.Labels = r.labelsFor(rec.Results, locale)
	path := a.person.UnitPath
	if path == "" {
		path = p.UnitPath // a resident of no unit: the reader's subtree owns the entry
	}
	if err := r.auditDisclosure(ctx, auditBy(p, "read_person", "person", id, path, ip, "")); err != nil {
		return nil, err
	}
	return rec, nil
}

// Reliable change (Jacobson & Truax 1991, J Consult Clin Psychol 59:12–19):
// |RCI| ≥ 1.96 is a change that measurement error alone would produce in
// fewer than 5% of cases. The SD, reliability and direction come from the
// instrument document's statistics (engine.Statistic), cited there. An
// instrument whose document gives none has an "unknown" trend.

// Trend verdicts.
const (
	TrendImproved = "improved"
	TrendWorsened = "worsened"
	TrendNoChange = "no_reliable_change"
	TrendUnknown  = "unknown"     // no reliability or SD known for the score
	TrendSingle   = "single_wave" // nothing to compare yet
)

// Trend is the reliable-change verdict on one instrument's waves.
type Trend struct {
	Instrument  string  `json:"instrument"`
	Score       string  `json:"score,omitempty"`
	SD          float64 `json:"sd,omitempty"`
	Reliability float64 `json:"reliability,omitempty"`
	Source      string  `json:"source,omitempty"`
	// StatisticsVersion is the document version the figures come from.
	StatisticsVersion string       `json:"statistics_version,omitempty"`
	Trend             string       `json:"trend"` // the latest change's verdict
	Changes           []WaveChange `json:"changes"`
}

// WaveChange compares two consecutive waves.
type WaveChange struct {
	From  string   `json:"from_result"`
	To    string   `json:"to_result"`
	Delta float64  `json:"delta"`
	RCI   *float64 `json:"rci"`
	Trend string   `json:"trend"`
}

// RCI returns the Jacobson–Truax reliable change index of x1 → x2.
func RCI(x1, x2, sd, r float64) float64 { return engine.ReliableChangeIndex(x1, x2, sd, r) }

// statisticsFor finds the reliable-change figures for an instrument's
// results: those of the newest result's version, or else of the newest
// loaded version that has any (an older version of the same scale scored
// the same way, and its results deserve the figures too).
func statisticsFor(lib *engine.Library, inst, version string) (*engine.Statistic, string) {
	var candidates []*engine.Instrument
	if in, ok := lib.Get(inst, version); ok && version != "" {
		candidates = append(candidates, in)
	}
	versions := lib.Versions(inst)
	for i := len(versions) - 1; i >= 0; i-- {
		candidates = append(candidates, versions[i])
	}
	for _, in := range candidates {
		if st := in.Doc.Scoring.Statistics; len(st) > 0 {
			return &st[0], in.Version()
		}
	}
	return nil, ""
}

// trends compares consecutive results of each instrument (results come
// oldest first).
func trends(lib *engine.Library, results []store.Result) []Trend {
	byInst := map[string][]store.Result{}
	var order []string
	for _, res := range results {
		if _, ok := byInst[res.Instrument]; !ok {
			order = append(order, res.Instrument)
		}
		byInst[res.Instrument] = append(byInst[res.Instrument], res)
	}
	out := []Trend{}
	for _, inst := range order {
		waves := byInst[inst]
		par, from := statisticsFor(lib, inst, waves[len(waves)-1].Version)
		t := Trend{Instrument: inst, Trend: TrendSingle, Changes: []WaveChange{}}
		if par != nil {
			t.Score, t.SD, t.Reliability, t.Source, t.StatisticsVersion = par.Score, par.SD, par.Reliability, par.Source, from
		}
		for i := 1; i < len(waves); i++ {
			a, b := waves[i-1], waves[i]
			ch := reliableChange(par, a, b)
			t.Changes = append(t.Changes, ch)
			t.Trend = ch.Trend
		}
		out = append(out, t)
	}
	return out
}

// reliableChange compares two results of one instrument on the score the
// statistics name; without statistics, or without that score in both,
// the verdict is unknown.
func reliableChange(par *engine.Statistic, a, b store.Result) WaveChange {
	ch := WaveChange{From: a.ID, To: b.ID, Trend: TrendUnknown}
	var x1, x2 float64
	ok1, ok2 := false, false
	if par != nil {
		x1, ok1 = a.Scores[par.Score]
		x2, ok2 = b.Scores[par.Score]
	}
	if ok1 && ok2 {
		rci := math.Round(RCI(x1, x2, par.SD, par.Reliability)*100) / 100
		ch.Delta, ch.RCI = x2-x1, &rci
		higherIsWorse := par.Direction != "higher_is_better"
		switch {
		case math.Abs(rci) < engine.ReliableChangeThreshold:
			ch.Trend = TrendNoChange
		case (rci > 0) == higherIsWorse:
			ch.Trend = TrendWorsened
		default:
			ch.Trend = TrendImproved
		}
	}
	return ch
}

// Cases.

// CaseRecord is a case as staff read it.
type CaseRecord struct {
	ID             string    `json:"id"`
	PersonID       string    `json:"person_id"`
	WarningID      string    `json:"warning_id,omitempty"`
	UnitID         string    `json:"unit_id"`
	CounsellorID   string    `json:"counsellor_id"`
	SelfEvaluation string    `json:"self_evaluation"`
	LifeEvents     string    `json:"life_events"`
	OtherProblems  string    `json:"other_problems"`
	Advice         string    `json:"advice"`
	GroupNotified  bool      `json:"group_notified"`
	At             time.Time `json:"at"`
	Closed         bool      `json:"closed"`
	ClosedAt       time.Time `json:"closed_at,omitzero"`
	Outcome        string    `json:"outcome,omitempty"`
	CreatedAt      time.Time `json:"created_at"`
	UpdatedAt      time.Time `json:"updated_at"`
	Version        int64     `json:"version"`
}

func caseRecord(c store.Case) CaseRecord {
	return CaseRecord{ID: c.ID, PersonID: c.PersonID, WarningID: c.WarningID, UnitID: c.UnitID, CounsellorID: c.CounsellorID,
		SelfEvaluation: unseal(c.SelfEvaluation), LifeEvents: unseal(c.LifeEvents), OtherProblems: unseal(c.OtherProblems),
		Advice: unseal(c.Advice), GroupNotified: c.GroupNotified, At: c.At, Closed: c.Closed, ClosedAt: c.ClosedAt,
		Outcome: c.Outcome, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt, Version: c.Version}
}

// CaseView is a case with the visitor's basics, as the record form shows.
type CaseView struct {
	Case   CaseRecord   `json:"case"`
	Person PersonBasics `json:"person"`
}

// CaseFields are the form's free text and flags.
type CaseFields struct {
	SelfEvaluation string
	LifeEvents     string
	OtherProblems  string
	Advice         string
	GroupNotified  bool // 是否通报综合管理小组
}

// NewCase is a case to record. UnitID defaults to the counsellor's unit;
// At (when the counselling took place) to now.
type NewCase struct {
	PersonID  string
	WarningID string
	// BookingID is the booking the counselling took place in; the case
	// is linked to it, and without a person it names the booking's.
	BookingID string
	UnitID    string
	At        time.Time
	CaseFields
}

// CreateCase records a counselling session with a person the principal
// may open, written by the principal.
func (r *Records) CreateCase(ctx context.Context, p *Principal, in NewCase, ip string) (*CaseView, error) {
	if err := requireRecords(p); err != nil {
		return nil, err
	}
	derived := in.PersonID == ""
	var booking *store.Booking
	if in.BookingID != "" {
		b, person, err := r.bookingPerson(ctx, p, in.BookingID, in.PersonID)
		if err != nil {
			return nil, err
		}
		booking = &b
		if derived {
			in.PersonID, derived = person, false
		}
	}
	if derived {
		id, err := r.anonymousCasePerson(ctx, p, in.WarningID)
		if err != nil {
			return nil, err
		}
		in.PersonID = id
	}
	a, err := r.personAccess(ctx, p, in.PersonID)
	if err != nil {
		return nil, withField(err, "person_id")
	}
	if in.WarningID != "" {
		if err := r.entryAbout(ctx, a, in.WarningID, in.PersonID, derived); err != nil {
			return nil, err
		}
	}
	if in.UnitID == "" {
		in.UnitID = p.UnitID
	} else if u, err := r.store.GetUnit(ctx, in.UnitID); errors.Is(err, store.ErrNotFound) || (err == nil && !p.InScope(u.Path)) {
		return nil, errorf(CodeNotFound, "unit_id", "no unit %q", in.UnitID)
	} else if err != nil {
		return nil, err
	}
	now := r.now()
	if in.At.IsZero() {
		in.At = now
	}
	if in.At.After(now.Add(time.Minute)) {
		return nil, errorf(CodeValidation, "at", "a case records counselling that took place; at is in the future")
	}
	c, err := r.store.CreateCase(ctx, store.Case{ID: store.NewID(), PersonID: in.PersonID, WarningID: in.WarningID, UnitID: in.UnitID,
		CounsellorID: p.StaffID, SelfEvaluation: seal(in.SelfEvaluation), LifeEvents: seal(in.LifeEvents),
		OtherProblems: seal(in.OtherProblems), Advice: seal(in.Advice), GroupNotified: in.GroupNotified, At: in.At,
		CreatedAt: now, UpdatedAt: now})
	if err != nil {
		return nil, err
	}
	r.auditAction(ctx, auditBy(p, "case_create", "case", c.ID, c.UnitPath, ip, "person "+c.PersonID))
	if booking != nil {
		if _, err := r.store.LinkBooking(ctx, booking.ID, c.PersonID, c.ID, now); err != nil {
			return nil, err
		}
		r.auditAction(ctx, auditBy(p, "booking_link", "booking", booking.ID, booking.UnitPath, ip, "case "+c.ID))
	}
	return &CaseView{Case: caseRecord(c), Person: r.basics(a.person)}, nil
}

// anonymousCasePerson gives the person a case on an anonymous queue entry
// (a resident's self-test) is recorded under. Such an entry names nobody,
// yet the station still counsels the resident who rang back or walked in;
// the first case creates a person in the entry's unit, with nothing on
// file, and later cases of the same entry join that person's record.
func (r *Records) anonymousCasePerson(ctx context.Context, p *Principal, warningID string) (string, error) {
	if warningID == "" {
		return "", errorf(CodeValidation, "person_id", "person_id is required, or warning_id of an anonymous queue entry")
	}
	w, err := r.store.GetWarning(ctx, warningID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !p.InScope(w.UnitPath)) {
		return "", errorf(CodeNotFound, "warning_id", "no queue entry %q", warningID)
	}
	if err != nil {
		return "", err
	}
	if w.PersonID != "" {
		return w.PersonID, nil
	}
	prev, _, err := r.store.ListCases(ctx, store.CaseFilter{WarningID: w.ID}, store.Page{Limit: 1})
	if err != nil {
		return "", err
	}
	if len(prev) > 0 {
		return prev[0].PersonID, nil
	}
	person, err := r.store.CreatePerson(ctx, store.Person{ID: store.NewID(), UnitID: w.UnitID, CreatedAt: r.now()})
	if err != nil {
		return "", err
	}
	return person.ID, nil
}

func withField(err error, field string) error {
	var e *Error
	if errors.As(err, &e) && e.Field == "" {
		return &Error{Code: e.Code, Message: e.Message, Field: field}
	}
	return err
}

// caseAccess loads a case that p may see.
func (r *Records) caseAccess(ctx context.Context, p *Principal, id string) (store.Case, *access, error) {
	c, err := r.store.GetCase(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return store.Case{}, nil, notFound("case", id)
	}
	if err != nil {
		return store.Case{}, nil, err
	}
	a, err := r.personAccess(ctx, p, c.PersonID)
	if err != nil || !a.visible(c.UnitPath) {
		var e *Error
		if err == nil || errors.As(err, &e) {
			return store.Case{}, nil, notFound("case", id)
		}
		return store.Case{}, nil, err
	}
	return c, a, nil
}

// Case returns one case and audits the read.
func (r *Records) Case(ctx context.Context, p *Principal, id, ip string) (*CaseView, error) {
	if err := requireRecords(p); err != nil {
		return nil, err
	}
	c, a, err := r.caseAccess(ctx, p, id)
	if err != nil {
		return nil, err
	}
	if err := r.auditDisclosure(ctx, auditBy(p, "read_case", "case", c.ID, c.UnitPath, ip, "")); err != nil {
		return nil, err
	}
	return &CaseView{Case: caseRecord(c), Person: r.basics(a.person)}, nil
}

// CaseUpdate replaces a case's fields. Version must be the one read: two
// counsellors editing at once do not overwrite each other.
type CaseUpdate struct {
	Version int64
	CaseFields
	Closed  bool
	Outcome string
}

// UpdateCase edits a case in the principal's subtree.
func (r *Records) UpdateCase(ctx context.Context, p *Principal, id string, in CaseUpdate, ip string) (*CaseView, error) {
	if err := requireRecords(p); err != nil {
		return nil, err
	}
	c, a, err := r.caseAccess(ctx, p, id)
	if err != nil {
		return nil, err
	}
	if !p.InScope(c.UnitPath) {
		return nil, errorf(CodeForbidden, "", "this case was recorded by another unit; only its staff may change it")
	}
	if in.Version != c.Version {
		return nil, errorf(CodeConflict, "version", "the case changed since you read it (version %d, now %d); reload it", in.Version, c.Version)
	}
	if in.Closed && in.Outcome == "" {
		return nil, errorf(CodeValidation, "outcome", "closing a case needs an outcome")
	}
	now := r.now()
	c.SelfEvaluation, c.LifeEvents, c.OtherProblems, c.Advice = seal(in.SelfEvaluation), seal(in.LifeEvents), seal(in.OtherProblems), seal(in.Advice)
	c.GroupNotified, c.Outcome, c.UpdatedAt = in.GroupNotified, in.Outcome, now
	switch {
	case in.Closed && !c.Closed:
		c.ClosedAt = now
	case !in.Closed:
		c.ClosedAt = time.Time{}
	}
	c.Closed = in.Closed
	out, err := r.store.UpdateCase(ctx, c)
	if errors.Is(err, store.ErrConflict) {
		return nil, errorf(CodeConflict, "version", "the case changed since you read it; reload it")
	}
	if err != nil {
		return nil, err
	}
	r.auditAction(ctx, auditBy(p, "case_update", "case", c.ID, c.UnitPath, ip, "version "+strconv.FormatInt(out.Version, 10)))
	return &CaseView{Case: caseRecord(out), Person: r.basics(a.person)}, nil
}

// ListCases lists the cases of a person or a queue entry, or without
// either every case recorded in the principal's subtree.
func (r *Records) ListCases(ctx context.Context, p *Principal, personID, warningID string, pg store.Page, ip string) ([]CaseRecord, string, error) {
	if err := requireRecords(p); err != nil {
		return nil, "", err
	}
	f := store.CaseFilter{PersonID: personID, WarningID: warningID}
	visible := p.InScope
	switch {
	case personID != "":
		a, err := r.personAccess(ctx, p, personID)
		if err != nil {
			return nil, "", withField(err, "person")
		}
		visible = a.visible
	case warningID != "":
		w, err := r.store.GetWarning(ctx, warningID)
		if errors.Is(err, store.ErrNotFound) {
			return nil, "", errorf(CodeNotFound, "warning", "no queue entry %q", warningID)
		}
		if err != nil {
			return nil, "", err
		}
		if w.PersonID == "" {
			// An anonymous entry: its cases are the subtree's own.
			if !p.InScope(w.UnitPath) {
				return nil, "", errorf(CodeNotFound, "warning", "no queue entry %q", warningID)
			}
			break
		}
		a, err := r.personAccess(ctx, p, w.PersonID)
		if err != nil || !a.visible(w.UnitPath) {
			return nil, "", errorf(CodeNotFound, "warning", "no queue entry %q", warningID)
		}
		visible = a.visible
	default:
		f.UnitPath = p.UnitPath
	}
	cases, next, err := r.store.ListCases(ctx, f, pg)
	if err != nil {
		return nil, "", err
	}
	out := []CaseRecord{}
	for _, c := range cases {
		if visible(c.UnitPath) {
			out = append(out, caseRecord(c))
		}
	}
	target, kind := personID, "person"
	if target == "" {
		target, kind = warningID, "warning"
	}
	if target == "" {
		target, kind = p.UnitID, "unit"
	}
	if err := r.auditDisclosure(ctx, auditBy(p, "list_cases", kind, target, p.UnitPath, ip, strconv.Itoa(len(out))+" cases")); err != nil {
		return nil, "", err
	}
	return out, next, nil
}

// Referrals.

// ReferralRecord is a referral as staff read it.
type ReferralRecord struct {
	ID         string    `json:"id"`
	WarningID  string    `json:"warning_id"`
	PersonID   string    `json:"person_id"`
	FromUnitID string    `json:"from_unit_id"`
	ToUnitID   string    `json:"to_unit_id"`
	SenderID   string    `json:"sender_id"`
	Note       string    `json:"note"`
	State      string    `json:"state"`
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
}

func referralRecord(r store.Referral) ReferralRecord {
	return ReferralRecord{ID: r.ID, WarningID: r.WarningID, PersonID: r.PersonID, FromUnitID: r.FromUnitID, ToUnitID: r.ToUnitID,
		SenderID: r.SenderID, Note: unseal(r.Note), State: string(r.State), CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
}

// referTarget reports whether a unit may receive a referral of an entry
// at entryPath: a unit above the entry in the tree, or a station that
// hangs off such a unit (a street's 心灵驿站 is the street's child, beside
// the communities it serves, not their parent).
func referTarget(to store.Unit, parentPath, entryPath string) bool {
	if strings.HasPrefix(entryPath, to.Path) {
		return to.Path != entryPath // an ancestor, not the entry's own unit
	}
	return to.Kind == "station" && parentPath != "" && parentPath != entryPath && strings.HasPrefix(entryPath, parentPath)
}

// entryForRecords reads a queue entry for a role that keeps records, as
// not found when it lies outside the principal's subtree.
func (r *Records) entryForRecords(ctx context.Context, p *Principal, warningID string) (store.Warning, error) {
	if err := requireRecords(p); err != nil {
		return store.Warning{}, err
	}
	w, err := r.store.GetWarning(ctx, warningID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !p.InScope(w.UnitPath)) {
		return store.Warning{}, notFound("queue entry", warningID)
	}
	return w, err
}

// Refer sends a queue entry the principal holds to a unit above it. The
// entry becomes referred and the referral appears in the receiving
// subtree's incoming list.
func (r *Records) Refer(ctx context.Context, p *Principal, warningID, toUnitID, note, ip string) (*ReferralRecord, error) {
	w, err := r.entryForRecords(ctx, p, warningID)
	if err != nil {
		return nil, err
	}
	bad := errorf(CodeValidation, "to_unit_id", "to_unit_id must name a unit above this entry's unit in the org tree")
	to, err := r.store.GetUnit(ctx, toUnitID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, bad
	}
	if err != nil {
		return nil, err
	}
	var parentPath string
	if to.ParentID != "" {
		parent, err := r.store.GetUnit(ctx, to.ParentID)
		if err != nil {
			return nil, err
		}
		parentPath = parent.Path
	}
	if !referTarget(to, parentPath, w.UnitPath) {
		return nil, bad
	}
	now := r.now()
	ref, err := r.store.ReferWarning(ctx, warningID, store.Referral{ID: store.NewID(), ToUnitID: toUnitID, SenderID: p.StaffID,
		Note: seal(note), CreatedAt: now, UpdatedAt: now})
	switch {
	case errors.Is(err, store.ErrLeaseHeld):
		return nil, errorf(CodeConflict, "", "claim the entry first: only its holder may refer it")
	case errors.Is(err, store.ErrInvalidTransition):
		return nil, errorf(CodeConflict, "", "a %s entry cannot be referred", w.State)
	case errors.Is(err, store.ErrNotFound):
		return nil, notFound("queue entry", warningID)
	case err != nil:
		return nil, err
	}
	r.auditAction(ctx, auditBy(p, "refer", "warning", warningID, w.UnitPath, ip, "referral "+ref.ID+" to "+toUnitID))
	// The referral moved its entry: tell the consoles.
	if changed, err := r.store.GetWarning(ctx, warningID); err == nil {
		r.hub.Publish(changed)
	}
	v := referralRecord(ref)
	return &v, nil
}

// Referral directions for ListReferrals.
const (
	Incoming = "incoming"
	Outgoing = "outgoing"
)

// ListReferrals lists referrals into (incoming) or out of (outgoing) the
// principal's subtree, oldest first; state filters when not empty.
func (r *Records) ListReferrals(ctx context.Context, p *Principal, direction string, state store.ReferralState, pg store.Page) ([]ReferralRecord, string, error) {
	if err := requireRecords(p); err != nil {
		return nil, "", err
	}
	f := store.ReferralFilter{State: state}
	switch direction {
	case Incoming, "":
		f.ToUnitPath = p.UnitPath
	case Outgoing:
		f.FromUnitPath = p.UnitPath
	default:
		return nil, "", errorf(CodeValidation, "direction", "direction must be incoming or outgoing")
	}
	refs, next, err := r.store.ListReferrals(ctx, f, pg)
	if err != nil {
		return nil, "", err
	}
	out := make([]ReferralRecord, len(refs))
	for i, ref := range refs {
		out[i] = referralRecord(ref)
	}
	return out, next, nil
}

// referralAccess loads a referral that p sends or receives.
func (r *Records) referralAccess(ctx context.Context, p *Principal, id string) (store.Referral, error) {
	ref, err := r.store.GetReferral(ctx, id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !p.InScope(ref.ToUnitPath) && !p.InScope(ref.FromUnitPath)) {
		return store.Referral{}, notFound("referral", id)
	}
	return ref, err
}

// Referral returns one referral the principal sent or receives.
func (r *Records) Referral(ctx context.Context, p *Principal, id, ip string) (*ReferralRecord, error) {
	if err := requireRecords(p); err != nil {
		return nil, err
	}
	ref, err := r.referralAccess(ctx, p, id)
	if err != nil {
		return nil, err
	}
	if err := r.auditDisclosure(ctx, auditBy(p, "read_referral", "referral", id, ref.ToUnitPath, ip, "")); err != nil {
		return nil, err
	}
	v := referralRecord(ref)
	return &v, nil
}

// SetReferralState moves a referral sent → accepted → completed. Only
// staff of the receiving subtree may, and not the one who sent it.
func (r *Records) SetReferralState(ctx context.Context, p *Principal, id string, to store.ReferralState, ip string) (*ReferralRecord, error) {
	if err := requireRecords(p); err != nil {
		return nil, err
	}
	ref, err := r.referralAccess(ctx, p, id)
	if err != nil {
		return nil, err
	}
	if !p.InScope(ref.ToUnitPath) || ref.SenderID == p.StaffID {
		return nil, errorf(CodeForbidden, "", "only staff of the receiving unit may accept or complete a referral")
	}
	out, err := r.store.SetReferralState(ctx, id, to, r.now())
	if errors.Is(err, store.ErrInvalidTransition) {
		return nil, errorf(CodeConflict, "", "a %s referral cannot become %s", ref.State, to)
	}
	if err != nil {
		return nil, err
	}
	r.auditAction(ctx, auditBy(p, "referral_"+string(to), "referral", id, ref.ToUnitPath, ip, ""))
	v := referralRecord(out)
	return &v, nil
}

// entryAbout checks that a record may name queue entry warningID: the
// reader sees it, and it is about personID (unless anyPerson: a case on an
// anonymous entry, whose person was derived from it).
func (r *Records) entryAbout(ctx context.Context, a *access, warningID, personID string, anyPerson bool) error {
	w, err := r.store.GetWarning(ctx, warningID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !a.visible(w.UnitPath)) {
		return errorf(CodeNotFound, "warning_id", "no queue entry %q", warningID)
	}
	if err != nil {
		return err
	}
	if w.PersonID != personID && !anyPerson {
		return errorf(CodeValidation, "warning_id", "queue entry %q is about another person", warningID)
	}
	return nil
}
