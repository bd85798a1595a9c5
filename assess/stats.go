package assess

import (
	"context"
	"slices"
	"strings"
	"time"

	"xinling/store"
)

// Activity types of the monthly table.
var ActivityTypes = []string{"publicity", "lecture", "clinic"}

// Stats builds the monthly service statistics (心理健康服务情况月统计表)
// and records the outreach activities that feed it.
type Stats struct {
	*shared
}

// canSeeStats: every role but teachers, whose view is their classes.
func canSeeStats(p *Principal) error {
	if p.Role == store.RoleTeacher {
		return errorf(CodeForbidden, "", "teachers see their classes' campaign reports")
	}
	return nil
}

// NewActivity is an outreach event to record.
type NewActivity struct {
	UnitID    string
	Date      time.Time
	Type      string
	Reached   int
	Materials int
	Note      string
}

// AddActivity records a publicity event, lecture or free clinic held by a
// unit in the principal's subtree.
func (s *Stats) AddActivity(ctx context.Context, p *Principal, a NewActivity) (store.Activity, error) {
	if p.Role != store.RoleAdmin && p.Role != store.RoleCounsellor && p.Role != store.RoleSchoolPsychologist {
		return store.Activity{}, errorf(CodeForbidden, "", "only counsellors, school psychologists and administrators record activities")
	}
	if !slices.Contains(ActivityTypes, a.Type) {
		return store.Activity{}, errorf(CodeValidation, "type", "type is publicity, lecture or clinic")
	}
	if a.Reached < 0 || a.Materials < 0 {
		return store.Activity{}, errorf(CodeValidation, "reached", "counts cannot be negative")
	}
	if _, err := unitIn(ctx, s.store, p, a.UnitID, "unit_id"); err != nil {
		return store.Activity{}, err
	}
	return s.store.AddActivity(ctx, store.Activity{ID: store.NewID(), UnitID: a.UnitID, Date: a.Date, Type: a.Type,
		Reached: a.Reached, Materials: a.Materials, Note: a.Note, CreatedBy: p.StaffID, CreatedAt: s.now()})
}

// MonthlyRow is one line of the monthly table: a sub-unit and everything
// below it, or the total.
type MonthlyRow struct {
	UnitID string `json:"unit_id"`
	Name   string `json:"name"`
	// CounsellingCases is the table's 辅导人次数: case records, plus the
	// call-backs made and the bookings kept that no case record counts
	// (CallbacksMade and BookingsKept say how many of each).
	CounsellingCases int            `json:"counselling_cases"`
	CallbacksMade    int            `json:"callbacks_made"`
	BookingsKept     int            `json:"bookings_kept"`
	PublicityEvents  int            `json:"publicity_events"`
	PublicityReached int            `json:"publicity_reached"`
	Lectures         int            `json:"lectures"`
	LectureAttendees int            `json:"lecture_attendees"`
	Clinics          int            `json:"clinics"`
	ClinicAttendees  int            `json:"clinic_attendees"`
	Materials        int            `json:"materials"`
	Assessments      int            `json:"assessments"`
	WarningsByLevel  map[string]int `json:"warnings_by_level"`
	Referrals        int            `json:"referrals"`
	CasesClosed      int            `json:"cases_closed"`
	// Conferences (研判) and ParentMeetings (家校沟通) are the schools'
	// follow-up of flagged pupils (issue 17). The table has no row of its
	// own for them and they are not counselling sessions with the person,
	// so they are counted beside 辅导人次数 and not in it; a conference's
	// referral decision is counted when the referral is sent.
	Conferences    int `json:"conferences"`
	ParentMeetings int `json:"parent_meetings"`
	unitPath       string
}

// Monthly is the table for one month: a row per direct sub-unit of unit
// (each counting its whole subtree; the unit's own figures are a row too),
// then the total.
type Monthly struct {
	UnitID string       `json:"unit_id"`
	Month  string       `json:"month"`
	Rows   []MonthlyRow `json:"rows"`
	Total  MonthlyRow   `json:"total"`
}

