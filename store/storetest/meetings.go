package storetest

import (
	"testing"
	"time"

	"xinling/store"
)

// testMeetings: case conferences and parent meetings are stored as
// written, listed by person, case, kind and subtree in date order, paged,
// refused when malformed, and counted per unit by date for the monthly
// table.
func testMeetings(t *testing.T, s store.Store) {
	tree(t, s)
	p := person(t, s, "class1")
	other := person(t, s, "class3")
	conf := store.Meeting{ID: "m1", Kind: store.MeetingConference, PersonID: p.ID, CaseID: "case-1", WarningID: "w-1", UnitID: "school",
		Date: at(48 * time.Hour), Attendees: store.Sealed("班主任、心理老师"), Decision: store.DecisionReferral,
		Agreed: store.Sealed("建议家长带孩子就医"), Notes: store.Sealed("notes"), AuthorID: "staff1", CreatedAt: at(49 * time.Hour)}
	got, err := s.CreateMeeting(ctx, conf)
	must(t, err)
	if got.UnitPath != "/city/county/school/" {
		t.Fatalf("unit path %q", got.UnitPath)
	}
	read, err := s.GetMeeting(ctx, "m1")
	must(t, err)
	if read.Kind != conf.Kind || read.Decision != conf.Decision || string(read.Attendees) != string(conf.Attendees) ||
		string(read.Agreed) != string(conf.Agreed) || string(read.Notes) != string(conf.Notes) || !read.Date.Equal(conf.Date) ||
		read.CaseID != "case-1" || read.WarningID != "w-1" || read.AuthorID != "staff1" || !read.CreatedAt.Equal(conf.CreatedAt) {
		t.Fatalf("read back %+v", read)
	}
	_, err = s.GetMeeting(ctx, "nope")
	wantErr(t, err, store.ErrNotFound)
	_, err = s.CreateMeeting(ctx, conf)
	wantErr(t, err, store.ErrConflict)

	// Malformed records are refused by every backend alike.
	bad := []store.Meeting{
		{ID: "b1", Kind: store.MeetingConference, PersonID: p.ID, UnitID: "school", Date: T0, Decision: "whatever"},
		{ID: "b2", Kind: store.MeetingParent, PersonID: p.ID, UnitID: "school", Date: T0, Decision: store.DecisionMonitor},
		{ID: "b3", Kind: "visit", PersonID: p.ID, UnitID: "school", Date: T0},
		{ID: "b4", Kind: store.MeetingParent, PersonID: p.ID, UnitID: "school"},
		{ID: "", Kind: store.MeetingParent, PersonID: p.ID, UnitID: "school", Date: T0},
	}
	for _, m := range bad {
		_, err := s.CreateMeeting(ctx, m)
		wantErr(t, err, store.ErrInvalid)
	}
	_, err = s.CreateMeeting(ctx, store.Meeting{ID: "b5", Kind: store.MeetingParent, PersonID: p.ID, UnitID: "no-unit", Date: T0})
	wantErr(t, err, store.ErrNotFound)
	_, err = s.CreateMeeting(ctx, store.Meeting{ID: "b6", Kind: store.MeetingParent, PersonID: "no-person", UnitID: "school", Date: T0})
	wantErr(t, err, store.ErrNotFound)

	// Two parent meetings, one earlier than the conference, and one at
	// another school; the list is in date order whatever the write order.
	for _, m := range []store.Meeting{
		{ID: "m2", Kind: store.MeetingParent, PersonID: p.ID, CaseID: "case-1", UnitID: "class1", Date: at(24 * time.Hour), Attendees: store.Sealed("母亲")},
		{ID: "m3", Kind: store.MeetingParent, PersonID: p.ID, UnitID: "school", Date: at(72 * time.Hour)},
		{ID: "m4", Kind: store.MeetingConference, PersonID: other.ID, UnitID: "school2", Date: at(48 * time.Hour), Decision: store.DecisionMonitor},
	} {
		m.CreatedAt = at(80 * time.Hour)
		_, err := s.CreateMeeting(ctx, m)
		must(t, err)
	}
	ids := func(f store.MeetingFilter, p store.Page) []string {
		t.Helper()
		ms, _, err := s.ListMeetings(ctx, f, p)
		must(t, err)
		var out []string
		for _, m := range ms {
			out = append(out, m.ID)
		}
		return out
	}
	all := store.Page{Limit: 50}
	for _, c := range []struct {
		f    store.MeetingFilter
		want []string
	}{
		{store.MeetingFilter{PersonID: p.ID}, []string{"m2", "m1", "m3"}},
		{store.MeetingFilter{CaseID: "case-1"}, []string{"m2", "m1"}},
		{store.MeetingFilter{Kind: store.MeetingParent}, []string{"m2", "m3"}},
		{store.MeetingFilter{UnitPath: "/city/county/school/"}, []string{"m2", "m1", "m3"}},
		{store.MeetingFilter{UnitPath: "/city/county/school2/"}, []string{"m4"}},
		{store.MeetingFilter{UnitPath: "/city/county2/"}, nil},
	} {
		if got := ids(c.f, all); !eqStrings(got, c.want) {
			t.Errorf("%+v: got %v, want %v", c.f, got, c.want)
		}
	}
	// Paging by (date, id).
	first, next, err := s.ListMeetings(ctx, store.MeetingFilter{UnitPath: "/city/"}, store.Page{Limit: 2})
	must(t, err)
	if len(first) != 2 || next == "" {
		t.Fatalf("first page %d, next %q", len(first), next)
	}
	if got := ids(store.MeetingFilter{UnitPath: "/city/"}, store.Page{Limit: 10, After: next}); !eqStrings(got, []string{"m4", "m3"}) {
		t.Fatalf("second page %v", got)
	}

	// Counts by the meeting's own unit and date in [from, to).
	counts, err := s.MeetingCounts(ctx, "/city/county/", at(24*time.Hour), at(72*time.Hour))
	must(t, err)
	want := []store.MeetingCount{{UnitID: "class1", ParentMeetings: 1}, {UnitID: "school", Conferences: 1}, {UnitID: "school2", Conferences: 1}}
	if len(counts) != len(want) {
		t.Fatalf("counts %+v, want %+v", counts, want)
	}
	for i := range want {
		if counts[i] != want[i] {
			t.Fatalf("counts %+v, want %+v", counts, want)
		}
	}
	counts, err = s.MeetingCounts(ctx, "/city/county2/", time.Time{}, time.Time{})
	must(t, err)
	if len(counts) != 0 {
		t.Fatalf("county2 counts %+v", counts)
	}
}
