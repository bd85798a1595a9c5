package assess

import (
	"context"
	"errors"
	"slices"
	"time"

	"xinling/store"
)

// What happens after a screening (issue 17): a school's case conference
// (研判) on a flagged pupil, and its meetings with the pupil's parents
// (家校沟通). They are part of the person's record, and follow its rules
// (see Records): only the roles that keep records read or write them, a
// person outside the principal's reach is not found, every read is a
// disclosure and every write an action in the audit log. Free text is
// sealed at rest by store/sealed.

// Meeting kinds, as the API names them.
const (
	KindConference    = string(store.MeetingConference)
	KindParentMeeting = string(store.MeetingParent)
)

// MeetingRecord is a conference or parent meeting as staff read it.
type MeetingRecord struct {
	ID        string    `json:"id"`
	Kind      string    `json:"kind"` // conference, parent
	PersonID  string    `json:"person_id"`
	CaseID    string    `json:"case_id,omitempty"`
	WarningID string    `json:"warning_id,omitempty"`
	UnitID    string    `json:"unit_id"`
	Date      time.Time `json:"date"`
	Attendees string    `json:"attendees"`
	Decision  string    `json:"decision,omitempty"`
	Agreed    string    `json:"agreed"`
	Notes     string    `json:"notes"`
	AuthorID  string    `json:"author_id"`
	CreatedAt time.Time `json:"created_at"`
}

func meetingRecord(m store.Meeting) MeetingRecord {
	return MeetingRecord{ID: m.ID, Kind: string(m.Kind), PersonID: m.PersonID, CaseID: m.CaseID, WarningID: m.WarningID, UnitID: m.UnitID,
		Date: m.Date, Attendees: unseal(m.Attendees), Decision: m.Decision, Agreed: unseal(m.Agreed), Notes: unseal(m.Notes),
		AuthorID: m.AuthorID, CreatedAt: m.CreatedAt}
}

// NewMeeting is a conference or parent meeting to record. UnitID defaults
// to the author's unit; Date (when it was held) to now.
type NewMeeting struct {
	Kind      string
	PersonID  string
	CaseID    string
	WarningID string
	UnitID    string
	Date      time.Time
	Attendees string
	Decision  string
	Agreed    string
	Notes     string
}

// CreateMeeting records a meeting about a person the principal may open.
// A case or queue entry it names must be the person's and visible to the
// principal.
func (r *Records) CreateMeeting(ctx context.Context, p *Principal, in NewMeeting, ip string) (*MeetingRecord, error) {
	if err := requireRecords(p); err != nil {
		return nil, err
	}
	switch in.Kind {
	case KindConference:
		if !slices.Contains(store.MeetingDecisions, in.Decision) {
			return nil, errorf(CodeValidation, "decision", "a case conference records its decision: monitor, parent_meeting, referral or other")
		}
	case KindParentMeeting:
		if in.Decision != "" {
			return nil, errorf(CodeValidation, "decision", "a parent meeting records what was agreed, not a decision")
		}
	default:
		return nil, errorf(CodeValidation, "kind", "kind is conference or parent")
	}
	a, err := r.personAccess(ctx, p, in.PersonID)
	if err != nil {
		return nil, withField(err, "person_id")
	}
	if in.CaseID != "" {
		c, err := r.store.GetCase(ctx, in.CaseID)
		if errors.Is(err, store.ErrNotFound) || (err == nil && !a.visible(c.UnitPath)) {
			return nil, errorf(CodeNotFound, "case_id", "no case %q", in.CaseID)
		}
		if err != nil {
			return nil, err
		}
		if c.PersonID != in.PersonID {
			return nil, errorf(CodeValidation, "case_id", "case %q is about another person", in.CaseID)
		}
		if in.WarningID == "" {
			in.WarningID = c.WarningID
		}
	}
	if in.WarningID != "" {
		if err := r.entryAbout(ctx, a, in.WarningID, in.PersonID, false); err != nil {
			return nil, err
		}
	}
	if in.UnitID == "" {
		in.UnitID = p.UnitID
	} else if _, err := unitIn(ctx, r.store, p, in.UnitID, "unit_id"); err != nil {
		return nil, err
	}
	now := r.now()
	if in.Date.IsZero() {
		in.Date = now
	}
	if in.Date.After(now.Add(time.Minute)) {
		return nil, errorf(CodeValidation, "date", "a meeting record says what a meeting that took place decided; date is in the future")
	}
	m, err := r.store.CreateMeeting(ctx, store.Meeting{ID: store.NewID(), Kind: store.MeetingKind(in.Kind), PersonID: in.PersonID,
		CaseID: in.CaseID, WarningID: in.WarningID, UnitID: in.UnitID, Date: in.Date, Attendees: seal(in.Attendees),
		Decision: in.Decision, Agreed: seal(in.Agreed), Notes: seal(in.Notes), AuthorID: p.StaffID, CreatedAt: now})
	if err != nil {
		return nil, err
	}
	r.auditAction(ctx, auditBy(p, "meeting_create", "meeting", m.ID, m.UnitPath, ip, in.Kind+" person "+m.PersonID))
	v := meetingRecord(m)
	return &v, nil
}

// Meeting returns one meeting the principal may see and audits the read.
func (r *Records) Meeting(ctx context.Context, p *Principal, id, ip string) (*MeetingRecord, error) {
	if err := requireRecords(p); err != nil {
		return nil, err
	}
	m, err := r.store.GetMeeting(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, notFound("meeting", id)
	}
	if err != nil {
		return nil, err
	}
	a, err := r.personAccess(ctx, p, m.PersonID)
	if err != nil || !a.visible(m.UnitPath) {
		var e *Error
		if err == nil || errors.As(err, &e) {
			return nil, notFound("meeting", id)
		}
		return nil, err
	}
	if err := r.auditDisclosure(ctx, auditBy(p, "read_meeting", "meeting", m.ID, m.UnitPath, ip, "")); err != nil {
		return nil, err
	}
	v := meetingRecord(m)
	return &v, nil
}

// ListMeetings lists a person's meetings that the principal may see,
// oldest first, and audits the read.
func (r *Records) ListMeetings(ctx context.Context, p *Principal, personID, kind string, ip string) ([]MeetingRecord, error) {
	if err := requireRecords(p); err != nil {
		return nil, err
	}
	if kind != "" && kind != KindConference && kind != KindParentMeeting {
		return nil, errorf(CodeValidation, "kind", "kind is conference or parent")
	}
	if personID == "" {
		return nil, errorf(CodeValidation, "person", "person is required")
	}
	a, err := r.personAccess(ctx, p, personID)
	if err != nil {
		return nil, withField(err, "person")
	}
	out, err := r.meetingsOf(ctx, a, personID, store.MeetingKind(kind))
	if err != nil {
		return nil, err
	}
	if err := r.auditDisclosure(ctx, auditBy(p, "list_meetings", "person", personID, auditPath(a, p), ip, "")); err != nil {
		return nil, err
	}
	return out, nil
}

// meetingsOf is what a person's record shows of their meetings.
func (r *Records) meetingsOf(ctx context.Context, a *access, personID string, kind store.MeetingKind) ([]MeetingRecord, error) {
	ms, err := collect(func(pg store.Page) ([]store.Meeting, string, error) {
		return r.store.ListMeetings(ctx, store.MeetingFilter{PersonID: personID, Kind: kind}, pg)
	})
	if err != nil {
		return nil, err
	}
	out := []MeetingRecord{}
	for _, m := range ms {
		if a.visible(m.UnitPath) {
			out = append(out, meetingRecord(m))
		}
	}
	return out, nil
}
