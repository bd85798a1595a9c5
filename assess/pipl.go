package assess

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"xinling/store"
)

// A person's rights under PIPL (个人信息保护法 arts. 45 and 47): an
// administrator can hand a person a copy of everything held about them,
// and can erase them. Both are admin-only, limited to the admin's subtree
// like every other read, and audited.

// ExportFormat names the export document's layout; it changes only with a
// new number.
const ExportFormat = "xinling.person-export/1"

// PersonExport is everything xinling holds about one person that the
// exporting admin's scope covers, identifiers in plain text: it is the
// copy the person is entitled to.
type PersonExport struct {
	Format      string             `json:"format"`
	ExportedAt  time.Time          `json:"exported_at"`
	ExportedBy  string             `json:"exported_by"`
	Scope       string             `json:"scope_unit_id"`
	Person      ExportedPerson     `json:"person"`
	Roster      *RosterMembership  `json:"roster,omitempty"`
	Identities  []ExportedIdentity `json:"identity_links"`
	AccessCodes []ExportedCode     `json:"access_codes"`
	Sessions    []ExportedSession  `json:"sessions"`
	Warnings    []ExportedWarning  `json:"warnings"`
	Cases       []CaseRecord       `json:"cases"`
	Referrals   []ReferralRecord   `json:"referrals"`
	// Callbacks and Bookings are the warm hand-off: call-back requests
	// with the number and note given, bookings with the number.
	Callbacks []CallbackRecord `json:"callbacks"`
	Bookings  []BookingRecord  `json:"bookings"`
	// Absences are the reasons the school wrote for the person's taking
	// no part in a screening (issue 17).
	Absences []ExportedAbsence `json:"absences"`
	// Meetings are case conferences and parent meetings (issue 17).
	Meetings []MeetingRecord `json:"meetings"`
	Audit    []ExportedAudit `json:"audit"`
}

// ExportedAbsence is a reason for non-participation, opened.
type ExportedAbsence struct {
	CampaignID string    `json:"campaign_id"`
	Reason     string    `json:"reason"`
	UpdatedAt  time.Time `json:"updated_at"`
}

// ExportedPerson is the person row with its identifiers opened.
type ExportedPerson struct {
	ID         string    `json:"id"`
	UnitID     string    `json:"unit_id,omitempty"`
	Name       string    `json:"name,omitempty"`
	Phone      string    `json:"phone,omitempty"`
	StudentNo  string    `json:"student_no,omitempty"`
	Sex        string    `json:"sex,omitempty"`
	BirthMonth string    `json:"birth_month,omitempty"`
	Age        int       `json:"age,omitempty"`
	Anonymised bool      `json:"anonymised"`
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
}

// RosterMembership is the school roster the person was imported from.
type RosterMembership struct {
	SchoolID   string `json:"school_id"`
	SchoolName string `json:"school_name,omitempty"`
	UnitID     string `json:"unit_id,omitempty"`
	UnitName   string `json:"unit_name,omitempty"`
}

// ExportedIdentity is a link by which xinling recognises the person. The
// key itself is a hash or keyed index and means nothing outside xinling.
type ExportedIdentity struct {
	Kind      string    `json:"kind"`
	CreatedAt time.Time `json:"created_at"`
}

// ExportedCode is a personal access code issued to the person.
type ExportedCode struct {
	Code       string    `json:"code"`
	CampaignID string    `json:"campaign_id"`
	UnitID     string    `json:"unit_id"`
	SessionID  string    `json:"session_id,omitempty"`
	CreatedAt  time.Time `json:"created_at"`
}

// ExportedSession is one sitting, with every stored answer and result.
type ExportedSession struct {
	ID           string           `json:"id"`
	CampaignID   string           `json:"campaign_id,omitempty"`
	UnitID       string           `json:"unit_id,omitempty"`
	Instruments  []string         `json:"instruments"`
	Sex          string           `json:"sex,omitempty"`
	Age          int              `json:"age,omitempty"`
	Consent      bool             `json:"consent"`
	Locale       string           `json:"locale"`
	State        string           `json:"state"`
	CreatedAt    time.Time        `json:"created_at"`
	LastActiveAt time.Time        `json:"last_active_at"`
	SubmittedAt  time.Time        `json:"submitted_at,omitzero"`
	Answers      []ExportedAnswer `json:"answers"`
	Results      []ExportedResult `json:"results"`
}

// ExportedAnswer is one stored item answer.
type ExportedAnswer struct {
	Item  string    `json:"item"`
	Value float64   `json:"value"`
	At    time.Time `json:"at"`
}

