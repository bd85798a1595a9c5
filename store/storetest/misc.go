package storetest

import (
	"sync"
	"testing"
	"time"

	"xinling/store"
)

func testReferrals(t *testing.T, s store.Store) {
	tree(t, s)
	w := flagged(t, s, "class1", 1, T0)
	_, err := s.ReferWarning(ctx, w.ID, store.Referral{ID: "r1", ToUnitID: "county2", SenderID: "a", CreatedAt: T0})
	wantErr(t, err, store.ErrInvalidTransition) // not claimed yet
	claimed(t, s, w, "a")
	_, err = s.ReferWarning(ctx, w.ID, store.Referral{ID: "r1", ToUnitID: "county2", SenderID: "b", CreatedAt: T0})
	wantErr(t, err, store.ErrLeaseHeld)
	_, err = s.ReferWarning(ctx, w.ID, store.Referral{ID: "r1", ToUnitID: "nope", SenderID: "a", CreatedAt: T0})
	wantErr(t, err, store.ErrNotFound)
	_, err = s.ReferWarning(ctx, "nope", store.Referral{ID: "r1", ToUnitID: "county2", SenderID: "a", CreatedAt: T0})
	wantErr(t, err, store.ErrNotFound)
	_, err = s.ReferWarning(ctx, w.ID, store.Referral{ToUnitID: "county2", SenderID: "a"})
	wantErr(t, err, store.ErrInvalid)
	r, err := s.ReferWarning(ctx, w.ID, store.Referral{ID: "r1", ToUnitID: "county2", SenderID: "a", Note: store.Sealed("n"), CreatedAt: at(time.Hour)})
	must(t, err)
	if r.State != store.ReferralSent || r.ToUnitPath != "/city/county2/" || r.FromUnitID != "class1" || r.PersonID != w.PersonID {
		t.Fatalf("referral = %+v", r)
	}
	got, err := s.GetWarning(ctx, w.ID)
	must(t, err)
	if got.State != store.WarningReferred || got.History[len(got.History)-1].Kind != store.EventReferred {
		t.Fatalf("warning after referral = %+v", got)
	}
	_, err = s.SetReferralState(ctx, "r1", store.ReferralCompleted, at(2*time.Hour))
	wantErr(t, err, store.ErrInvalidTransition)
	r, err = s.SetReferralState(ctx, "r1", store.ReferralAccepted, at(2*time.Hour))
	must(t, err)
	if r.State != store.ReferralAccepted || !r.UpdatedAt.Equal(at(2*time.Hour)) {
		t.Fatalf("accepted = %+v", r)
	}
	_, err = s.SetReferralState(ctx, "nope", store.ReferralAccepted, T0)
	wantErr(t, err, store.ErrNotFound)
	r, err = s.GetReferral(ctx, "r1")
	must(t, err)
	if string(r.Note) != "n" || r.State != store.ReferralAccepted {
		t.Fatalf("GetReferral = %+v", r)
	}
	_, err = s.GetReferral(ctx, "nope")
	wantErr(t, err, store.ErrNotFound)
	for _, f := range []store.ReferralFilter{{ToUnitPath: "/city/county2/"}, {FromUnitPath: "/city/county/school/"}, {WarningID: w.ID}} {
		rs, _, err := s.ListReferrals(ctx, f, store.Page{})
		must(t, err)
		if len(rs) != 1 {
			t.Fatalf("ListReferrals(%+v) = %d", f, len(rs))
		}
	}
	rs, _, err := s.ListReferrals(ctx, store.ReferralFilter{ToUnitPath: "/city/county/"}, store.Page{})
	must(t, err)
	if len(rs) != 0 {
		t.Fatal("referral leaked into another subtree")
	}
}

