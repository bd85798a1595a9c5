package store

import (
	"context"
	"fmt"
	"slices"
	"time"
)

// What happens after a screening (issue 17): the school's case conference
// (研判) on a flagged pupil, and its meetings with the pupil's parents
// (家校沟通). Both are records of a person, tied to their case and queue
// entry when there is one. Who attended, what was agreed and the notes are
// free text about the pupil and their family: sealed at rest, blanked by an
// erasure and exported, as store.Personal says.
//
// A meeting record is written once and never changed: it says what a
// meeting decided on its day, and a later meeting that decides otherwise
// is a record of its own. A mistake is corrected by a new record whose
// notes say so.

// MeetingKind tells a case conference from a parent meeting.
type MeetingKind string

const (
	MeetingConference MeetingKind = "conference" // 研判
	MeetingParent     MeetingKind = "parent"     // 家校沟通
)

// Decisions of a case conference.
const (
	DecisionMonitor       = "monitor"        // keep monitoring (持续关注)
	DecisionParentMeeting = "parent_meeting" // meet the parents (约谈家长)
	DecisionReferral      = "referral"       // refer to a hospital (转介医院)
	DecisionOther         = "other"
)

// MeetingDecisions are the decisions a conference may record.
var MeetingDecisions = []string{DecisionMonitor, DecisionParentMeeting, DecisionReferral, DecisionOther}

// Meeting is a case conference or a parent meeting about one person.
type Meeting struct {
	ID        string
	Kind      MeetingKind
	PersonID  string
	CaseID    string // optional: the case the meeting belongs to
	WarningID string // optional: the queue entry it was held on
	UnitID    string // the unit that held it
	UnitPath  string // set by the store
	Date      time.Time
	Attendees Sealed // who attended (names and roles)
	// Decision is a conference's decision, one of MeetingDecisions; a
	// parent meeting has none.
	Decision  string
	Agreed    Sealed // what was agreed (parent meeting) or the plan (conference)
	Notes     Sealed
	AuthorID  string
	CreatedAt time.Time
}

// CheckMeeting reports a meeting no backend may store.
func CheckMeeting(m Meeting) error {
	switch {
	case m.ID == "" || m.PersonID == "" || m.UnitID == "":
		return fmt.Errorf("%w: a meeting needs an id, a person and a unit", ErrInvalid)
	case m.Kind == MeetingConference && !slices.Contains(MeetingDecisions, m.Decision):
		return fmt.Errorf("%w: a conference records one of the decisions %v", ErrInvalid, MeetingDecisions)
	case m.Kind == MeetingParent && m.Decision != "":
		return fmt.Errorf("%w: a parent meeting records no decision", ErrInvalid)
	case m.Kind != MeetingConference && m.Kind != MeetingParent:
		return fmt.Errorf("%w: a meeting is a conference or a parent meeting", ErrInvalid)
	case m.Date.IsZero():
		return fmt.Errorf("%w: a meeting has a date", ErrInvalid)
	}
	return nil
}

// MeetingFilter selects meetings, ordered by date then id.
type MeetingFilter struct {
	UnitPath string
	PersonID string
	CaseID   string
	Kind     MeetingKind
}

// MeetingCount is one unit's meetings in a period (by Date).
type MeetingCount struct {
	UnitID         string
	Conferences    int
	ParentMeetings int
}

// SortMeetingCounts orders counts by unit, as every backend returns them.
func SortMeetingCounts(cs []MeetingCount) {
	sortByUnit(cs, func(x MeetingCount) string { return x.UnitID })
}

// MeetingStore holds case conferences and parent meetings.
type MeetingStore interface {
	// CreateMeeting stores a meeting and fills UnitPath. ErrInvalid (see
	// CheckMeeting), ErrNotFound: no such unit or person. ErrConflict: the
	// id is taken.
	CreateMeeting(ctx context.Context, m Meeting) (Meeting, error)
	GetMeeting(ctx context.Context, id string) (Meeting, error)
	// ListMeetings returns meetings ordered by date, then id.
	ListMeetings(ctx context.Context, f MeetingFilter, p Page) ([]Meeting, string, error)
	// MeetingCounts returns, for every unit under path that held any
	// meeting dated in [from, to), its own counts, ordered by unit.
	MeetingCounts(ctx context.Context, path string, from, to time.Time) ([]MeetingCount, error)
}