// ExportedResult is a scored instrument with the engine's full result.
type ExportedResult struct {
	ResultRecord
	Detail json.RawMessage `json:"detail,omitempty"`
}

// ExportedWarning is a queue entry with its history.
type ExportedWarning struct {
	WarningRecord
	History []ExportedEvent `json:"history"`
}

// ExportedEvent is one line of a queue entry's history.
type ExportedEvent struct {
	At      time.Time `json:"at"`
	ActorID string    `json:"actor_id,omitempty"`
	Kind    string    `json:"kind"`
	From    string    `json:"from,omitempty"`
	To      string    `json:"to,omitempty"`
	Note    string    `json:"note,omitempty"`
	Outcome string    `json:"outcome,omitempty"`
	UnitID  string    `json:"unit_id,omitempty"`
}

// ExportedAudit is one audit line about the person or their records. The
// staff member's address is left out: it is the staff member's data.
type ExportedAudit struct {
	At         time.Time `json:"at"`
	ActorID    string    `json:"actor_id"`
	Action     string    `json:"action"`
	TargetKind string    `json:"target_kind"`
	TargetID   string    `json:"target_id"`
	Detail     string    `json:"detail,omitempty"`
}

// erasable opens a person for an admin's export or erasure: as for any
// record read, but the admin's subtree must hold the person's own unit
// (or, for a resident of no unit, their queue entries). Seeing someone
// only through a referral into one's subtree is not enough to hand out
// or erase everything about them.
func (r *Records) erasable(ctx context.Context, p *Principal, id string) (*access, error) {
	if err := requireAdmin(p); err != nil {
		return nil, err
	}
	a, err := r.personAccess(ctx, p, id)
	if err != nil {
		return nil, err
	}
	if !a.home && a.person.UnitPath != "" {
		return nil, notFound("person", id)
	}
	return a, nil
}