func testCases(t *testing.T, s store.Store) {
	tree(t, s)
	p := person(t, s, "class1")
	c, err := s.CreateCase(ctx, store.Case{ID: "c1", PersonID: p.ID, UnitID: "station", CounsellorID: "a",
		SelfEvaluation: store.Sealed("se"), LifeEvents: store.Sealed("le"), GroupNotified: true, At: at(time.Hour), CreatedAt: at(time.Hour)})
	must(t, err)
	if c.UnitPath != "/city/county2/station/" || c.Version != 1 {
		t.Fatalf("CreateCase = %+v", c)
	}
	_, err = s.CreateCase(ctx, store.Case{ID: "c1", PersonID: p.ID, UnitID: "station", CreatedAt: T0})
	wantErr(t, err, store.ErrConflict)
	_, err = s.CreateCase(ctx, store.Case{ID: "c2", PersonID: "nope", UnitID: "station", CreatedAt: T0})
	wantErr(t, err, store.ErrNotFound)
	_, err = s.CreateCase(ctx, store.Case{ID: "c3", PersonID: p.ID, UnitID: "nope", CreatedAt: T0})
	wantErr(t, err, store.ErrNotFound)
	_, err = s.CreateCase(ctx, store.Case{ID: "c4"})
	wantErr(t, err, store.ErrInvalid)
	got, err := s.GetCase(ctx, "c1")
	must(t, err)
	if string(got.SelfEvaluation) != "se" || !got.GroupNotified || !got.At.Equal(at(time.Hour)) {
		t.Fatalf("GetCase = %+v", got)
	}
	_, err = s.GetCase(ctx, "nope")
	wantErr(t, err, store.ErrNotFound)
	got.Advice, got.Closed, got.ClosedAt, got.Outcome, got.UpdatedAt = store.Sealed("adv"), true, at(2*time.Hour), "improved", at(2*time.Hour)
	up, err := s.UpdateCase(ctx, got)
	must(t, err)
	if string(up.Advice) != "adv" || !up.Closed || up.Version != 2 {
		t.Fatalf("UpdateCase = %+v", up)
	}
	_, err = s.UpdateCase(ctx, got)
	wantErr(t, err, store.ErrConflict)
	got.ID = "nope"
	_, err = s.UpdateCase(ctx, got)
	wantErr(t, err, store.ErrNotFound)
	for _, f := range []store.CaseFilter{{UnitPath: "/city/county2/"}, {PersonID: p.ID}} {
		cs, _, err := s.ListCases(ctx, f, store.Page{})
		must(t, err)
		if len(cs) != 1 {
			t.Fatalf("ListCases(%+v) = %d", f, len(cs))
		}
	}
	cs, _, err := s.ListCases(ctx, store.CaseFilter{UnitPath: "/city/county/"}, store.Page{})
	must(t, err)
	if len(cs) != 0 {
		t.Fatal("case leaked into another subtree")
	}
}