// Monthly builds the table for month ("2026-11") over unit's subtree.
func (s *Stats) Monthly(ctx context.Context, p *Principal, unitID, month string) (*Monthly, error) {
	if err := canSeeStats(p); err != nil {
		return nil, err
	}
	if unitID == "" {
		unitID = p.UnitID
	}
	top, err := unitIn(ctx, s.store, p, unitID, "unit")
	if err != nil {
		return nil, err
	}
	from, err := time.ParseInLocation("2006-01", month, chinaTime)
	if err != nil {
		return nil, errorf(CodeValidation, "month", "month is written 2026-11")
	}
	to := from.AddDate(0, 1, 0)
	counts, err := s.store.UnitCounts(ctx, top.Path, from, to)
	if err != nil {
		return nil, err
	}
	units, err := s.store.ListUnits(ctx, top.Path)
	if err != nil {
		return nil, err
	}
	rows := []MonthlyRow{newRow(top.ID, top.Name+"（本级）", top.Path)}
	for _, u := range units {
		if u.ParentID == top.ID {
			rows = append(rows, newRow(u.ID, u.Name, u.Path))
		}
	}
	paths := map[string]string{}
	for _, u := range units {
		paths[u.ID] = u.Path
	}
	handoff, err := s.store.HandoffCounts(ctx, top.Path, from, to)
	if err != nil {
		return nil, err
	}
	total := newRow(top.ID, "合计 Total", top.Path)
	rowOf := func(unitID string) *MonthlyRow {
		path := paths[unitID]
		row := &rows[0] // the unit's own figures
		for i := 1; i < len(rows); i++ {
			if strings.HasPrefix(path, rows[i].unitPath) {
				row = &rows[i]
			}
		}
		return row
	}
	for _, c := range counts {
		for _, r := range []*MonthlyRow{rowOf(c.UnitID), &total} {
			r.add(c)
		}
	}
	for _, c := range handoff {
		for _, r := range []*MonthlyRow{rowOf(c.UnitID), &total} {
			r.addHandoff(c)
		}
	}
	meetings, err := s.store.MeetingCounts(ctx, top.Path, from, to)
	if err != nil {
		return nil, err
	}
	for _, c := range meetings {
		for _, r := range []*MonthlyRow{rowOf(c.UnitID), &total} {
			r.Conferences += c.Conferences
			r.ParentMeetings += c.ParentMeetings
		}
	}
	return &Monthly{UnitID: top.ID, Month: month, Rows: rows, Total: total}, nil
}

// AuditExport records that p is exporting a table (the log keeps every
// export, aggregate or not, so a leak can be traced). An error means the
// table must not be sent (see AuditDisclosure).
func (s *Stats) AuditExport(ctx context.Context, p *Principal, what, unitID, ip string) error {
	return s.auditExport(ctx, p, what, unitID, ip)
}

func (sh *shared) auditExport(ctx context.Context, p *Principal, what, id, ip string) error {
	return sh.auditDisclosure(ctx, auditBy(p, "export", what, id, p.UnitPath, ip, ""))
}

// chinaTime is the calendar the monthly table follows.
var chinaTime = time.FixedZone("CST", 8*3600)

func newRow(id, name, path string) MonthlyRow {
	return MonthlyRow{UnitID: id, Name: name, unitPath: path, WarningsByLevel: map[string]int{"1": 0, "2": 0, "3": 0}}
}

func (r *MonthlyRow) add(c store.UnitCounts) {
	r.CounsellingCases += c.Cases
	r.PublicityEvents += c.Activities["publicity"]
	r.PublicityReached += c.ActivityReached["publicity"]
	r.Lectures += c.Activities["lecture"]
	r.LectureAttendees += c.ActivityReached["lecture"]
	r.Clinics += c.Activities["clinic"]
	r.ClinicAttendees += c.ActivityReached["clinic"]
	r.Materials += c.MaterialsHandout
	r.Assessments += c.Results
	for l, n := range c.WarningsByLevel {
		r.WarningsByLevel[string(rune('0'+l))] += n
	}
	r.Referrals += c.Referrals
	r.CasesClosed += c.CasesClosed
}

// addHandoff counts a call made to a respondent who asked for one, and a
// booked consultation the resident came to, as counselling sessions
// (辅导人次数): each is a counsellor's session with a person. A booking
// linked to a case record is not in c, since the case counts already.
func (r *MonthlyRow) addHandoff(c store.HandoffCount) {
	r.CallbacksMade += c.CallbacksMade
	r.BookingsKept += c.BookingsKept
	r.CounsellingCases += c.CallbacksMade + c.BookingsKept
}