// Export gathers everything held about a person and audits the export.
func (r *Records) Export(ctx context.Context, p *Principal, id, ip string) (*PersonExport, error) {
	a, err := r.erasable(ctx, p, id)
	if err != nil {
		return nil, err
	}
	pr := a.person
	out := &PersonExport{Format: ExportFormat, ExportedAt: r.now(), ExportedBy: p.StaffID, Scope: p.UnitID,
		Person: ExportedPerson{ID: pr.ID, UnitID: pr.UnitID, Name: unseal(pr.Name), Phone: unseal(pr.Phone), StudentNo: unseal(pr.StudentNo),
			Sex: pr.Sex, BirthMonth: pr.BirthMonth, Age: pr.Age, Anonymised: pr.Anonymised, CreatedAt: pr.CreatedAt, UpdatedAt: pr.UpdatedAt},
		Identities: []ExportedIdentity{}, AccessCodes: []ExportedCode{}, Sessions: []ExportedSession{}, Warnings: []ExportedWarning{},
		Cases: []CaseRecord{}, Referrals: []ReferralRecord{}, Audit: []ExportedAudit{}}
	if pr.SchoolID != "" {
		m := &RosterMembership{SchoolID: pr.SchoolID, UnitID: pr.UnitID}
		if u, err := r.store.GetUnit(ctx, pr.SchoolID); err == nil {
			m.SchoolName = u.Name
		}
		if u, err := r.store.GetUnit(ctx, pr.UnitID); err == nil {
			m.UnitName = u.Name
		}
		out.Roster = m
	}
	links, err := r.store.ListIdentities(ctx, id)
	if err != nil {
		return nil, err
	}
	for _, l := range links {
		out.Identities = append(out.Identities, ExportedIdentity{Kind: l.Kind, CreatedAt: l.CreatedAt})
	}
	codes, err := r.store.ListPersonAccessCodes(ctx, id)
	if err != nil {
		return nil, err
	}
	for _, c := range codes {
		if a.visible(c.UnitPath) {
			out.AccessCodes = append(out.AccessCodes, ExportedCode{Code: c.Code, CampaignID: c.CampaignID, UnitID: c.UnitID, SessionID: c.SessionID, CreatedAt: c.CreatedAt})
		}
	}
	targets := []string{id} // audit lines about the person and each record below
	if err := r.exportSessions(ctx, a, out, &targets); err != nil {
		return nil, err
	}
	warnings, err := collect(func(pg store.Page) ([]store.Warning, string, error) {
		return r.store.ListWarnings(ctx, store.WarningFilter{PersonID: id}, pg)
	})
	if err != nil {
		return nil, err
	}
	for _, w := range warnings {
		if !a.visible(w.UnitPath) {
			continue
		}
		full, err := r.store.GetWarning(ctx, w.ID)
		if err != nil {
			return nil, err
		}
		ew := ExportedWarning{WarningRecord: warningRecord(full), History: []ExportedEvent{}}
		for _, e := range full.History {
			ew.History = append(ew.History, ExportedEvent{At: e.At, ActorID: e.ActorID, Kind: e.Kind, From: string(e.From), To: string(e.To),
				Note: e.Note, Outcome: e.Outcome, UnitID: e.UnitID})
		}
		out.Warnings = append(out.Warnings, ew)
		targets = append(targets, w.ID)
	}
	cases, err := collect(func(pg store.Page) ([]store.Case, string, error) {
		return r.store.ListCases(ctx, store.CaseFilter{PersonID: id}, pg)
	})
	if err != nil {
		return nil, err
	}
	for _, c := range cases {
		if a.visible(c.UnitPath) {
			out.Cases = append(out.Cases, caseRecord(c))
			targets = append(targets, c.ID)
		}
	}
	refs, err := collect(func(pg store.Page) ([]store.Referral, string, error) {
		return r.store.ListReferrals(ctx, store.ReferralFilter{PersonID: id}, pg)
	})
	if err != nil {
		return nil, err
	}
	for _, ref := range refs {
		if a.visible(ref.ToUnitPath) || a.visible(ref.FromUnitPath) {
			out.Referrals = append(out.Referrals, referralRecord(ref))
			targets = append(targets, ref.ID)
		}
	}
	if out.Callbacks, out.Bookings, err = r.handoffOf(ctx, a, id); err != nil {
		return nil, err
	}
	for _, b := range out.Bookings {
		targets = append(targets, b.ID)
	}
	absences, err := r.store.ListAbsences(ctx, store.AbsenceFilter{PersonID: id})
	if err != nil {
		return nil, err
	}
	for _, ab := range absences {
		if a.visible(ab.UnitPath) {
			out.Absences = append(out.Absences, ExportedAbsence{CampaignID: ab.CampaignID, Reason: unseal(ab.Reason), UpdatedAt: ab.UpdatedAt})
		}
	}
	if out.Meetings, err = r.meetingsOf(ctx, a, id, ""); err != nil {
		return nil, err
	}
	for _, m := range out.Meetings {
		targets = append(targets, m.ID)
	}
	for _, target := range targets {
		entries, err := collect(func(pg store.Page) ([]store.AuditEntry, string, error) {
			return r.store.ListAudit(ctx, store.AuditFilter{TargetID: target}, pg)
		})
		if err != nil {
			return nil, err
		}
		for _, e := range entries {
			out.Audit = append(out.Audit, ExportedAudit{At: e.At, ActorID: e.ActorID, Action: e.Action, TargetKind: e.TargetKind, TargetID: e.TargetID, Detail: e.Detail})
		}
	}
	if err := r.auditDisclosure(ctx, auditBy(p, "export_person", "person", id, auditPath(a, p), ip,
		"sessions "+strconv.Itoa(len(out.Sessions))+", warnings "+strconv.Itoa(len(out.Warnings))+", cases "+strconv.Itoa(len(out.Cases)))); err != nil {
		return nil, err
	}
	return out, nil
}

func (r *Records) exportSessions(ctx context.Context, a *access, out *PersonExport, targets *[]string) error {
	id := a.person.ID
	sessions, err := collect(func(pg store.Page) ([]store.Session, string, error) {
		return r.store.ListSessions(ctx, store.SessionFilter{PersonID: id}, pg)
	})
	if err != nil {
		return err
	}
	results, err := collect(func(pg store.Page) ([]store.Result, string, error) {
		return r.store.ListResults(ctx, store.ResultFilter{PersonID: id}, pg)
	})
	if err != nil {
		return err
	}
	for _, s := range sessions {
		if !a.visible(s.UnitPath) {
			continue
		}
		answers, err := r.store.ListAnswers(ctx, s.ID)
		if err != nil {
			return err
		}
		es := ExportedSession{ID: s.ID, CampaignID: s.CampaignID, UnitID: s.UnitID, Instruments: s.Instruments, Sex: s.Sex, Age: s.Age,
			Consent: s.Consent, Locale: s.Locale, State: string(s.State), CreatedAt: s.CreatedAt, LastActiveAt: s.LastActiveAt,
			SubmittedAt: s.SubmittedAt, Answers: []ExportedAnswer{}, Results: []ExportedResult{}}
		for _, an := range answers {
			es.Answers = append(es.Answers, ExportedAnswer{Item: an.Item, Value: an.Value, At: an.At})
		}
		for _, res := range results {
			if res.SessionID != s.ID {
				continue
			}
			flags := res.Flags
			if flags == nil {
				flags = []string{}
			}
			er := ExportedResult{ResultRecord: ResultRecord{ID: res.ID, SessionID: res.SessionID, CampaignID: res.CampaignID, UnitID: res.UnitID,
				Instrument: res.Instrument, Version: res.Version, At: res.CreatedAt, Scores: res.Scores, Bands: res.Bands, Flags: flags}}
			if json.Valid(res.Payload) {
				er.Detail = res.Payload
			}
			es.Results = append(es.Results, er)
		}
		out.Sessions = append(out.Sessions, es)
		*targets = append(*targets, s.ID)
	}
	return nil
}