func testCampaigns(t *testing.T, s store.Store) {
	tree(t, s)
	c, err := s.CreateCampaign(ctx, store.Campaign{ID: "cp1", Name: "春季筛查", UnitID: "school", UnitIDs: []string{"class1", "class2"},
		Battery: []string{"phq9", "gad7"}, Mode: "roster", Visibility: "thanks", StartsAt: at(time.Hour), EndsAt: at(48 * time.Hour), CreatedAt: T0})
	must(t, err)
	if c.State != store.CampaignDraft || c.UnitPath != "/city/county/school/" {
		t.Fatalf("CreateCampaign = %+v", c)
	}
	_, err = s.CreateCampaign(ctx, store.Campaign{ID: "cp1", UnitID: "school", CreatedAt: T0})
	wantErr(t, err, store.ErrConflict)
	_, err = s.CreateCampaign(ctx, store.Campaign{ID: "cp2", UnitID: "nope", CreatedAt: T0})
	wantErr(t, err, store.ErrNotFound)
	_, err = s.CreateCampaign(ctx, store.Campaign{ID: "cp3"})
	wantErr(t, err, store.ErrInvalid)
	c.Battery, c.UpdatedAt = []string{"phq9", "gad7", "asq"}, at(time.Minute)
	up, err := s.UpdateCampaign(ctx, c)
	must(t, err)
	if len(up.Battery) != 3 || up.Version != 2 {
		t.Fatalf("UpdateCampaign = %+v", up)
	}
	_, err = s.UpdateCampaign(ctx, c)
	wantErr(t, err, store.ErrConflict)
	_, err = s.SetCampaignState(ctx, "cp1", store.CampaignActive, at(time.Hour))
	must(t, err)
	_, err = s.UpdateCampaign(ctx, store.Campaign{ID: "cp1", Version: 3})
	wantErr(t, err, store.ErrInvalidTransition)
	_, err = s.SetCampaignState(ctx, "cp1", store.CampaignDraft, at(time.Hour))
	wantErr(t, err, store.ErrInvalidTransition)
	closed, err := s.SetCampaignState(ctx, "cp1", store.CampaignClosed, at(2*time.Hour))
	must(t, err)
	if closed.State != store.CampaignClosed {
		t.Fatalf("closed = %+v", closed)
	}
	_, err = s.SetCampaignState(ctx, "nope", store.CampaignClosed, T0)
	wantErr(t, err, store.ErrNotFound)
	_, err = s.UpdateCampaign(ctx, store.Campaign{ID: "nope"})
	wantErr(t, err, store.ErrNotFound)
	got, err := s.GetCampaign(ctx, "cp1")
	must(t, err)
	if !eqStrings(got.UnitIDs, []string{"class1", "class2"}) || got.Visibility != "thanks" || !got.EndsAt.Equal(at(48*time.Hour)) {
		t.Fatalf("GetCampaign = %+v", got)
	}
	_, err = s.GetCampaign(ctx, "nope")
	wantErr(t, err, store.ErrNotFound)
	_, err = s.CreateCampaign(ctx, store.Campaign{ID: "cp4", UnitID: "school2", CreatedAt: T0})
	must(t, err)
	list, _, err := s.ListCampaigns(ctx, store.CampaignFilter{UnitPath: "/city/county/school/"}, store.Page{})
	must(t, err)
	if len(list) != 1 || list[0].ID != "cp1" {
		t.Fatalf("ListCampaigns(school) = %+v", list)
	}
	list, _, err = s.ListCampaigns(ctx, store.CampaignFilter{State: store.CampaignDraft}, store.Page{})
	must(t, err)
	if len(list) != 1 || list[0].ID != "cp4" {
		t.Fatalf("ListCampaigns(draft) = %+v", list)
	}
	// A follow-up campaign keeps the campaign it re-tests.
	_, err = s.CreateCampaign(ctx, store.Campaign{ID: "cp-follow", UnitID: "station", Mode: "roster", FollowUpOf: "cp1", CreatedAt: T0})
	must(t, err)
	if f, err := s.GetCampaign(ctx, "cp-follow"); err != nil || f.FollowUpOf != "cp1" {
		t.Fatalf("follow-up campaign = %+v, %v", f, err)
	}
}

func testAccessCodes(t *testing.T, s store.Store) {
	tree(t, s)
	_, err := s.CreateCampaign(ctx, store.Campaign{ID: "cp", UnitID: "school", Mode: "roster", CreatedAt: T0})
	must(t, err)
	// A retake code keeps the result it was issued for.
	_, err = s.CreateCampaign(ctx, store.Campaign{ID: "cp-retake", UnitID: "school", Mode: "roster", CreatedAt: T0})
	must(t, err)
	must(t, s.CreateAccessCodes(ctx, []store.AccessCode{{Code: "RETAKE1", CampaignID: "cp-retake", PersonID: "pC", UnitID: "class1", RetakeOf: "result-1", CreatedAt: at(time.Hour)}}))
	if c, err := s.GetAccessCode(ctx, "RETAKE1"); err != nil || c.RetakeOf != "result-1" {
		t.Fatalf("retake code = %+v, %v", c, err)
	}
	var codes []store.AccessCode
	for i := 0; i < 10; i++ {
		codes = append(codes, store.AccessCode{Code: "K" + string(rune('A'+i)), CampaignID: "cp", PersonID: "p" + string(rune('A'+i)),
			UnitID: "class1", CreatedAt: at(time.Duration(i) * time.Second)})
	}
	must(t, s.CreateAccessCodes(ctx, codes))
	// One taken code rejects the whole set.
	err = s.CreateAccessCodes(ctx, []store.AccessCode{{Code: "NEW1", CampaignID: "cp", UnitID: "class1", CreatedAt: T0},
		{Code: "KA", CampaignID: "cp", UnitID: "class1", CreatedAt: T0}})
	wantErr(t, err, store.ErrConflict)
	_, err = s.GetAccessCode(ctx, "NEW1")
	wantErr(t, err, store.ErrNotFound)
	wantErr(t, s.CreateAccessCodes(ctx, []store.AccessCode{{Code: "X", CampaignID: "nope", UnitID: "class1"}}), store.ErrNotFound)
	wantErr(t, s.CreateAccessCodes(ctx, []store.AccessCode{{Code: "X", CampaignID: "cp", UnitID: "nope"}}), store.ErrNotFound)
	wantErr(t, s.CreateAccessCodes(ctx, []store.AccessCode{{CampaignID: "cp", UnitID: "class1"}}), store.ErrInvalid)

	c, err := s.GetAccessCode(ctx, "KC")
	must(t, err)
	if c.PersonID != "pC" || c.UnitPath != "/city/county/school/class1/" || c.SessionID != "" || c.RetakeOf != "" {
		t.Fatalf("GetAccessCode = %+v", c)
	}

	var got []string
	after := ""
	for {
		page, next, err := s.ListAccessCodes(ctx, "cp", store.Page{After: after, Limit: 3})
		must(t, err)
		for _, c := range page {
			got = append(got, c.Code)
		}
		if next == "" {
			break
		}
		after = next
	}
	if len(got) != 10 || got[0] != "KA" || got[9] != "KJ" {
		t.Fatalf("ListAccessCodes = %v", got)
	}
	// Concurrent starts with one code all resume the same session.
	var wg sync.WaitGroup
	bound := make([]string, 8)
	for i := range bound {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			c, err := s.BindAccessCode(ctx, "KB", store.NewID())
			if err != nil {
				t.Error(err)
				return
			}
			bound[i] = c.SessionID
		}(i)
	}
	wg.Wait()
	for _, b := range bound {
		if b == "" || b != bound[0] {
			t.Fatalf("concurrent binds got different sessions: %v", bound)
		}
	}
	_, err = s.BindAccessCode(ctx, "nope", "s")
	wantErr(t, err, store.ErrNotFound)
	_, err = s.BindAccessCode(ctx, "KB", "")
	wantErr(t, err, store.ErrInvalid)
}