func auditPath(a *access, p *Principal) string {
	if a.person.UnitPath != "" {
		return a.person.UnitPath
	}
	return p.UnitPath // a resident of no unit: the reader's subtree owns the entry
}

// Erasure modes. Anonymise removes who the person is; delete also removes
// what they answered item by item. Neither removes a scored result, a
// queue entry, a case or a referral as a row: those are the service's own
// record and the statistics count them, so monthly figures, unit summaries
// and campaign reports give the same numbers afterwards.
const (
	EraseAnonymise = "anonymise"
	EraseDelete    = "delete"
)

// ErasureRequest asks to erase a person. Reason is kept in the audit log;
// Confirm must repeat the person's id, so that a stray click cannot erase
// the wrong record.
type ErasureRequest struct {
	Mode    string
	Reason  string
	Confirm string
}

// ErasureView reports an erasure.
type ErasureView struct {
	Person  PersonBasics  `json:"person"`
	Mode    string        `json:"mode"`
	Removed ErasureCounts `json:"removed"`
	At      time.Time     `json:"at"`
}

// ErasureCounts is what an erasure removed.
type ErasureCounts struct {
	IdentityLinks int `json:"identity_links"`
	AccessCodes   int `json:"access_codes"`
	CaseTexts     int `json:"case_texts"`
	ReferralNotes int `json:"referral_notes"`
	SessionTokens int `json:"session_tokens"`
	Answers       int `json:"answers"`
}

// Erase anonymises or deletes a person (see EraseAnonymise, EraseDelete).
// Anonymising someone already anonymised is a conflict; delete may follow
// an anonymisation, and repeating it removes nothing more.
func (r *Records) Erase(ctx context.Context, p *Principal, id string, req ErasureRequest, ip string) (*ErasureView, error) {
	a, err := r.erasable(ctx, p, id)
	if err != nil {
		return nil, err
	}
	if req.Mode == "" {
		req.Mode = EraseAnonymise
	}
	if req.Mode != EraseAnonymise && req.Mode != EraseDelete {
		return nil, errorf(CodeValidation, "mode", "mode is anonymise or delete")
	}
	req.Reason = strings.TrimSpace(req.Reason)
	if req.Reason == "" || utf8.RuneCountInString(req.Reason) > 500 {
		return nil, errorf(CodeValidation, "reason", "give the reason for the erasure (up to 500 characters); it is kept in the audit log")
	}
	if req.Confirm != id {
		return nil, errorf(CodeValidation, "confirm", "confirm must repeat the person's id")
	}
	if a.person.Anonymised && req.Mode == EraseAnonymise {
		return nil, errorf(CodeConflict, "", "person %s is already anonymised", id)
	}
	now := r.now()
	age := a.person.Age
	if age == 0 && a.person.BirthMonth != "" {
		age = ageAt(a.person.BirthMonth, now)
	}
	outcome, err := r.store.ErasePerson(ctx, store.Erasure{PersonID: id, At: now, Age: age, DropAnswers: req.Mode == EraseDelete})
	if errors.Is(err, store.ErrNotFound) {
		return nil, notFound("person", id)
	}
	if err != nil {
		return nil, err
	}
	r.auditAction(ctx, auditBy(p, "person_"+req.Mode, "person", id, auditPath(a, p), ip, req.Reason))
	after, err := r.store.GetPerson(ctx, id)
	if err != nil {
		return nil, err
	}
	return &ErasureView{Person: r.basics(after), Mode: req.Mode, At: now, Removed: ErasureCounts{
		IdentityLinks: outcome.Identities, AccessCodes: outcome.AccessCodes, CaseTexts: outcome.Cases,
		ReferralNotes: outcome.Referrals, SessionTokens: outcome.Sessions, Answers: outcome.Answers}}, nil
}