func testInstruments(t *testing.T, s store.Store) {
	d, err := s.SaveInstrumentDraft(ctx, store.InstrumentDoc{ID: "mine", Version: "1.0.0", ContentHash: "a", Source: []byte("v1"), UnitID: "city", CreatedAt: T0})
	must(t, err)
	if d.State != store.InstrumentDraft {
		t.Fatalf("draft = %+v", d)
	}
	_, err = s.SaveInstrumentDraft(ctx, store.InstrumentDoc{ID: "mine", Version: "1.0.0", ContentHash: "b", Source: []byte("v1b"), UnitID: "city", CreatedAt: T0})
	must(t, err)
	// Another unit cannot overwrite the draft.
	_, err = s.SaveInstrumentDraft(ctx, store.InstrumentDoc{ID: "mine", Version: "1.0.0", ContentHash: "x", Source: []byte("theirs"), UnitID: "school", CreatedAt: T0})
	wantErr(t, err, store.ErrConflict)
	_, err = s.RetireInstrument(ctx, "mine", "1.0.0", at(time.Hour))
	wantErr(t, err, store.ErrConflict)
	_, err = s.SetInstrumentPublic(ctx, "mine", "1.0.0", true)
	wantErr(t, err, store.ErrConflict)
	_, err = s.SaveInstrumentDraft(ctx, store.InstrumentDoc{ID: "mine"})
	wantErr(t, err, store.ErrInvalid)
	p, err := s.PublishInstrument(ctx, "mine", "1.0.0", at(time.Hour))
	must(t, err)
	if p.State != store.InstrumentPublished || p.ContentHash != "b" || string(p.Source) != "v1b" || !p.PublishedAt.Equal(at(time.Hour)) {
		t.Fatalf("published = %+v", p)
	}
	_, err = s.SaveInstrumentDraft(ctx, store.InstrumentDoc{ID: "mine", Version: "1.0.0", Source: []byte("changed"), UnitID: "city", CreatedAt: T0})
	wantErr(t, err, store.ErrImmutable)
	_, err = s.PublishInstrument(ctx, "mine", "1.0.0", at(time.Hour))
	wantErr(t, err, store.ErrImmutable)
	_, err = s.PublishInstrument(ctx, "mine", "9.9.9", at(time.Hour))
	wantErr(t, err, store.ErrNotFound)
	got, err := s.GetInstrument(ctx, "mine", "1.0.0")
	must(t, err)
	if string(got.Source) != "v1b" {
		t.Fatalf("published source changed: %q", got.Source)
	}
	_, err = s.GetInstrument(ctx, "mine", "2.0.0")
	wantErr(t, err, store.ErrNotFound)
	_, err = s.SaveInstrumentDraft(ctx, store.InstrumentDoc{ID: "mine", Version: "1.1.0", Source: []byte("v2"), UnitID: "city", CreatedAt: T0})
	must(t, err)
	_, err = s.SaveInstrumentDraft(ctx, store.InstrumentDoc{ID: "other", Version: "1.0.0", Source: []byte("o"), CreatedAt: T0})
	must(t, err)
	list, err := s.ListInstruments(ctx, store.InstrumentFilter{ID: "mine"})
	must(t, err)
	if len(list) != 2 || list[0].Version != "1.0.0" || list[1].Version != "1.1.0" || list[0].Source != nil {
		t.Fatalf("ListInstruments = %+v", list)
	}
	list, err = s.ListInstruments(ctx, store.InstrumentFilter{State: store.InstrumentPublished})
	must(t, err)
	if len(list) != 1 {
		t.Fatalf("published list = %+v", list)
	}

	pub, err := s.SetInstrumentPublic(ctx, "mine", "1.0.0", true)
	must(t, err)
	if !pub.Public || pub.State != store.InstrumentPublished {
		t.Fatalf("SetInstrumentPublic = %+v", pub)
	}
	ret, err := s.RetireInstrument(ctx, "mine", "1.0.0", at(2*time.Hour))
	must(t, err)
	if ret.State != store.InstrumentRetired || !ret.RetiredAt.Equal(at(2*time.Hour)) || !ret.Public {
		t.Fatalf("RetireInstrument = %+v", ret)
	}
	_, err = s.RetireInstrument(ctx, "mine", "1.0.0", at(3*time.Hour))
	wantErr(t, err, store.ErrImmutable)
	_, err = s.RetireInstrument(ctx, "mine", "7.0.0", at(3*time.Hour))
	wantErr(t, err, store.ErrNotFound)
	_, err = s.SaveInstrumentDraft(ctx, store.InstrumentDoc{ID: "mine", Version: "1.0.0", Source: []byte("again"), UnitID: "city", CreatedAt: T0})
	wantErr(t, err, store.ErrImmutable)
	_, err = s.PublishInstrument(ctx, "mine", "1.0.0", at(time.Hour))
	wantErr(t, err, store.ErrImmutable)
	got, err = s.GetInstrument(ctx, "mine", "1.0.0")
	must(t, err)
	if got.State != store.InstrumentRetired || string(got.Source) != "v1b" || !got.Public || got.ContentHash != "b" {
		t.Fatalf("retired version = %+v", got)
	}
	list, err = s.ListInstruments(ctx, store.InstrumentFilter{State: store.InstrumentRetired})
	must(t, err)
	if len(list) != 1 || list[0].Version != "1.0.0" || !list[0].Public {
		t.Fatalf("retired list = %+v", list)
	}
}

func testAudit(t *testing.T, s store.Store) {
	for i := 0; i < 7; i++ {
		actor := "a"
		if i%2 == 1 {
			actor = "b"
		}
		must(t, s.AppendAudit(ctx, store.AuditEntry{At: at(time.Duration(i) * time.Minute), ActorID: actor, Action: "read_person",
			TargetKind: "person", TargetID: "p1", IP: "10.0.0.1", Detail: "record"}))
	}
	wantErr(t, s.AppendAudit(ctx, store.AuditEntry{At: T0}), store.ErrInvalid)
	must(t, s.AppendAudit(ctx, store.AuditEntry{ID: "fixed", At: T0, Action: "login"}))
	wantErr(t, s.AppendAudit(ctx, store.AuditEntry{ID: "fixed", At: T0, Action: "login"}), store.ErrConflict)
	list, _, err := s.ListAudit(ctx, store.AuditFilter{ActorID: "b"}, store.Page{})
	must(t, err)
	if len(list) != 3 {
		t.Fatalf("audit by actor = %d", len(list))
	}
	list, _, err = s.ListAudit(ctx, store.AuditFilter{TargetID: "p1", From: at(2 * time.Minute), To: at(5 * time.Minute)}, store.Page{})
	must(t, err)
	if len(list) != 3 || !list[0].At.Equal(at(2*time.Minute)) || list[0].IP != "10.0.0.1" {
		t.Fatalf("audit by target and time = %+v", list)
	}
	n := 0
	after := ""
	for {
		page, next, err := s.ListAudit(ctx, store.AuditFilter{}, store.Page{After: after, Limit: 3})
		must(t, err)
		n += len(page)
		if next == "" {
			break
		}
		after = next
	}
	if n != 8 {
		t.Fatalf("paged %d audit entries, want 8", n)
	}
}

func testActivitiesAndCounts(t *testing.T, s store.Store) {
	tree(t, s)
	month := func(d int) time.Time { return time.Date(2026, 3, d, 10, 0, 0, 0, time.UTC) }
	for i, a := range []store.Activity{
		{UnitID: "station", Type: "publicity", Reached: 100, Materials: 50, Date: month(2)},
		{UnitID: "station", Type: "lecture", Reached: 40, Date: month(5)},
		{UnitID: "station", Type: "lecture", Reached: 30, Materials: 10, Date: month(9)},
		{UnitID: "school", Type: "clinic", Reached: 12, Date: month(9)},
		{UnitID: "station", Type: "clinic", Reached: 5, Date: time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)}, // next month
	} {
		a.ID, a.CreatedAt = "act"+string(rune('A'+i)), a.Date
		got, err := s.AddActivity(ctx, a)
		must(t, err)
		if got.UnitPath == "" {
			t.Fatal("activity without path")
		}
	}
	_, err := s.AddActivity(ctx, store.Activity{ID: "x", UnitID: "nope", Type: "lecture"})
	wantErr(t, err, store.ErrNotFound)
	_, err = s.AddActivity(ctx, store.Activity{ID: "y", UnitID: "station"})
	wantErr(t, err, store.ErrInvalid)
	from, to := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)
	acts, _, err := s.ListActivities(ctx, store.ActivityFilter{UnitPath: "/city/county2/", From: from, To: to}, store.Page{})
	must(t, err)
	if len(acts) != 3 {
		t.Fatalf("ListActivities = %d, want 3", len(acts))
	}

	w := flagged(t, s, "class1", 1, month(3))
	flagged(t, s, "class1", 2, month(4))
	claimed(t, s, w, "a")
	_, err = s.ReferWarning(ctx, w.ID, store.Referral{ID: "r", ToUnitID: "county", SenderID: "a", CreatedAt: month(6)})
	must(t, err)
	c, err := s.CreateCase(ctx, store.Case{ID: "c", PersonID: w.PersonID, UnitID: "station", At: month(7), CreatedAt: month(7)})
	must(t, err)
	c.Closed, c.ClosedAt = true, month(8)
	_, err = s.UpdateCase(ctx, c)
	must(t, err)

	counts, err := s.UnitCounts(ctx, "/city/", from, to)
	must(t, err)
	by := map[string]store.UnitCounts{}
	for _, c := range counts {
		by[c.UnitID] = c
	}
	st, cl, sc := by["station"], by["class1"], by["school"]
	if st.Activities["lecture"] != 2 || st.ActivityReached["lecture"] != 70 || st.Activities["publicity"] != 1 ||
		st.MaterialsHandout != 60 || st.Activities["clinic"] != 0 || st.Cases != 1 || st.CasesClosed != 1 {
		t.Fatalf("station counts = %+v", st)
	}
	if cl.Results != 2 || cl.WarningsByLevel[1] != 1 || cl.WarningsByLevel[2] != 1 || cl.Referrals != 1 {
		t.Fatalf("class1 counts = %+v", cl)
	}
	if sc.Activities["clinic"] != 1 || sc.ActivityReached["clinic"] != 12 {
		t.Fatalf("school counts = %+v", sc)
	}
	counts, err = s.UnitCounts(ctx, "/city/county2/", from, to)
	must(t, err)
	if len(counts) != 1 || counts[0].UnitID != "station" {
		t.Fatalf("subtree counts leaked: %+v", counts)
	}
}

func testLifecycle(t *testing.T, s store.Store) {
	must(t, s.Ping(ctx))
	sess := session(t, s, "", "")
	_, err := s.SaveAnswer(ctx, store.Answer{SessionID: sess.ID, Item: "q1", Seq: 1, At: T0})
	must(t, err)
	must(t, s.Close())
	if _, err := s.SaveAnswer(ctx, store.Answer{SessionID: sess.ID, Item: "q2", Seq: 1, At: T0}); err == nil {
		t.Fatal("write after Close succeeded")
	}
	// Readiness probes keep coming while a server shuts down.
	if err := s.Ping(ctx); err == nil {
		t.Fatal("Ping after Close succeeded")
	}
}
